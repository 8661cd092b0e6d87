"""`%load_ext aisci`: the `%aisci` line magic and a live cost meter.

    %aisci use my-study          the study the other commands act on (default: `study_dir`
                                 in the notebook's namespace, as the phase notebooks set it)
    %aisci status                each phase's state, waiting gates, LLM cost
    %aisci run [PHASE]           run up to PHASE (default: every phase), as `aisci run` does
    %aisci panel PHASE           show the review panel of a phase's gate
    %aisci cost                  show the cost meter (refreshed after every cell and phase)
"""

from __future__ import annotations

import argparse
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from aisci.errors import AisciError
from aisci.constants import PHASE_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="%aisci", add_help=False, exit_on_error=False)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("use").add_argument("study")
    sub.add_parser("status").add_argument("study", nargs="?")
    run = sub.add_parser("run")
    run.add_argument("phase", nargs="?", choices=PHASE_NAMES)
    run.add_argument("--study")
    run.add_argument("--llm")
    panel = sub.add_parser("panel")
    panel.add_argument("phase", choices=PHASE_NAMES)
    panel.add_argument("--study")
    sub.add_parser("cost").add_argument("study", nargs="?")
    return parser


@magics_class
class AisciMagics(Magics):
    def __init__(self, shell):
        super().__init__(shell)
        self.study_dir: str | None = None
        self.meters: list = []

    @line_magic
    def aisci(self, line: str):
        try:
            args = _parser().parse_args(shlex.split(line))
        except (argparse.ArgumentError, SystemExit, ValueError) as exc:
            raise UsageError(f"%aisci: {exc} — usage: %aisci use DIR | status | run [PHASE] | panel PHASE | cost") from None
        if args.command is None:
            raise UsageError("usage: %aisci use DIR | status | run [PHASE] | panel PHASE | cost")
        try:
            return getattr(self, f"_{args.command}")(args)
        except AisciError as exc:  # one line, as on the command line
            raise UsageError(str(exc)) from None

    def _study(self, given: str | None) -> str:
        study = given or self.study_dir or self.shell.user_ns.get("study_dir")
        if not study:
            raise UsageError("which study? `%aisci use DIR` first (or set study_dir)")
        return str(study)

    def _use(self, args):
        from aisci.study import Study

        Study.open(args.study)  # a wrong folder fails here, in one line
        self.study_dir = args.study
        print(f"aisci: using {args.study}")

    def _status(self, args):
        from aisci import api

        info = api.status(self._study(args.study))
        print(f"study {info['study']} — {info['topic']}")
        for name, state in info["phases"].items():
            print(f"  {name:<12} {state}")
        print(info["llm"])
        print("waiting for you: " + (", ".join(f"the {g} gate" for g in info["waiting"]) or "nothing"))

    def _run(self, args):
        from aisci import api
        from aisci.hooks import Hooks

        # the cost meters follow the run: after each phase and each experiment node
        hooks = Hooks(on_phase_end=self._refresh_meters, on_node_end=self._refresh_meters)
        return api.run(self._study(args.study), until=args.phase, llm=args.llm, hooks=hooks)

    def _panel(self, args):
        from aisci.widgets import panel_for

        return panel_for(args.phase, self._study(args.study))

    def _cost(self, args):
        from aisci.widgets import CostMeter

        meter = CostMeter(self._study(args.study))
        self.meters.append(meter)
        display(meter)

    def _refresh_meters(self, *_args) -> None:
        for meter in self.meters:
            meter.refresh()


def load_ipython_extension(ipython) -> None:
    magics = AisciMagics(ipython)
    ipython.register_magics(magics)
    ipython.events.register("post_run_cell", magics._refresh_meters)
