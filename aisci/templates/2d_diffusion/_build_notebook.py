"""Writes baseline.ipynb for the 2d_diffusion template: `python _build_notebook.py`.

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
AUTHOR = "template:2d_diffusion"  # provenance: cells written by the template

INTRO = """\
# A small diffusion model on two-dimensional data

A denoising diffusion probabilistic model (DDPM; [Ho et al., 2020](https://arxiv.org/abs/2006.11239),
building on [Sohl-Dickstein et al., 2015](https://arxiv.org/abs/1503.03585)) turns data into
noise with a fixed Markov chain of small Gaussian steps and learns to run the chain backwards.
On two-dimensional point clouds every part of the method fits on a screen and trains in
seconds on a CPU, and the result can be judged by eye as well as by a number.

The notebook:

1. generates a 2-D data set in code (no downloads) and a held-out sample of it,
2. builds the noise schedule and an MLP denoiser conditioned on the timestep,
3. trains it with the noise-prediction loss, tracking a held-out loss and sample quality,
4. draws 4,000 points by ancestral sampling and measures how close they are to held-out data
   (sliced Wasserstein distance and MMD),
5. writes the curve to `history.csv`, a figure to `diffusion_samples.png`, and records the
   metrics with `aisci.record`.
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

import math
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
## Data

Each data set is a function that draws `n` points with a NumPy generator, so the same seed
gives the same points. 10,000 points train the model; 4,000 more, drawn independently, are
held out to judge the samples, and a second held-out draw of 4,000 measures the *data
floor*: the distance between two independent samples of the data distribution, about what a
model that samples that distribution exactly would score. All points are standardised with the training set's mean and overall
standard deviation, so the noise schedule sees data of unit scale.
"""

DATA = """\
def two_moons(n, rng):
    upper = rng.random(n) < 0.5
    angle = rng.uniform(0.0, math.pi, n)
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    return np.stack([x, y], axis=1) + rng.normal(0.0, 0.05, (n, 2))


def circles(n, rng):
    radius = np.where(rng.random(n) < 0.5, 1.0, 0.5)
    angle = rng.uniform(0.0, 2 * math.pi, n)
    return radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0.0, 0.03, (n, 2))


def gaussians(n, rng, modes=8):
    angle = 2 * math.pi * rng.integers(0, modes, n) / modes
    return 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0.0, 0.1, (n, 2))


def spiral(n, rng):
    turn = np.sqrt(rng.random(n)) * 3 * math.pi  # uniform density along the arm
    return np.stack([turn * np.cos(turn), turn * np.sin(turn)], axis=1) / (3 * math.pi) + rng.normal(0.0, 0.02, (n, 2))


DATASETS = {"moons": two_moons, "circles": circles, "gaussians": gaussians, "spiral": spiral}
if dataset not in DATASETS:
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")

N_TRAIN, N_HELD_OUT = 10_000, 4_000
rng = np.random.default_rng(seed)
draw = DATASETS[dataset]
train_np, held_out_np, floor_np = draw(N_TRAIN, rng), draw(N_HELD_OUT, rng), draw(N_HELD_OUT, rng)
centre, scale = train_np.mean(axis=0), train_np.std()


def standardise(points):
    return torch.tensor((points - centre) / scale, dtype=torch.float32)


train_points, held_out, floor_points = standardise(train_np), standardise(held_out_np), standardise(floor_np)
print(f"{dataset}: {len(train_points)} training points, {len(held_out)} held out")
"""

SCHEDULE_NOTE = """\
## Noise schedule

The forward process adds noise in `num_timesteps` steps with variances $\\beta_t$, so that
$x_t = \\sqrt{\\bar\\alpha_t}\\,x_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\varepsilon$ with
$\\bar\\alpha_t = \\prod_{s \\le t}(1-\\beta_s)$.

* `linear`: DDPM's $\\beta$ from $10^{-4}$ to $0.02$ over 1,000 steps, rescaled by $1000/T$ so that
  a shorter chain still ends in (almost) pure noise;
* `quadratic`: the same end points, linear in $\\sqrt{\\beta}$;
* `cosine`: $\\bar\\alpha_t$ follows a squared cosine ([Nichol & Dhariwal, 2021](https://arxiv.org/abs/2102.09672)).

Every $\\beta_t$ is clipped at 0.999 (with fewer than about 20 steps the rescaled linear
schedule would otherwise pass 1).
"""

SCHEDULE = """\
MAX_BETA = 0.999  # a step may destroy almost all signal, never more (beta >= 1 has no square root)


def make_betas(schedule: str, steps: int) -> torch.Tensor:
    low, high = 1e-4 * 1000 / steps, 0.02 * 1000 / steps
    if schedule == "linear":
        betas = torch.linspace(low, high, steps)
    elif schedule == "quadratic":
        betas = torch.linspace(low ** 0.5, high ** 0.5, steps) ** 2
    elif schedule == "cosine":
        offset = 0.008
        f = torch.cos((torch.arange(steps + 1) / steps + offset) / (1 + offset) * math.pi / 2) ** 2
        alpha_bar = f / f[0]
        betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
    else:
        raise ValueError(f"beta_schedule must be linear, quadratic or cosine, got {schedule!r}")
    return betas.clamp(max=MAX_BETA)


if num_timesteps < 2:
    raise ValueError(f"num_timesteps must be at least 2, got {num_timesteps}")
betas = make_betas(beta_schedule, num_timesteps).double()  # products of many terms: keep float64 here
alphas = 1 - betas
alpha_bar = torch.cumprod(alphas, dim=0)
alpha_bar_prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
posterior_var = betas * (1 - alpha_bar_prev) / (1 - alpha_bar)  # variance of q(x_{t-1} | x_t, x_0)
betas, alphas, alpha_bar, posterior_var = (v.float() for v in (betas, alphas, alpha_bar, posterior_var))
print(f"{beta_schedule} schedule, T = {num_timesteps}: signal left at the last step sqrt(alpha_bar_T) = "
      f"{alpha_bar[-1].sqrt().item():.4f}")
"""

MODEL_NOTE = """\
## Denoiser

An MLP (`num_layers` hidden layers of width `hidden_size`, SiLU) reads the noisy point and a
sinusoidal embedding of the timestep (the Transformer's position encoding, as in DDPM) and
predicts the noise $\\varepsilon$ that was added.

With `fourier_features = k > 0` each coordinate also enters as $\\sin(2^j\\pi x)$ and
$\\cos(2^j\\pi x)$ for $j = 0 … k-1$. An MLP fed raw low-dimensional coordinates is biased
towards smooth functions; such features let it fit sharper ones
([Tancik et al., 2020](https://arxiv.org/abs/2006.10739)). The baseline uses raw coordinates.
"""

MODEL = """\
TIME_EMBEDDING = 32


def timestep_embedding(t: torch.Tensor, dim: int = TIME_EMBEDDING) -> torch.Tensor:
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half) / half)
    angles = t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def coordinate_features(x: torch.Tensor) -> torch.Tensor:
    if fourier_features == 0:
        return x
    angles = x[:, :, None] * (math.pi * 2.0 ** torch.arange(fourier_features))
    return torch.cat([x, angles.sin().flatten(1), angles.cos().flatten(1)], dim=1)


class Denoiser(nn.Module):
    def __init__(self, hidden_size: int, num_layers: int):
        super().__init__()
        layers, width = [], 2 + 4 * fourier_features + TIME_EMBEDDING
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_size), nn.SiLU()]
            width = hidden_size
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([coordinate_features(x), timestep_embedding(t)], dim=1))


if num_layers < 1 or fourier_features < 0:
    raise ValueError(f"num_layers must be at least 1 and fourier_features at least 0, got {num_layers}, {fourier_features}")
model = Denoiser(hidden_size, num_layers)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
"""

METRICS_NOTE = """\
## Sampling and sample-quality metrics

Ancestral sampling starts from Gaussian noise and applies the learned reverse step
$x_{t-1} = \\frac{1}{\\sqrt{\\alpha_t}}\\big(x_t - \\frac{\\beta_t}{\\sqrt{1-\\bar\\alpha_t}}\\,\\hat\\varepsilon(x_t, t)\\big) + \\sigma_t z$
with the posterior variance $\\sigma_t^2 = \\tilde\\beta_t$.

Two distances compare generated points with held-out data (both lower is better):

* **sliced Wasserstein-1**: project both point sets on 256 random directions and average the
  one-dimensional Wasserstein distances (for equal sample sizes, the mean gap between the
  sorted projections; [Bonneel et al., 2015](https://doi.org/10.1007/s10851-014-0506-3));
* **MMD**: the unbiased estimate of the squared maximum mean discrepancy with a sum of
  Gaussian kernels of bandwidths 0.1, 0.3 and 1.0 ([Gretton et al., 2012](https://jmlr.org/papers/v13/gretton12a.html));
  it can be slightly negative when the two samples are very close.

Sampling and the metrics use their own random generators, so evaluating during training does
not change the training run.
"""

METRICS = """\
@torch.no_grad()
def sample(n: int, generator: torch.Generator) -> torch.Tensor:
    x = torch.randn(n, 2, generator=generator)
    for t in reversed(range(num_timesteps)):
        eps = model(x, torch.full((n,), t))
        x = (x - betas[t] / (1 - alpha_bar[t]).sqrt() * eps) / alphas[t].sqrt()
        if t > 0:
            x = x + posterior_var[t].sqrt() * torch.randn(n, 2, generator=generator)
    return x


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: int = 256) -> float:
    theta = torch.randn(2, directions, generator=torch.Generator().manual_seed(0))
    theta = theta / theta.norm(dim=0)
    return ((a @ theta).sort(dim=0).values - (b @ theta).sort(dim=0).values).abs().mean().item()


def mmd(a: torch.Tensor, b: torch.Tensor, bandwidths=(0.1, 0.3, 1.0)) -> float:
    def kernel(x, y):
        d2 = torch.cdist(x, y).pow(2)
        return sum(torch.exp(-d2 / (2 * h * h)) for h in bandwidths)

    n, m = len(a), len(b)
    k_aa, k_bb, k_ab = kernel(a, a), kernel(b, b), kernel(a, b)
    within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (n * (n - 1))
    within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (m * (m - 1))
    return (within_a + within_b - 2 * k_ab.mean()).item()


def denoising_loss(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    xt = alpha_bar[t].sqrt()[:, None] * x0 + (1 - alpha_bar[t]).sqrt()[:, None] * noise
    return F.mse_loss(model(xt, t), noise)


# The held-out loss uses one fixed draw of timesteps and noise, so its changes are the model's.
fixed = torch.Generator().manual_seed(seed + 1)
held_out_t = torch.randint(0, num_timesteps, (len(held_out),), generator=fixed)
held_out_noise = torch.randn(held_out.shape, generator=fixed)
"""

TRAIN_NOTE = """\
## Training

Each step draws a minibatch of training points, a uniform timestep and Gaussian noise per
point, and regresses the noise ("$L_\\text{simple}$" in DDPM). Adam's learning rate decays to
zero on a cosine. Every tenth of the run the notebook logs the mean training loss since the
last log, the held-out denoising loss, and the sliced Wasserstein distance of 1,000 fresh
samples to 1,000 held-out points.
"""

TRAIN = """\
if num_train_steps < 1 or batch_size < 1:
    raise ValueError(f"num_train_steps and batch_size must be at least 1, got {num_train_steps}, {batch_size}")
EVAL_SAMPLES = 1_000
eval_every = max(1, num_train_steps // 10)

optimizer = torch.optim.Adam(model.parameters(), lr=lr)
lr_decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, num_train_steps))

history, losses, window = [], [], []
started = time.perf_counter()
for step in range(1, num_train_steps + 1):
    x0 = train_points[torch.randint(0, len(train_points), (batch_size,))]
    t = torch.randint(0, num_timesteps, (batch_size,))
    loss = denoising_loss(x0, t, torch.randn_like(x0))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    lr_decay.step()
    losses.append(loss.item())
    window.append(losses[-1])
    if step % eval_every == 0 or step == num_train_steps:
        with torch.no_grad():
            val_loss = denoising_loss(held_out, held_out_t, held_out_noise).item()
        generated = sample(EVAL_SAMPLES, torch.Generator().manual_seed(seed + 2))
        history.append({"step": step, "train_loss": float(np.mean(window)), "val_loss": val_loss,
                        "val_swd": sliced_wasserstein(generated, held_out[:EVAL_SAMPLES])})
        window = []
        print(f"step {step:5d}  train loss {history[-1]['train_loss']:.4f}  val loss {val_loss:.4f}  "
              f"sliced W1 {history[-1]['val_swd']:.4f}")
train_seconds = time.perf_counter() - started
print(f"trained {num_train_steps} steps in {train_seconds:.1f} s")
"""

EVAL_NOTE = """\
## Final evaluation

4,000 generated points against the 4,000 held-out points (the MMD uses the first 2,000 of
each: its kernel matrices grow with the square of the sample size). The same two distances
between the held-out points and the second, independent draw of real data give the data
floor.
"""

EVAL = """\
N_SAMPLES = N_HELD_OUT
started = time.perf_counter()
samples = sample(N_SAMPLES, torch.Generator().manual_seed(seed + 3))
sample_seconds = time.perf_counter() - started

MMD_POINTS = 2_000  # the kernel matrices grow with the square of the sample size
final_swd, final_mmd = sliced_wasserstein(samples, held_out), mmd(samples[:MMD_POINTS], held_out[:MMD_POINTS])
floor_swd, floor_mmd = sliced_wasserstein(floor_points, held_out), mmd(floor_points[:MMD_POINTS], held_out[:MMD_POINTS])
with torch.no_grad():
    final_val_loss = denoising_loss(held_out, held_out_t, held_out_noise).item()
final_train_loss = float(np.mean(losses[-max(1, len(losses) // 10):]))
print(f"sliced W1 {final_swd:.4f} (data floor {floor_swd:.4f});  MMD {final_mmd:.5f} (data floor {floor_mmd:.5f})")
"""

CURVE_NOTE = """\
## Figure and history

`history.csv` has one row per log (step, train loss, held-out loss, sliced Wasserstein
distance) for the analysis phase. The figure shows held-out data, generated samples and the
curves.
"""

CURVE = """\
history = pd.DataFrame(history)
history.to_csv("history.csv", index=False)

fig, (ax_data, ax_samples, ax_curve) = plt.subplots(1, 3, figsize=(13, 4))
limits = held_out.abs().max().item() * 1.25  # the data's frame: a diverged sample cannot break the plot
outside = int((~(samples.abs() <= limits).all(dim=1)).sum())
if outside:
    print(f"{outside} of {len(samples)} samples fall outside the plotted frame (or are not finite)")
for ax, points, title, colour in ((ax_data, held_out, "held-out data", "tab:blue"),
                                  (ax_samples, samples, f"DDPM samples (sliced W1 {final_swd:.3f})", "tab:orange")):
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, color=colour)
    ax.set(title=title, xlim=(-limits, limits), ylim=(-limits, limits), aspect="equal")
ax_curve.plot(history.step, history.train_loss, label="train loss")
ax_curve.plot(history.step, history.val_loss, label="held-out loss")
ax_curve.set(xlabel="step", ylabel="noise MSE", title=f"{dataset}, T = {num_timesteps}, {beta_schedule}")
ax_swd = ax_curve.twinx()
ax_swd.plot(history.step, history.val_swd, color="tab:green", marker="o", label="sliced W1")
ax_swd.set_ylabel("sliced W1 (1,000 samples)")
ax_curve.legend(loc="upper right")
ax_swd.legend(loc="center right")
fig.tight_layout()
fig.savefig("diffusion_samples.png", dpi=120)
plt.close(fig)
display(Image(filename="diffusion_samples.png"))  # the saved file itself, whatever the matplotlib backend
"""

RECORD_NOTE = """\
## Results

Every metric declared in the template's manifest is recorded with `aisci.record`; the data
floors and timings are recorded too, so a reader can tell how far a run is from the best
achievable score.
"""

RECORD = """\
aisci.record("sliced_wasserstein", final_swd, description="sliced W1, 4,000 samples vs 4,000 held-out points")
aisci.record("mmd", final_mmd, description="unbiased squared MMD, Gaussian kernels (0.1, 0.3, 1.0), 2,000 vs 2,000 points")
aisci.record("final_train_loss", final_train_loss, description="noise MSE, mean over the last 10% of steps")
aisci.record("final_val_loss", final_val_loss, description="noise MSE on held-out points, fixed timesteps and noise")
aisci.record("data_floor_swd", floor_swd, description="sliced W1 between two independent samples of the data")
aisci.record("data_floor_mmd", floor_mmd, description="squared MMD between two independent samples of the data")
aisci.record("train_seconds", train_seconds, unit="s", description="wall time of the training loop")
aisci.record("sample_seconds", sample_seconds, unit="s", description="wall time to draw 4,000 samples")
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
        new_markdown_cell(SCHEDULE_NOTE), new_code_cell(SCHEDULE),
        new_markdown_cell(MODEL_NOTE), new_code_cell(MODEL),
        new_markdown_cell(METRICS_NOTE), new_code_cell(METRICS),
        new_markdown_cell(TRAIN_NOTE), new_code_cell(TRAIN),
        new_markdown_cell(EVAL_NOTE), new_code_cell(EVAL),
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
