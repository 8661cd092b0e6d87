"""Plans at cell level: changes anchored to nbformat cell ids, checked statically before a
node runs, and the diff from the parent."""

from pathlib import Path

import nbformat

from aisci.search import compose
from aisci.search.cellplan import CellChange, anchor_problems, notebook_diff, static_problems
from aisci.search.plans import NodePlan, plan_problems

TOY = Path(__file__).parent / "fixtures" / "toy" / "baseline.ipynb"
DECLARED = ["final_loss", "final_a"]
SPACE = {"lr": {"type": "float", "default": 0.1, "choices": [0.01, 0.1], "description": ""}}


def toy():
    nb = nbformat.read(str(TOY), as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    train = next(c for c in nb.cells if "aisci.record" in c.source)
    return nb, params["id"], train["id"]


def test_insert_replace_and_delete_by_id_not_position():
    nb, params, train = toy()
    changes = [CellChange(action="insert_after", cell_id=params, cell_type="markdown", source="## A penalty"),
               CellChange(action="insert_after", cell_id=params, source="PENALTY = 0.01"),
               CellChange(action="replace", cell_id=train, source=nb.cells[2].source.replace("a -= lr * grad",
                                                                                             "a -= lr * (grad + PENALTY * a)"))]
    child, edited = compose.apply_plan(nb, {"lr": 0.01}, changes, "model:m")
    sources = [c.source for c in child.cells]
    assert sources[1].startswith("lr = 0.01") and sources[2] == "PENALTY = 0.01" and sources[3] == "## A penalty"
    assert "PENALTY * a" in sources[4] and child.cells[4]["id"] == train  # a replaced cell keeps its id
    assert edited == [0, 1, 2]  # positions among code cells: parameters set, the new cell, the replaced one
    again, _ = compose.apply_plan(nb, {"lr": 0.01}, changes, "model:m")
    assert [c["id"] for c in again.cells] == [c["id"] for c in child.cells]  # the same plan, the same notebook
    assert child.cells[2].metadata["aisci"]["author"] == "model:m"
    assert static_problems(nb, child, DECLARED) == []
    diff = notebook_diff(nb, child, "baseline/node-0", "idea/node-0")
    assert "+PENALTY = 0.01" in diff and "-    a -= lr * grad" in diff and "+## A penalty" in diff
    nbformat.validate(child)


def test_anchor_problems_go_back_to_the_model():
    nb, params, train = toy()
    problems = anchor_problems(nb, [CellChange(action="delete", cell_id=params),
                                    CellChange(action="replace", cell_id="no-such-id", source="x = 1"),
                                    CellChange(action="replace", cell_id=train, source="x = 1"),
                                    CellChange(action="delete", cell_id=train)])
    text = " | ".join(problems)
    assert "is the parameters cell" in text and "no cell has id 'no-such-id'" in text and "twice" in text
    plan = NodePlan(parameters={"lr": 0.01}, cells=[CellChange(action="insert_before", cell_id="nope", source="y")],
                    rationale="r")
    assert any("no cell has id" in p for p in plan_problems("draft", plan, SPACE, nb, []))


def test_static_checks_catch_lost_records_and_code_that_does_not_parse():
    nb, params, train = toy()
    source = next(c for c in nb.cells if c["id"] == train).source
    dropped, _ = compose.apply_plan(nb, {}, [CellChange(action="replace", cell_id=train,
                                                        source=source.replace('aisci.record("final_a", a)', ""))], "m")
    assert any("final_a must still be recorded" in p for p in static_problems(nb, dropped, DECLARED))
    broken, _ = compose.apply_plan(nb, {}, [CellChange(action="insert_after", cell_id=train, source="def f(:\n")], "m")
    assert any("does not parse (line 1" in p for p in static_problems(nb, broken, DECLARED))
    magic, _ = compose.apply_plan(nb, {}, [CellChange(action="insert_after", cell_id=train,
                                                      source="%matplotlib inline\n!ls\nx = 1")], "m")
    assert static_problems(nb, magic, DECLARED) == []  # IPython magics are not Python, and not errors
