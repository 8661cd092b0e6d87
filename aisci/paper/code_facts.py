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
    constants    module-level name -> every value it was assigned (tuple unpacking and arithmetic
                 on known names included: `N_TRAIN, N_TEST = 512, 256`, `4 * d_model`)
    records      aisci.record name -> every value a finished run recorded
    sizes        the sizes layers were constructed with (nn.Linear's out_features, an LSTM's
                 hidden_size, MultiheadAttention's embed_dim and heads), and the layer counts of
                 literal nn.Sequential stacks
    calls, keywords, names   every callee, keyword argument (given a value other than 0, False or
                 None) and identifier of the code: the evidence aisci.paper.setup_check looks
                 techniques such as dropout or gradient clipping up in

The derived facts a method section states about the model and the data (layers, widths, heads,
training and held-out sizes, the training share of the split) are read from the names above:
see the properties of CodeFacts.

aisci.paper.method_check holds a method text against these facts."""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aisci.execution import build
from aisci.search.node import NodeStatus

if TYPE_CHECKING:  # annotations only: the artifact module imports paper/
    from aisci.artifacts import ExperimentSummary

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
    records: dict[str, set] = field(default_factory=dict)
    sizes: dict[str, set] = field(default_factory=dict)  # "width", "heads", "blocks", "stack" -> values
    calls: set[str] = field(default_factory=set)
    keywords: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
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

    def named(self, pattern: re.Pattern, tables: tuple = ("parameters", "constants", "records")) -> set:
        """Integer or float values of every parameter, constant or record whose name matches."""
        found: set = set()
        for table in tables:
            for name, values in getattr(self, table).items():
                if pattern.search(name):
                    found |= {v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)}
        return found

    @property
    def blocks(self) -> set:
        """Counts of stacked blocks: a layer or block count parameter, or the num_layers of a torch
        transformer or recurrent stack (what "a 2-layer transformer" counts)."""
        counts = {int(v) for v in self.named(_LAYER_NAMES, ("parameters", "constants")) if v == int(v) and v >= 1}
        return counts | self.sizes.get("blocks", set())

    @property
    def layers(self) -> set:
        """Every layer count a description may mean: the block counts, each n + 1 too when the
        model has no attention (an MLP of n hidden layers has n + 1 linear maps), and for a literal
        stack of k linear or convolutional layers, k and its k - 1 hidden layers."""
        blocks = self.blocks
        attention = self.calls & {"MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                                  "Transformer", "scaled_dot_product_attention"}
        return blocks | (set() if attention else {n + 1 for n in blocks}) | self.sizes.get("stack", set())

    @property
    def widths(self) -> set:
        named = self.named(_WIDTH_NAMES, ("parameters", "constants"))
        return {v for v in named | self.sizes.get("width", set()) if v == int(v) and v >= 1}

    @property
    def heads(self) -> set:
        return {v for v in self.named(_HEAD_NAMES, ("parameters", "constants")) | self.sizes.get("heads", set())
                if v == int(v) and v >= 1}

    @property
    def train_sizes(self) -> set:
        return {v for v in self.named(_TRAIN_SIZE_NAMES) if v == int(v) and v >= 1}

    @property
    def held_out_sizes(self) -> set:
        """Sizes of the held-out data: a test, validation or held-out count, or a count of the points
        or samples an evaluation draws (a metric on 2,000 held-out points)."""
        return {v for v in self.named(_HELD_OUT_SIZE_NAMES) if v == int(v) and v >= 1}

    @property
    def train_fractions(self) -> set:
        """The training share of the split: a train fraction parameter, one minus a test or validation
        fraction, or the training size over training plus held-out size."""
        shares = {v for v in self.named(_TRAIN_SHARE_NAMES) if 0 < v < 1}
        shares |= {1 - v for v in self.named(_HELD_OUT_SHARE_NAMES) if 0 < v < 1}
        split = self.named(_SPLIT_SIZE_NAMES)
        shares |= {t / (t + h) for t in self.train_sizes for h in split if t > 0 and h > 0}
        return shares


# Names are matched case-insensitively on the whole identifier (N_TRAIN, n_layers, hidden_size, ...)
def _whole_name(*alternatives: str) -> re.Pattern:
    return re.compile("^(?:" + "|".join(alternatives) + ")$", re.IGNORECASE)


_COUNT = r"(?:n|num|number_of)_?"
_HELD_OUT = r"(?:test|val|valid|validation|held_?out|holdout)"
_LAYER_NAMES = _whole_name(_COUNT + r"(?:hidden_)?(?:layers?|blocks?)", "depth", r"(?:hidden_)?layers")
_WIDTH_NAMES = _whole_name(r"d_?(?:model|hidden|ff)", "dim_feedforward", r"(?:n_|num_)?hidden(?:_size|_dim|_units)?",
                           "width", r"(?:n_|num_)?(?:units|channels)", "n_embd", "hidden_channels",
                           r"(?:embed|embedding|emb|model)_?(?:dim|size)", r"time_embedding(?:_dim)?")
_HEAD_NAMES = _whole_name(_COUNT + r"(?:attention_)?heads?", "heads", "nhead")
_TRAIN_SIZE_NAMES = _whole_name(_COUNT + r"train(?:ing)?(?:_(?:examples|samples|points|size|set))?",
                                r"train(?:ing)?_(?:size|examples|samples|points|set_size|count)")
_SPLIT_SIZES = (_COUNT + _HELD_OUT + r"(?:_(?:examples|samples|points|size|set))?",
                _HELD_OUT + r"_(?:size|examples|samples|points|set_size|count)")
_SPLIT_SIZE_NAMES = _whole_name(*_SPLIT_SIZES)
_HELD_OUT_SIZE_NAMES = _whole_name(*_SPLIT_SIZES, r"(?:n_|num_)?(?:eval_?)?(?:samples|points)",
                                   r"(?:eval|mmd|swd|metric)_(?:samples|points|size)")
_SHARE = r"_?(?:fraction|frac|ratio|split|share|pct|percent)"
_TRAIN_SHARE_NAMES = _whole_name(r"train(?:ing)?" + _SHARE)
_HELD_OUT_SHARE_NAMES = _whole_name(_HELD_OUT + _SHARE)


def from_study(root: Path, summary: ExperimentSummary) -> CodeFacts:
    facts = CodeFacts()
    for node in summary.nodes:
        if node.status != NodeStatus.DONE:
            continue
        path = Path(root) / (node.notebook or "")
        if not path.is_file():
            continue
        params = dict(node.parameters)
        for name, value in params.items():
            facts.parameters.setdefault(name, set()).add(_hashable(value))
        for name, value in node.metrics.items():
            facts.records.setdefault(name, set()).add(_hashable(value))
        cells = [c.source for c in build.peek(path).cells if c.cell_type == "code"]  # as JSON: no nbformat import
        read_code(cells, params, facts)
        facts.runs += 1
    return facts


def from_template(template) -> CodeFacts:
    """The baseline's code as it runs at the default parameters (what the template's description
    describes)."""
    defaults = {name: p.default for name, p in template.manifest.parameters.items()}
    facts = CodeFacts(runs=1, parameters={name: {_hashable(v)} for name, v in defaults.items()})
    return read_code([c.source for c in template.baseline().cells if c.cell_type == "code"], defaults, facts)


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
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                _assign(node.targets[0], node.value, env, facts)
    loader_batches: set = set()
    for tree in trees:
        _collect_identifiers(tree, facts)
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
            _layer_sizes(name, call, env, facts)
    batch_param = {v for k, v in env.items() if k.lower() in ("batch_size", "batch", "bs", "minibatch_size")
                   and isinstance(v, int)}
    if loader_batches or batch_param:
        facts.batch |= {b for b in loader_batches if b != "loader"} | batch_param
        if "loader" in loader_batches and not facts.batch:
            facts.batch.add("some")  # a DataLoader whose batch size the code computes
    else:
        facts.batch.add("full")
    return facts


def _assign(target: ast.AST, value_node: ast.AST, env: dict, facts: CodeFacts) -> None:
    """A module-level assignment: `x = 3`, `N_TRAIN, N_TEST = 512, 256`, `width = 4 * d_model`. The
    first value a name gets is the one the code reads from then on (a parameter beats the default)."""
    if isinstance(target, ast.Tuple) and isinstance(value_node, ast.Tuple) and len(target.elts) == len(value_node.elts):
        for t, v in zip(target.elts, value_node.elts):
            _assign(t, v, env, facts)
        return
    if not isinstance(target, ast.Name):
        return
    value = _value(value_node, env)
    if value is not _UNKNOWN:
        env.setdefault(target.id, value)
        facts.constants.setdefault(target.id, set()).add(_hashable(env[target.id]))


# the argument that sets a layer's size: (position, keyword) per class
_SIZE_ARGUMENTS = {
    "width": {"Linear": (1, "out_features"), "LazyLinear": (0, "out_features"), "Bilinear": (2, "out_features"),
              "LSTM": (1, "hidden_size"), "GRU": (1, "hidden_size"), "RNN": (1, "hidden_size"),
              "LSTMCell": (1, "hidden_size"), "GRUCell": (1, "hidden_size"), "RNNCell": (1, "hidden_size"),
              "Conv1d": (1, "out_channels"), "Conv2d": (1, "out_channels"), "Conv3d": (1, "out_channels"),
              "Embedding": (1, "embedding_dim"), "MultiheadAttention": (0, "embed_dim"),
              "TransformerEncoderLayer": (0, "d_model"), "TransformerDecoderLayer": (0, "d_model"),
              "Transformer": (0, "d_model")},
    "heads": {"MultiheadAttention": (1, "num_heads"), "TransformerEncoderLayer": (1, "nhead"),
              "TransformerDecoderLayer": (1, "nhead"), "Transformer": (1, "nhead")},
    "blocks": {"TransformerEncoder": (1, "num_layers"), "TransformerDecoder": (1, "num_layers"),
              "LSTM": (2, "num_layers"), "GRU": (2, "num_layers"), "RNN": (2, "num_layers")},
}
_STACKED = re.compile(r"^(?:Lazy)?(?:Linear|Conv[123]d|ConvTranspose[123]d)$")


def _layer_sizes(name: str, call: ast.Call, env: dict, facts: CodeFacts) -> None:
    for kind, table in _SIZE_ARGUMENTS.items():
        if name not in table:
            continue
        position, keyword = table[name]
        node = next((k.value for k in call.keywords if k.arg == keyword), None)
        if node is None and len(call.args) > position and not isinstance(call.args[position], ast.Starred):
            node = call.args[position]
        value = _value(node, env) if node is not None else _UNKNOWN
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            facts.sizes.setdefault(kind, set()).add(value)
    if name == "Sequential":  # a literal stack: k linear maps are k layers, or k - 1 hidden ones
        k = sum(1 for a in call.args if isinstance(a, ast.Call) and _STACKED.match(_callee(a.func)[0]))
        if k:
            facts.sizes.setdefault("stack", set()).update({k, k - 1} - {0})


def _collect_identifiers(tree: ast.AST, facts: CodeFacts) -> None:
    """Callees, keyword arguments set to something other than 0, False or None, and every name the
    code defines or reads (strings and comments are not code, so they are not evidence)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            facts.calls.add(_callee(node.func)[0])
            for keyword in node.keywords:
                if keyword.arg and not (isinstance(keyword.value, ast.Constant) and keyword.value.value in (0, None)):
                    facts.keywords.add(keyword.arg)
        elif isinstance(node, ast.Name):
            facts.names.add(node.id)
        elif isinstance(node, ast.Attribute):
            facts.names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            facts.names.add(node.name)
        elif isinstance(node, ast.arg):
            facts.names.add(node.arg)


_UNKNOWN = object()
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow, ast.Mod: operator.mod}


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
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:  # 4 * d_model, prime ** 2
        left, right = _value(node.left, env), _value(node.right, env)
        if _is_number(left) and _is_number(right) and not (isinstance(node.op, ast.Pow) and abs(right) > 64):
            try:
                return _OPERATORS[type(node.op)](left, right)
            except (ZeroDivisionError, OverflowError):
                return _UNKNOWN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _value(node.operand, env)
        return -inner if _is_number(inner) else _UNKNOWN
    return _UNKNOWN


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
