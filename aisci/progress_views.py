"""Which progress view a run gets (aisci.progress): a widget in a notebook, else the terminal's."""

from __future__ import annotations

import sys

from aisci.hooks import Hooks


def view(study) -> Hooks:
    """The progress view that fits where the run is: a widget in a notebook, else the terminal."""
    if _in_notebook():
        from aisci.widgets.progress import ProgressPanel

        return ProgressPanel(study).show()
    from aisci.progress import TerminalProgress

    return TerminalProgress(study).hooks()


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and type(shell).__name__ == "ZMQInteractiveShell"
