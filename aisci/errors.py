"""Exceptions that carry what failed, as fields (in the manner of papermill's
PapermillExecutionError): a caller reads `stop.gate` or `failure.ename`, never the message.
The CLI prints the message as one line."""

from __future__ import annotations

from collections.abc import Iterable


class AisciError(Exception):
    """Base for every error aisci reports to the user (one line, non-zero exit)."""

    exit_code = 2


class ConfigError(AisciError):
    """aisci.toml is missing, malformed or names an invalid value."""


class TemplateError(AisciError):
    """An experiment template is unknown or violates the template contract."""


class StudyError(AisciError):
    """The study folder is missing, damaged or from a newer aisci."""


class LLMError(AisciError):
    """An LLM call failed in a way retrying cannot fix."""

    exit_code = 3


class LLMOutputError(LLMError):
    """The model's answer was invalid or truncated even after the repair round."""


class ReplayMiss(LLMError):
    """Replay-only mode and the call store holds no answer for this request."""


class BudgetStop(AisciError):
    """The next LLM call would pass the study's budget; everything so far is saved.
    `spent` and `limit` are in the budget's unit (`unit`: "usd" or "tokens")."""

    exit_code = 4

    def __init__(self, message: str, *, spent: float, limit: float, unit: str):
        super().__init__(message)
        self.spent, self.limit, self.unit = spent, limit, unit


BudgetExceeded = BudgetStop  # the name used before the fields were added


class GateStop(AisciError):
    """A gate with policy `stop` waits for a human decision; the run stops there. `gate`
    names it; `items` are what waits there (ideas, nodes), where known."""

    exit_code = 5

    def __init__(self, gate: str, items: Iterable[str] = (), *, how: str = ""):
        self.gate, self.items, self.how = gate, list(items), how
        super().__init__(f"the {gate} gate waits for a decision" + (f": {how}" if how else ""))


class NotebookError(AisciError):
    """A notebook that aisci must run (not an experiment node) failed."""


class NotebookFailed(NotebookError):
    """A phase's own notebook failed: where (`path`, the failing cell's nbformat `cell_id`)
    and what (`ename`, `evalue`; for a timeout or a dead kernel, the status and its reason)."""

    def __init__(self, path: str, cell_id: str | None, ename: str, evalue: str):
        self.path, self.cell_id, self.ename, self.evalue = path, cell_id, ename, evalue
        where = f" in cell {cell_id}" if cell_id else ""
        super().__init__(f"{path} failed{where}: {ename}: {evalue}")


class TexMissing(AisciError):
    """No LaTeX toolchain is installed, so no PDF can be built."""


class SandboxUnavailable(AisciError):
    """bubblewrap is missing or cannot make its namespaces here: generated code is not run."""
