"""The reviewer personas aisci ships: one prompt file each, aisci/prompts/review.persona.NAME.txt.

Its own module, reading only the folder, so that `aisci review --help` can list them
without loading the reviewers."""

from pathlib import Path

PERSONA_FILES = Path(__file__).resolve().parent.parent / "prompts"
PERSONAS = tuple(sorted(p.name.split(".")[2] for p in PERSONA_FILES.glob("review.persona.*.txt")))
