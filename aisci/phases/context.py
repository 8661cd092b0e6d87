"""What a phase is handed: the study, the LLM door, the template, and helpers to run
the phase's notebook and to write its results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import nbformat

from aisci.errors import NotebookError
from aisci.llm import LLM
from aisci.notebook import build
from aisci.notebook.execute import ExecutionResult, execute_notebook
from aisci.study import Study, now_iso
from aisci.template import Template

PHASE_NOTEBOOK_TIMEOUT_S = 600


@dataclass
class PhaseContext:
    study: Study
    llm: LLM
    template: Template
    say: Callable[[str], None] = print
    notes: list[str] = field(default_factory=list)  # warnings to show at the end of the run

    @property
    def config(self):
        return self.study.config

    def warn(self, message: str) -> None:
        self.notes.append(message)
        self.say(f"warning: {message}")

    def execute(self, notebook: nbformat.NotebookNode | Path, output: Path, *, cwd: Path | None = None,
                timeout_s: float = PHASE_NOTEBOOK_TIMEOUT_S, parameters: dict[str, Any] | None = None,
                label: str = "", sandbox=None) -> ExecutionResult:
        """Write (if given a notebook) and execute it in place through papermill; log the run."""
        output = Path(output)
        if not isinstance(notebook, Path):
            build.write(notebook, output)
        elif notebook != output:
            output.write_bytes(notebook.read_bytes())
        started = now_iso()
        logs = self.study.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        result = execute_notebook(output, output, cwd=cwd or output.parent, timeout_s=timeout_s,
                                  parameters=parameters, kernel_log=logs / "kernels.log", sandbox=sandbox)
        self.study.log_execution({"notebook": self.study.relative(output), "label": label, "started_at": started,
                                  "finished_at": now_iso(), **result.as_dict()})
        return result

    def execute_phase_notebook(self, nb: nbformat.NotebookNode, output: Path, **kw) -> ExecutionResult:
        """A phase's own notebook must succeed: it only shows and checks what the phase made."""
        result = self.execute(nb, output, **kw)
        if not result.ok:
            raise NotebookError(f"{self.study.relative(output)} {result.status}: {result.reason}")
        return result
