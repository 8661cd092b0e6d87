"""`python -m aisci.jobrunner STUDY [--until PHASE]`: what a server-side job runs. It is
`aisci run STUDY --quiet`, followed by writing how the run ended into .aisci/job.json, so the
outcome is known even when the server that started it is gone."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from aisci import events
from aisci.cli import main as cli_main
from aisci.errors import GateStop
from aisci.fsutil import atomic_write_json, read_json
from aisci.study import now_iso

ERROR_PREFIXES = ("aisci: error:", "aisci: internal error:", "aisci: interrupted")


def main(argv: list[str]) -> int:
    study = Path(argv[0]).resolve()
    errors = io.StringIO()
    with contextlib.redirect_stderr(_Tee(sys.stderr, errors)):
        code = cli_main(["run", *argv, "--quiet"])
    job_file = study / ".aisci" / "job.json"
    record = read_json(job_file, default={}) or {}
    lines = [line for line in errors.getvalue().splitlines() if line.startswith(ERROR_PREFIXES)]
    if "stop_requested_at" in record or code == 130:
        outcome = "stopped"
    else:
        outcome = {0: "finished", GateStop.exit_code: "waiting"}.get(code, "failed")
    record.update({"ended_at": now_iso(), "exit_code": code, "outcome": outcome,
                   "message": lines[-1].split(": ", 2)[-1] if lines and code != 0 else None})
    atomic_write_json(job_file, record)
    events.append(study / ".aisci", "job_end", outcome=outcome, exit_code=code, message=record["message"])
    return code


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
