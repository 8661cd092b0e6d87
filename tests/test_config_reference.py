"""The config documents itself: a description on every key, `aisci init` writes them as
comments into aisci.toml (which still reads back as the same config), and docs/config.md is
written from the same descriptions."""

from __future__ import annotations

import tomllib
from pathlib import Path

from aisci.config import Endpoint, StudyConfig, StudySection, dump_config, load_config, parse_config
from aisci.config_reference import reference_markdown, tables_of
from tests.study_helpers import init_study

DOCS = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def every_field():
    for name, field in StudyConfig.model_fields.items():
        section = field.annotation
        yield from ((f"{name}.{key}", item) for key, item in section.model_fields.items())
        for key, model in tables_of(section):
            yield from ((f"{name}.{key}.NAME.{k}", item) for k, item in model.model_fields.items())


def test_every_key_has_a_description():
    fields = list(every_field())
    assert len(fields) > 60
    assert [name for name, field in fields if not (field.description or "").strip()] == []


def test_docs_config_md_is_written_from_the_descriptions():
    assert DOCS.read_text(encoding="utf-8") == reference_markdown(), "run `python -m aisci.config_reference > docs/config.md`"
    for name, _field in every_field():
        assert f"`{name.rsplit('.', 1)[1]}`" in DOCS.read_text(encoding="utf-8")


def test_init_writes_every_key_with_its_description_and_the_file_reads_back_the_same(tmp_path, toy_template):
    study = init_study(tmp_path / "s", toy_template)
    text = (study / "aisci.toml").read_text(encoding="utf-8")
    config = load_config(study)
    for name, field in StudyConfig.model_fields.items():
        section = getattr(config, name)
        for key, item in type(section).model_fields.items():
            first_words = " ".join((item.description or "").split()[:4])
            assert first_words in text, f"{name}.{key}: no description in aisci.toml"
            if getattr(section, key) is None:
                assert f"# {key} =  (unset)" in text
    assert parse_config(tomllib.loads(text)) == config


def test_tables_round_trip_through_the_commented_file():
    config = StudyConfig(study=StudySection(topic="How weight decay shapes grokking"))
    config.llm.roles["review"] = "endpoint:lab"
    config.llm.endpoints["lab"] = Endpoint(model="m", base_url="http://127.0.0.1:9/v1")
    config.experiments.overrides = {"lr": 0.3, "steps": 10}
    config.budget.max_usd = 2.5
    assert parse_config(tomllib.loads(dump_config(config))) == config
