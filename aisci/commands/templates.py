"""`aisci templates list` and `aisci templates validate DIR`."""

from __future__ import annotations

from aisci.errors import TemplateError
from aisci.template import available_templates, resolve_template, template_problems


def register(subparsers) -> None:
    parser = subparsers.add_parser("templates", help="list the shipped templates or validate one")
    sub = parser.add_subparsers(dest="templates_command", required=True)
    sub.add_parser("list", help="the shipped templates").set_defaults(handler=_list)
    validate = sub.add_parser("validate", help="check a template folder against the contract")
    validate.add_argument("template", help="a template folder or shipped name")
    validate.set_defaults(handler=_validate)


def _list(args) -> int:
    for name in available_templates():
        print(name)
    return 0


def _validate(args) -> int:
    root = resolve_template(args.template)
    problems = template_problems(root)
    if problems:
        for problem in problems:
            print(problem)
        raise TemplateError(f"{root}: {len(problems)} problem(s)")
    print(f"{root}: valid")
    return 0
