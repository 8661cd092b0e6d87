"""`aisci init DIR --template NAME --topic TEXT`: create a study folder."""

from __future__ import annotations

from aisci.llm.spec import parse_spec
from aisci.study import Study


def register(subparsers) -> None:
    parser = subparsers.add_parser("init", help="create a study folder")
    parser.add_argument("study", help="the folder to create")
    parser.add_argument("--template", default="grokking", help="a shipped template name or a template folder")
    parser.add_argument("--topic", required=True, help="the research topic, in a sentence")
    parser.add_argument("--llm", help="model for every role (default: offline); see `aisci run --help`")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    if args.llm:
        parse_spec(args.llm)  # a typo fails here, before a folder exists
    study = Study.create(args.study, args.template, args.topic, args.llm)
    print(f"created {study.root} (template {study.template().name}); next: aisci run {args.study}")
    return 0
