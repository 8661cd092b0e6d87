"""What a reviewer is told besides the paper: its persona and the few-shot example reviews.

Persona: `[review] persona` names a shipped text, `aisci/prompts/review.persona.NAME.txt`
(strict, neutral, lenient), or is a path to a .txt file of your own.

Few-shot examples: `[review] few_shot = ["examples/attention.json", ...]`, each a JSON file

    {
      "paper": "attention.pdf",          # the example paper: .pdf, .tex, .md or .txt, relative to this JSON file
      "review": { ...the NeurIPS form: summary, strengths, ..., overall, confidence, decision... }
    }

("paper_text": "..." may stand in for "paper"). Each example paper is cut to
`[review] few_shot_max_chars` characters so a few examples do not crowd out the paper under review.
Paths in `few_shot` and `persona` are relative to the study folder (or, for `aisci review`, the
current folder).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from aisci.errors import AisciError
from aisci.llm.tasks import PROMPTS_DIR
from aisci.review.form import ReviewForm
from aisci.review.inputs import PaperInputError, read_paper
from aisci.review.personas import PERSONAS

FEW_SHOT_PROMPT = PROMPTS_DIR / "review.few_shot.txt"


class ReviewSetupError(AisciError):
    """A persona or few-shot example file named in [review] is missing or malformed."""


class _ExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paper: str | None = None
    paper_text: str | None = None
    review: ReviewForm

    @model_validator(mode="after")
    def _one_paper(self):
        if (self.paper is None) == (self.paper_text is None):
            raise ValueError('give the example paper as "paper" (a file path) or "paper_text", exactly one')
        return self


@dataclass(frozen=True)
class FewShotExample:
    source: str  # the example file, as named in the settings
    paper_excerpt: str
    review: ReviewForm


def persona_text(persona: str, base_dir: Path) -> str:
    if persona in PERSONAS:
        return (PROMPTS_DIR / f"review.persona.{persona}.txt").read_text(encoding="utf-8").strip()
    path = base_dir / persona
    if path.suffix != ".txt" or not path.is_file():
        raise ReviewSetupError(f"review persona {persona!r}: not one of {', '.join(PERSONAS)} and not a .txt file "
                               f"(looked for {path})")
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        raise ReviewSetupError(f"review persona file {path} is empty")
    return text


def load_examples(paths: list[str], base_dir: Path, max_chars: int) -> list[FewShotExample]:
    return [_load_example(name, base_dir, max_chars) for name in paths]


def _load_example(name: str, base_dir: Path, max_chars: int) -> FewShotExample:
    path = base_dir / name
    if not path.is_file():
        raise ReviewSetupError(f"few-shot example {name}: no such file (looked for {path})")
    try:
        example = _ExampleFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReviewSetupError(f"few-shot example {path}: {_why(exc)}") from None
    if example.paper is not None:
        try:
            text = read_paper(path.parent / example.paper).text
        except PaperInputError as exc:
            raise ReviewSetupError(f"few-shot example {path}: its paper: {exc}") from None
    else:
        text = example.paper_text or ""
    if not text.strip():
        raise ReviewSetupError(f"few-shot example {path}: the example paper has no text")
    return FewShotExample(name, excerpt(text, max_chars), example.review)


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        return f"{where}: {first['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
    return f"not valid JSON ({exc})"


def excerpt(text: str, max_chars: int) -> str:
    """The text cut at a line break at most max_chars in, marked as cut."""
    if len(text) <= max_chars:
        return text.strip()
    cut = text.rfind("\n", 0, max_chars)
    cut = cut if cut > max_chars // 2 else max_chars
    return text[:cut].rstrip() + "\n[... the rest of the paper is left out ...]"


def few_shot_text(examples: list[FewShotExample]) -> str:
    """The examples as prompt text (empty without examples), worded by prompts/review.few_shot.txt."""
    if not examples:
        return ""
    parts = FEW_SHOT_PROMPT.read_text(encoding="utf-8").split("[example]")
    header, example = parts[0].replace("[header]", "").strip(), parts[1].strip()
    blocks = [string.Template(example).substitute(index=i, count=len(examples), paper=e.paper_excerpt,
                                                  review=json.dumps(e.review.model_dump(), indent=1))
              for i, e in enumerate(examples, 1)]
    return "\n" + header + "\n\n" + "\n\n".join(blocks) + "\n"
