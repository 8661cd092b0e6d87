"""`aisci templates list` and `aisci templates validate DIR [--run]`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aisci.errors import TemplateError


def register(subparsers) -> None:
    parser = subparsers.add_parser("templates", help="list the shipped templates or validate one")
    sub = parser.add_subparsers(dest="templates_command", required=True)
    sub.add_parser("list", help="the shipped templates").set_defaults(handler=_list)
    validate = sub.add_parser("validate", help="check a template folder against the contract")
    validate.add_argument("template", help="a template folder or shipped name")
    validate.add_argument("--run", action="store_true",
                          help="also run the baseline once (in the sandbox) and check that it records every declared metric")
    validate.add_argument("--sandbox", choices=["bubblewrap", "none"], default="bubblewrap",
                          help="where the baseline runs: bubblewrap (default), or none (no sandbox; for a machine "
                               "without bubblewrap, on a template you trust)")
    validate.set_defaults(handler=_validate)


def _list(args) -> int:
    from aisci.manifest import available_templates

    for name in available_templates():
        print(name)
    return 0


def _description_warnings(template) -> list[str]:
    """The template's description of its method against its baseline's code: a paper quotes that
    description unchecked, so a contradiction is reported here, once."""
    from aisci.paper.method_check import template_mismatches
    from aisci.writeup.facts import author_text

    return [f"{template.root}: the template's description {m.reason} (in: {m.sentence.strip()[:160]!r})"
            for m in template_mismatches(template, author_text(template))]


def _validate(args) -> int:
    from aisci.manifest import baseline_run_problems, load_template, resolve_template, template_problems, template_warnings

    root = resolve_template(args.template)
    problems = template_problems(root)
    if not problems and args.run:
        template = load_template(root)
        with tempfile.TemporaryDirectory(prefix="aisci-validate-") as workdir:
            problems, result = baseline_run_problems(template, Path(workdir), sandboxed=args.sandbox != "none")
        if not problems:
            budget = template.manifest.time_budget_s
            note = "" if result.duration_s <= budget else f" — over its time_budget_s of {budget} s"
            print(f"{root}: the baseline ran in {result.duration_s:.1f} s and recorded every declared metric{note}")
    if problems:
        for problem in problems:
            print(problem)
        raise TemplateError(f"{root}: {len(problems)} problem(s)")
    warnings = _description_warnings(load_template(root)) + template_warnings(root)
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"{root}: valid" + (f", with {len(warnings)} warning(s)" if warnings else ""))
    return 0
