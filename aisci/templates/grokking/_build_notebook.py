"""Writes baseline.ipynb for the grokking template: `python _build_notebook.py`.

The notebook is generated so that it stays reproducible and reviewable: edit the cells
here, not in the .ipynb. Parameter defaults come from manifest.toml, so the parameters
cell and the manifest cannot disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).parent
AUTHOR = "template:grokking"  # provenance: cells written by the template

INTRO = """\
# Grokking: delayed generalization on modular arithmetic

A small transformer learns a binary operation modulo a prime $p$ (the parameter `prime`), for
example $(a + b) \\bmod p$, from a random half of the full $p \\times p$ table. It fits the training
equations within a few hundred steps, long before it gets the held-out equations right. With
weight decay, validation accuracy later climbs from near chance to 100 %: the network
*groks* the operation ([Power et al., 2022](https://arxiv.org/abs/2201.02177)). Mechanistic
studies show that, for addition, the generalizing solution computes the sum with Fourier
features of the residues, and that weight decay slowly favours it over the memorizing one
([Nanda et al., 2023](https://arxiv.org/abs/2301.05217);
[Liu et al., 2023](https://arxiv.org/abs/2210.01117)).

The notebook runs in well under a minute on two CPU cores:

1. build every equation `a op b = c (mod p)` and split them into train and validation sets,
2. define a small pre-norm transformer (one block by default) that reads the tokens `[a, b, =]`,
3. train it full-batch with AdamW, evaluating both sets every few steps,
4. write the curve to `history.csv`, plot it to `grokking_curve.png`,
5. record the final metrics with `aisci.record` so that aisci can compare runs.
"""

PARAMETERS_NOTE = """\
## Parameters

The next cell is tagged `parameters`: aisci (through papermill) replaces it to run a variant.

| name | meaning |
|---|---|
{rows}
"""

SETUP = """\
import os

# Idle OpenMP threads sleep instead of spinning; with spinning, a run that shares its cores with
# other processes (parallel experiment nodes) slows down many times over. Must precede `import torch`.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import Image, display
from torch import nn

import aisci

# aisci gives each experiment node its share of the cores ([experiments] threads); two when run by hand
torch.set_num_threads(int(os.environ.get("AISCI_NODE_THREADS", "2")))
torch.manual_seed(seed)
np.random.seed(seed)
"""

DATA_NOTE = """\
## Data: the full operation table

Each equation is three tokens: the residues `a` and `b` (token ids `0 … p-1`) and an `=` sign
(token id `p`); the label is `c = a op b mod p`. The operation itself is not a token: one
run learns one operation. Division means multiplying by the modular inverse
$b^{-1} = b^{p-2} \\bmod p$ (Fermat's little theorem), so it needs a prime modulus and leaves
out $b = 0$.

The seed fixes a random permutation of the table; its first `train_fraction` is the
training set. Addition and multiplication are commutative, so for about half of their held-out
equations the mirrored equation `b op a` is in the training set: the held-out set is not
entirely new to a model that has learned the symmetry. Subtraction and division offer no such
shortcut.
"""

DATA = """\
def is_prime(n: int) -> bool:
    return n >= 2 and all(n % k for k in range(2, int(n ** 0.5) + 1))


def modular_table(operation: str, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    \"\"\"Every pair (a, b) and its label (a op b) mod p.\"\"\"
    a, b = (grid.ravel() for grid in np.meshgrid(np.arange(p), np.arange(p), indexing="ij"))
    if operation == "add":
        c = (a + b) % p
    elif operation == "sub":
        c = (a - b) % p
    elif operation == "mul":
        c = (a * b) % p
    elif operation == "div":
        a, b = a[b != 0], b[b != 0]
        inverse = np.array([pow(int(x), p - 2, p) for x in b])
        c = (a * inverse) % p
    else:
        raise ValueError(f"operation must be add, sub, mul or div, got {operation!r}")
    return a, b, c


if not is_prime(prime):
    raise ValueError(f"prime must be a prime number, got {prime}")
if not 0.0 < train_fraction < 1.0:
    raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
if num_steps < 1:
    raise ValueError(f"num_steps must be at least 1, got {num_steps}")

a, b, c = modular_table(operation, prime)
equals = np.full_like(a, prime)  # the "=" token
inputs = torch.tensor(np.stack([a, b, equals], axis=1), dtype=torch.long)
labels = torch.tensor(c, dtype=torch.long)

order = torch.tensor(np.random.default_rng(seed).permutation(len(labels)))
n_train = min(max(1, round(train_fraction * len(labels))), len(labels) - 1)
train_x, train_y = inputs[order[:n_train]], labels[order[:n_train]]
val_x, val_y = inputs[order[n_train:]], labels[order[n_train:]]
print(f"{operation} mod {prime}: {len(labels)} equations, {len(train_y)} for training, {len(val_y)} held out")
"""

MODEL_NOTE = """\
## Model: a small pre-norm transformer

Token and position embeddings feed `n_layers` pre-norm transformer blocks: multi-head
self-attention (4 heads, `torch.nn.MultiheadAttention`) and a ReLU MLP of width
`4 * d_model`, each added to the residual stream, no dropout. The answer is read at the `=`
position through a final layer norm and a linear map to `p` logits, one per possible answer.

Only the `=` position's output is used, so the last block computes attention queries and the
MLP for that position alone (keys and values still come from all three tokens). The result is
the same as running the block on every position and keeping the last one, at about half the
cost, which buys more training steps within the time budget.
"""

MODEL = """\
N_HEADS = 4
if d_model % N_HEADS:
    raise ValueError(f"d_model must be divisible by {N_HEADS} (the number of heads), got {d_model}")
if n_layers < 1:
    raise ValueError(f"n_layers must be at least 1, got {n_layers}")


class Block(nn.Module):
    \"\"\"Pre-norm transformer block: x + attention(norm(x)), then x + mlp(norm(x)).\"\"\"

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.attention_norm = nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.ReLU(), nn.Linear(4 * d_model, d_model))

    def forward(self, residual: torch.Tensor, last_position_only: bool = False) -> torch.Tensor:
        normed = self.attention_norm(residual)
        if last_position_only:  # queries (and everything after attention) for the "=" token only
            residual, queries = residual[:, -1:], normed[:, -1:]
        else:
            queries = normed
        residual = residual + self.attention(queries, normed, normed, need_weights=False)[0]
        return residual + self.mlp(self.mlp_norm(residual))


class ModularTransformer(nn.Module):
    def __init__(self, vocab_size: int, n_classes: int, d_model: int, n_layers: int, n_heads: int):
        super().__init__()
        self.token = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(3, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.readout = nn.Linear(d_model, n_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        residual = self.token(tokens) + self.position.weight
        for index, block in enumerate(self.blocks):
            residual = block(residual, last_position_only=index == len(self.blocks) - 1)
        return self.readout(self.norm(residual[:, -1]))  # logits at the "=" position


model = ModularTransformer(prime + 1, prime, d_model, n_layers, N_HEADS)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
"""

TRAIN_NOTE = """\
## Training

Full-batch AdamW (betas 0.9 / 0.98, as in Nanda et al.) with decoupled weight decay
([Loshchilov & Hutter, 2019](https://arxiv.org/abs/1711.05101)). The learning rate warms up
linearly over 10 steps, stays constant, and cools down linearly to zero over the last 20 % of
the steps. At this learning rate Adam shows occasional loss spikes after the training set is
fitted (the "slingshot" effect, [Thilak et al., 2022](https://arxiv.org/abs/2206.04817)); the
cool-down keeps the final weights, and so the final metrics, from being caught in one.

The training loss and accuracy of each step come from the forward pass that produced its
gradient; the validation set is evaluated every `eval_every` steps with the same weights. The
first step at which each accuracy reaches 99 % is kept: the gap between the two is the grokking
delay.
"""

TRAIN = """\
WARMUP_STEPS = 10
COOLDOWN_FRACTION = 0.2
TARGET_ACC = 0.99
eval_every = max(1, min(10, num_steps // 20))


def lr_factor(step: int) -> float:
    warmup = min(1.0, (step + 1) / WARMUP_STEPS)
    cooldown = min(1.0, (num_steps - step) / max(1.0, COOLDOWN_FRACTION * num_steps))
    return warmup * cooldown


optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return (logits.argmax(dim=-1) == targets).float().mean().item()


history = []
first_step_at = {"train": None, "val": None}
started = time.perf_counter()
for step in range(num_steps + 1):
    logits = model(train_x)
    train_loss = F.cross_entropy(logits, train_y)
    if step % eval_every == 0 or step == num_steps:
        with torch.no_grad():
            val_logits = model(val_x)
        row = {"step": step, "train_loss": train_loss.item(), "train_acc": accuracy(logits, train_y),
               "val_loss": F.cross_entropy(val_logits, val_y).item(), "val_acc": accuracy(val_logits, val_y)}
        history.append(row)
        for split in ("train", "val"):
            if first_step_at[split] is None and row[f"{split}_acc"] >= TARGET_ACC:
                first_step_at[split] = step
        if step % max(eval_every, num_steps // 10) == 0 or step == num_steps:
            print(f"step {step:5d}  train loss {row['train_loss']:.4f} acc {row['train_acc']:.3f}  "
                  f"val loss {row['val_loss']:.4f} acc {row['val_acc']:.3f}")
    if step == num_steps:
        break  # the last pass only evaluates the final weights
    optimizer.zero_grad(set_to_none=True)
    train_loss.backward()
    optimizer.step()
    lr_schedule.step()
train_seconds = time.perf_counter() - started
print(f"trained {num_steps} steps in {train_seconds:.1f} s")
"""

CURVE_NOTE = """\
## Learning curve

`history.csv` holds one row per evaluation (step, train and validation loss and accuracy) for
the analysis phase. The plot uses a logarithmic step axis, as grokking plots usually do: the
jump in validation accuracy comes long after the training accuracy saturates.
"""

CURVE = """\
history = pd.DataFrame(history)
history.to_csv("history.csv", index=False)

fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.6))
shown = history[history.step > 0]
for split, colour in (("train", "tab:blue"), ("val", "tab:red")):
    ax_acc.plot(shown.step, shown[f"{split}_acc"], color=colour, label=split)
    ax_loss.plot(shown.step, shown[f"{split}_loss"], color=colour, label=split)
ax_acc.set(xscale="log", xlabel="step", ylabel="accuracy", ylim=(-0.02, 1.02),
           title=f"({operation}) mod {prime}, train fraction {train_fraction}, wd {weight_decay}")
ax_loss.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy")
for ax in (ax_acc, ax_loss):
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
fig.savefig("grokking_curve.png", dpi=120)
plt.close(fig)
display(Image(filename="grokking_curve.png"))  # the saved file itself, whatever the matplotlib backend
"""

RECORD_NOTE = """\
## Results

Every metric declared in the template's manifest is recorded with `aisci.record`; aisci reads
the records back from the executed notebook. When validation accuracy never reaches 99 %,
`steps_to_val_acc_99` is the full `num_steps` and `reached_val_acc_99` is 0, so a run that
never groks is never counted as faster than one that does. `train_test_overlap` is the share
of held-out equations that also occur in the training set, measured on the tensors the model
actually saw; the review's overlap probe fails a run where it is not 0 (a broken split would
make validation accuracy meaningless).
"""

RECORD = """\
final = history.iloc[-1]
aisci.record("final_val_acc", final.val_acc, description="validation accuracy after the last step")
aisci.record("final_train_acc", final.train_acc, description="training accuracy after the last step")
aisci.record("final_val_loss", final.val_loss, unit="nats", description="validation cross-entropy after the last step")
aisci.record("final_train_loss", final.train_loss, unit="nats", description="training cross-entropy after the last step")
aisci.record("steps_to_train_acc_99", first_step_at["train"] if first_step_at["train"] is not None else num_steps,
             unit="steps", description="first step with training accuracy >= 99% (num_steps when never)")
aisci.record("steps_to_val_acc_99", first_step_at["val"] if first_step_at["val"] is not None else num_steps,
             unit="steps", description="first step with validation accuracy >= 99% (num_steps when never)")
aisci.record("reached_val_acc_99", int(first_step_at["val"] is not None),
             description="1 when validation accuracy reached 99% within the run")
aisci.record("best_val_acc", history.val_acc.max(), description="highest validation accuracy seen during training")
aisci.record("train_seconds", train_seconds, unit="s", description="wall time of the training loop")

from aisci.review.overlap import overlap_fraction
aisci.record("train_test_overlap", overlap_fraction(train_x.numpy(), val_x.numpy()),
             description="share of held-out equations that also occur in the training set")
"""


def build() -> nbformat.NotebookNode:
    manifest = tomllib.loads((HERE / "manifest.toml").read_text(encoding="utf-8"))
    parameters = manifest["parameters"]
    rows = "\n".join(f"| `{name}` | {spec['description']} |" for name, spec in parameters.items())
    cells = [
        new_markdown_cell(INTRO),
        new_markdown_cell(PARAMETERS_NOTE.format(rows=rows)),
        new_code_cell("\n".join(f"{name} = {spec['default']!r}" for name, spec in parameters.items()),
                      metadata={"tags": ["parameters"]}),
        new_code_cell(SETUP),
        new_markdown_cell(DATA_NOTE), new_code_cell(DATA),
        new_markdown_cell(MODEL_NOTE), new_code_cell(MODEL),
        new_markdown_cell(TRAIN_NOTE), new_code_cell(TRAIN),
        new_markdown_cell(CURVE_NOTE), new_code_cell(CURVE),
        new_markdown_cell(RECORD_NOTE), new_code_cell(RECORD),
    ]
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:02d}"  # fixed ids: rebuilding gives the same file
        cell.metadata["aisci"] = {"author": AUTHOR}
    return new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })


if __name__ == "__main__":
    notebook = build()
    nbformat.validate(notebook)
    nbformat.write(notebook, str(HERE / "baseline.ipynb"))
    print(f"wrote {HERE / 'baseline.ipynb'}")
