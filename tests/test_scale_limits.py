"""No list a model answers or a phase keeps may have a limit a bigger study can reach."""

import importlib
import pkgutil

import aisci
from aisci.llm.tasks import all_tasks


def _walk(schema, path="answer"):
    if isinstance(schema, dict):
        if "maxItems" in schema:
            yield path
        for key, value in schema.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _walk(value, f"{path}[{index}]")


def test_no_task_answer_caps_a_list():
    for module in pkgutil.walk_packages(aisci.__path__, "aisci."):  # register every task
        if not any(part in module.name for part in (".notebooks", "fakeserver", "__main__")):
            importlib.import_module(module.name)
    tasks = all_tasks()
    assert "analysis.observe" in tasks and len(tasks) > 10
    capped = [f"{name}: {where}" for name, task in tasks.items() for where in _walk(task.output.model_json_schema())]
    assert capped == []


def test_observations_of_a_big_study_validate():
    from aisci.phases.analysis import Observations
    assert len(Observations(observations=[f"run {i} is fine" for i in range(60)]).observations) == 60
