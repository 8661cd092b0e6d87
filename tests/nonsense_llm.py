"""A model that answers every task with schema-valid nonsense: random words in every field,
numbers in range, patterns honoured. What a weak or confused model does at its worst, with
the form right and the content useless. Use with the fake server:

    fake_llm.respond_with(nonsense_responder(seed=0))
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from tests.fake_llm_server import reply

WORDS = ("blorp", "quaff", "zingle", "marrow", "tesseract", "plinth", "gorse", "wimble", "fjord", "crux",
         "nimbus", "sprocket", "lantern", "oboe", "quince", "vellum", "jib", "mottle", "pylon", "rune")


def nonsense_responder(seed: int = 0):
    def respond(request: dict):
        schema = (request.get("response_format") or {}).get("json_schema", {}).get("schema")
        digest = hashlib.sha256(repr((seed, request.get("messages"))).encode()).hexdigest()
        rng = random.Random(int(digest[:16], 16))
        return reply(nonsense(schema or {"type": "object"}, schema or {}, rng))
    return respond


def nonsense(schema: dict, root: dict, rng: random.Random) -> Any:
    if "$ref" in schema:
        return nonsense(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root, rng)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return nonsense(rng.choice(options), root, rng)
    if "allOf" in schema:
        return nonsense(schema["allOf"][0], root, rng)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        out = {name: nonsense(sub, root, rng) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) or (extra is True and not schema.get("properties")):
            sub = extra if isinstance(extra, dict) else {"type": "string"}
            out.update({_word(rng): nonsense(sub, root, rng) for _ in range(rng.randint(1, 2))})
        return out
    if kind == "array":
        low = schema.get("minItems", 1)
        high = max(low, min(schema.get("maxItems", 3), 3))
        return [nonsense(schema.get("items", {}), root, rng) for _ in range(rng.randint(low, high))]
    if kind == "integer":
        low, high = _bounds(schema, 0, 10)
        return rng.randint(int(low), int(high))
    if kind == "number":
        low, high = _bounds(schema, 0.0, 10.0)
        return round(rng.uniform(low, high), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    return _string(schema, rng)


def _bounds(schema: dict, low, high):
    low = schema.get("minimum", schema.get("exclusiveMinimum", low - 1) + 1 if "exclusiveMinimum" in schema else low)
    high = schema.get("maximum", schema.get("exclusiveMaximum", high + 1) - 1 if "exclusiveMaximum" in schema else high)
    return low, max(low, high)


def _word(rng: random.Random) -> str:
    return rng.choice(WORDS)


def _string(schema: dict, rng: random.Random) -> str:
    if "pattern" in schema:  # every pattern aisci's models use admits a snake_case word
        text = "_".join(_word(rng) for _ in range(rng.randint(1, 3)))
        assert re.search(schema["pattern"], text), schema["pattern"]
        return text
    text = " ".join(_word(rng) for _ in range(rng.randint(3, 12)))
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    while len(text) < low:
        text += " " + _word(rng)
    return text[:high] if high else text
