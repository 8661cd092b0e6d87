"""docs/config.md, written from the config's own descriptions (aisci/config.py), so the
docs list every key from the one source `aisci init` also comments aisci.toml from:

    python -m aisci.config_reference > docs/config.md
"""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from aisci.config import StudyConfig


def reference_markdown() -> str:
    lines = ["# aisci.toml: every key", "",
             "Written from the descriptions in `aisci/config.py` by `python -m aisci.config_reference`; "
             "`aisci init` writes the same descriptions as comments into a new study's `aisci.toml`.", ""]
    for name, field in StudyConfig.model_fields.items():
        section = field.annotation
        lines += [f"## [{name}]", "", " ".join((section.__doc__ or "").split()), "",
                  "| key | default | description |", "|---|---|---|"]
        for key, item in section.model_fields.items():
            lines.append(f"| `{key}` | {_default(item)} | {_cell(item.description or '')} |")
        lines.append("")
        for key, model in tables_of(section):
            lines += [f"### [{name}.{key}.NAME]", "", " ".join((model.__doc__ or "").split()), "",
                      "| key | default | description |", "|---|---|---|"]
            lines += [f"| `{k}` | {_default(item)} | {_cell(item.description or '')} |"
                      for k, item in model.model_fields.items()]
            lines.append("")
    return "\n".join(lines)


def tables_of(section: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    """The keys of a section that hold named tables of a model (`[llm.endpoints.NAME]`)."""
    found = []
    for key, field in section.model_fields.items():
        args = get_args(field.annotation)
        if get_origin(field.annotation) is dict and isinstance(args[1], type) and issubclass(args[1], BaseModel):
            found.append((key, args[1]))
    return found


def _default(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value: Any = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return "unset" if value is None else f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    print(reference_markdown(), end="")
