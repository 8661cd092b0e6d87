"""Exceptions that carry what failed. The CLI prints their message as one line."""


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


class BudgetExceeded(AisciError):
    """The next LLM call would pass the study's budget; everything so far is saved."""

    exit_code = 4


class GateStop(AisciError):
    """A gate with policy `stop` waits for a human decision; the run stops there."""

    exit_code = 5


class NotebookError(AisciError):
    """A notebook that aisci must run (not an experiment node) failed."""


class TexMissing(AisciError):
    """No LaTeX toolchain is installed, so no PDF can be built."""


class SandboxUnavailable(AisciError):
    """bubblewrap is missing or cannot make its namespaces here: generated code is not run."""
