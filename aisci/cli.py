"""The `aisci` command line. Each subcommand lives in `aisci/commands/<name>.py` and
exposes `register(subparsers)`; this module finds them, parses, and turns every
AisciError into one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

import aisci.commands
from aisci.version import __version__
from aisci.errors import AisciError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aisci", description="Automated ML research as executable notebooks.")
    parser.add_argument("--version", action="version", version=f"aisci {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(aisci.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"aisci.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except AisciError as exc:
        print(f"aisci: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("aisci: interrupted; finished work is saved, run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `aisci calls DIR | head`: the reader left; nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if args.debug:
            raise
        print(f"aisci: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", file=sys.stderr)
        return 1
