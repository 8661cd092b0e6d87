"""No list a model answers or a phase keeps may have a limit a bigger study can reach."""

import importlib
import pkgutil

import aisci
from aisci.llm.tasks import Task


def _walk(schema, path="answer"):
    if isinstance(schema, dict):
        if "maxItems" in schema:
            yield path
        for key, value in schema.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _walk(value, f"{path}[{index}]")


def all_tasks() -> dict[str, Task]:
    """Every LLM task aisci defines (each is a module-level Task)."""
    found = {}
    for info in pkgutil.walk_packages(aisci.__path__, "aisci."):
        if any(part in info.name for part in (".notebooks", "__main__")):
            continue
        module = importlib.import_module(info.name)
        found.update({t.name: t for t in vars(module).values() if isinstance(t, Task)})
    return found


def test_no_task_answer_caps_a_list():
    tasks = all_tasks()
    assert "analysis.observe" in tasks and len(tasks) > 10
    capped = [f"{name}: {where}" for name, task in tasks.items() for where in _walk(task.output.model_json_schema())]
    assert capped == []


def test_observations_of_a_big_study_validate():
    from aisci.phases.analysis import Observations
    assert len(Observations(observations=[f"run {i} is fine" for i in range(60)]).observations) == 60


def test_init_with_a_model_writes_ais2_shaped_defaults(tmp_path, toy_template):
    import tomllib

    from tests.study_helpers import init_study
    study = init_study(tmp_path / "m", toy_template, "--llm", "openai:gpt-4o")
    text = (study / "aisci.toml").read_text()
    config = tomllib.loads(text)
    assert (config["search"]["num_drafts"], config["search"]["max_debug_depth"], config["search"]["num_seeds"]) == (3, 3, 3)
    assert 12 <= config["search"]["max_nodes"] <= 20
    assert (config["review"]["num_reviews"], config["review"]["num_reflections"]) == (5, 5)
    assert "# [search] and [review] follow The AI Scientist v2's shape" in text
    offline = tomllib.loads((init_study(tmp_path / "o", toy_template) / "aisci.toml").read_text())
    assert offline["search"]["max_nodes"] == 2 and "AI Scientist v2" not in (tmp_path / "o" / "aisci.toml").read_text()
    small = tomllib.loads((init_study(tmp_path / "q", toy_template, "--llm", "openai:gpt-4o", "--small")
                           / "aisci.toml").read_text())
    assert small["search"] == offline["search"]
