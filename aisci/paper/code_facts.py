"""What the executed code of a study says about its method, read without a model: from the
code cells of every finished run (Python's ast) and the parameters each run was given.

    optimizers   the torch.optim classes constructed, with their keyword arguments resolved
                 (a name is looked up in the run's parameters, then in the notebook's constants)
    losses       the loss functions called (cross_entropy, mse, l1, nll, bce, huber, kl)
    schedulers   the learning-rate scheduler classes constructed
    modules      the torch.nn layer classes constructed (Linear, LSTM, MultiheadAttention, ...)
    batch        the batch sizes: a DataLoader's batch_size, a `batch_size` parameter, or "full"
                 when the code draws no batches at all (no DataLoader, no batch size anywhere)
    parameters   parameter name -> every value a finished run used

aisci.paper.method_check holds a method text against these facts."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from aisci.execution import build

OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS",
              "SparseAdam", "ASGD", "Rprop", "Lion", "Adafactor"}
LOSSES = {"cross_entropy": "cross_entropy", "CrossEntropyLoss": "cross_entropy", "nll_loss": "nll",
          "NLLLoss": "nll", "mse_loss": "mse", "MSELoss": "mse", "l1_loss": "l1", "L1Loss": "l1",
          "smooth_l1_loss": "huber", "SmoothL1Loss": "huber", "huber_loss": "huber", "HuberLoss": "huber",
          "binary_cross_entropy": "bce", "binary_cross_entropy_with_logits": "bce", "BCELoss": "bce",
          "BCEWithLogitsLoss": "bce", "kl_div": "kl", "KLDivLoss": "kl", "hinge_embedding_loss": "hinge",
          "MultiMarginLoss": "hinge"}
SCHEDULER_SUFFIXES = ("LR", "LROnPlateau", "WarmRestarts")


@dataclass
class CodeFacts:
    optimizers: dict[str, list[dict]] = field(default_factory=dict)
    losses: set[str] = field(default_factory=set)
    schedulers: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    batch: set = field(default_factory=set)  # ints, and "full"
    parameters: dict[str, set] = field(default_factory=dict)
    constants: dict[str, set] = field(default_factory=dict)
    runs: int = 0  # how many finished runs were read

    def optimizer_values(self, keyword: str) -> set:
        """Every value a keyword of an optimizer took (betas give their first element for beta1)."""
        return {use[keyword] for uses in self.optimizers.values() for use in uses if keyword in use}

    def values_of(self, *needles: str) -> set:
        """Values of every parameter or constant whose name holds one of the needles."""
        found: set = set()
        for table in (self.parameters, self.constants):
            for name, values in table.items():
                if any(n in name.lower() for n in needles):
                    found |= {v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)}
        return found


def from_study(root: Path, summary: dict) -> CodeFacts:
    facts = CodeFacts()
    for node in summary.get("nodes", []):
        if node.get("status") != "done":
            continue
        path = Path(root) / node.get("notebook", "")
        if not path.is_file():
            continue
        params = dict(node.get("parameters") or {})
        for name, value in params.items():
            facts.parameters.setdefault(name, set()).add(_hashable(value))
        cells = [c.source for c in build.peek(path).cells if c.cell_type == "code"]  # as JSON: no nbformat import
        read_code(cells, params, facts)
        facts.runs += 1
    return facts


def read_code(cells: list[str], params: dict, facts: CodeFacts) -> CodeFacts:
    trees = []
    for source in cells:
        try:
            trees.append(ast.parse(source))
        except SyntaxError:  # a cell with magics: the rest of the notebook still tells
            continue
    env = dict(params)
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = _value(node.value, env)
                if value is not _UNKNOWN:
                    env.setdefault(node.targets[0].id, value)
                    facts.constants.setdefault(node.targets[0].id, set()).add(_hashable(value))
    loader_batches: set = set()
    for tree in trees:
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name, chain = _callee(call.func)
            kwargs = {k.arg: _value(k.value, env) for k in call.keywords if k.arg}
            if name in OPTIMIZERS and (len(chain) == 1 or "optim" in chain):
                facts.optimizers.setdefault(name, []).append(
                    {k: _hashable(v) for k, v in kwargs.items() if v is not _UNKNOWN})
            elif name in LOSSES:
                facts.losses.add(LOSSES[name])
            elif "lr_scheduler" in chain or (name.endswith(SCHEDULER_SUFFIXES) and name[:1].isupper()
                                             and name not in ("LR",)):
                facts.schedulers.add(name)
            elif name == "DataLoader":
                batch = kwargs.get("batch_size", _UNKNOWN)
                loader_batches.add(batch if isinstance(batch, int) else "loader")
            elif "nn" in chain and name[:1].isupper():
                facts.modules.add(name)
    batch_param = {v for k, v in env.items() if k.lower() in ("batch_size", "batch", "bs", "minibatch_size")
                   and isinstance(v, int)}
    if loader_batches or batch_param:
        facts.batch |= {b for b in loader_batches if b != "loader"} | batch_param
        if "loader" in loader_batches and not facts.batch:
            facts.batch.add("some")  # a DataLoader whose batch size the code computes
    else:
        facts.batch.add("full")
    return facts


_UNKNOWN = object()


def _value(node: ast.AST, env: dict):
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        pass
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.Tuple):
        items = [_value(e, env) for e in node.elts]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else tuple(items)
    return _UNKNOWN


def _callee(func: ast.AST) -> tuple[str, list[str]]:
    chain = []
    while isinstance(func, ast.Attribute):
        chain.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        chain.append(func.id)
    chain.reverse()
    return (chain[-1] if chain else ""), chain


def _hashable(value):
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value
