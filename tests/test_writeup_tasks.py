"""The writeup's section tasks: one per section, each with its own prompt file and answer model,
asked in an order where every section a prompt shows is written before it."""

from __future__ import annotations

from aisci.paper.sections import SECTIONS
from aisci.writeup.facts import SECTION_FACTS
from aisci.writeup.tasks import DRAFT_ORDER, FIX, SECTION_TASKS


def test_every_section_is_drafted_once_by_its_own_task():
    assert sorted(DRAFT_ORDER) == sorted(SECTIONS) == sorted(SECTION_TASKS)
    for name, task in SECTION_TASKS.items():
        assert task.name == f"writeup.{name}" and task.prompt_path().is_file()
        assert list(task.output.model_fields) == [name]  # the answer names the section it holds
        assert task.role == "writeup"
    assert len({task.output for task in SECTION_TASKS.values()}) == len(SECTIONS)
    assert FIX.name not in {task.name for task in SECTION_TASKS.values()}


def test_a_section_prompt_shows_only_sections_written_before_it_and_known_facts():
    for position, name in enumerate(DRAFT_ORDER):
        names = SECTION_TASKS[name].placeholders()
        shown = {n for n in names if n in SECTIONS}
        assert shown <= set(DRAFT_ORDER[:position]), (name, shown - set(DRAFT_ORDER[:position]))
        assert {n for n in names if n not in SECTIONS} <= set(SECTION_FACTS), name
    # the abstract and title summarise what is written; the core is written from the notebooks
    assert DRAFT_ORDER[:2] == ("method", "experimental_setup") and DRAFT_ORDER[-2:] == ("abstract", "title")


def test_each_section_has_its_own_token_cap():
    caps = {name: task.max_tokens for name, task in SECTION_TASKS.items()}
    assert caps["title"] < caps["abstract"] < caps["results"]
    assert max(caps.values()) <= 4000  # no section is asked for a whole paper's worth
