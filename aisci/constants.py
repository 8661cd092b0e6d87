"""Names and defaults that more than one module needs, defined once.

Kept light (it imports only aisci.errors) so that the CLI, the config and the runner can
read them without loading any phase."""

from aisci.errors import StudyError

# the phases of a study, in the order they run; also the [llm.roles] a study may set
PHASE_NAMES = ("ideation", "novelty", "experiments", "analysis", "writeup", "review")


def check_phase(name: str) -> str:
    """The name, if it names a phase; else the one-line error every caller gives."""
    if name not in PHASE_NAMES:
        raise StudyError(f"unknown phase {name!r} (phases: {', '.join(PHASE_NAMES)})")
    return name


# the call store of a model reviewer outside a study (`aisci review`, `aisci review-bench`)
REVIEW_CALL_STORE = "aisci-review-calls.sqlite"

# who wrote something (a cell, a section, a decision, an answer): the labels stored in files
OFFLINE_ENGINE = "offline-engine"  # aisci's deterministic, model-free engine
PERSON = "person"  # a person's edit in JupyterLab or a text editor
AISCI_AUTHOR = "aisci"  # code aisci writes itself (loading records, plotting), not an LLM task

# The sandboxed kernel's default limits are defined once, on SandboxSettings
# (aisci/execution/sandbox.py: the launcher runs as a plain script and imports nothing of aisci).
