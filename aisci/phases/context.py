"""What a phase is handed: the study, the LLM door, the template, and helpers to run
the phase's notebook and to write its results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisci.errors import NotebookFailed
from aisci.executors import sandbox_settings
from aisci.hooks import Hooks
from aisci.execution import build
from aisci.study import Study, now_iso
from aisci.manifest import Template

if TYPE_CHECKING:  # loaded when a phase runs a notebook, not when a phase is only planned
    import nbformat

    from aisci.llm import LLM
    from aisci.execution.execute import ExecutionResult

PHASE_NOTEBOOK_TIMEOUT_S = 600


@dataclass
class PhaseContext:
    study: Study
    llm: LLM
    template: Template
    hooks: Hooks = field(default_factory=lambda: Hooks(on_message=print))
    notes: list[str] = field(default_factory=list)  # warnings to show at the end of the run

    @property
    def config(self):
        return self.study.config

    def say(self, message: str) -> None:
        self.hooks.on_message(message)

    def warn(self, message: str) -> None:
        self.notes.append(message)
        self.say(f"warning: {message}")

    def execute(self, notebook: nbformat.NotebookNode | Path, output: Path, *, cwd: Path | None = None,
                timeout_s: float = PHASE_NOTEBOOK_TIMEOUT_S, parameters: dict[str, Any] | None = None,
                label: str = "", study_code_reads: tuple[Path, ...] | None = None) -> ExecutionResult:
        """Write (if given a notebook) and execute it in place through papermill; log the run.
        aisci's own notebooks run in the plain kernel. A notebook that holds code a model or a
        person wrote names `study_code_reads`, the folders it may read: it then runs in the
        study's sandbox, its own folder the only writable place."""
        output = Path(output)
        if not isinstance(notebook, Path):
            build.write(notebook, output)
        elif notebook != output:
            output.write_bytes(notebook.read_bytes())
        from aisci.execution.execute import execute_notebook

        started = now_iso()
        logs = self.study.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        sandbox = None
        if study_code_reads is not None:
            sandbox = sandbox_settings(self.config, read_only=study_code_reads, hidden=(self.study.root,))
        result = execute_notebook(output, output, cwd=cwd or output.parent, timeout_s=timeout_s,
                                  parameters=parameters, kernel_log=logs / "kernels.log", sandbox=sandbox,
                                  pass_env=tuple(self.template.manifest.environment) if study_code_reads is not None else ())
        self.study.log_execution({"notebook": self.study.relative(output), "label": label, "started_at": started,
                                  "finished_at": now_iso(), "runs_study_code": study_code_reads is not None,
                                  **result.as_dict()})
        return result

    def execute_phase_notebook(self, nb: nbformat.NotebookNode, output: Path, **kw) -> ExecutionResult:
        """A phase's own notebook must succeed: it only shows and checks what the phase made."""
        result = self.execute(nb, output, **kw)
        if not result.ok:
            raise _failure(self.study.relative(output), output, result)
        return result


def _failure(relative: str, output: Path, result: ExecutionResult) -> NotebookFailed:
    """The failing cell's id and error, from the executed notebook's error output; for a
    timeout or a dead kernel (no error output), the status and its reason."""
    try:
        cells = build.read(output).cells
    except Exception:  # noqa: BLE001 - a notebook cut short by a dead kernel may not parse
        cells = []
    for cell in cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return NotebookFailed(relative, cell.get("id"), out.get("ename", ""), str(out.get("evalue", ""))[:300])
    return NotebookFailed(relative, None, result.status, result.reason)
