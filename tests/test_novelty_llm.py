"""The novelty check driven by a scripted model, with the online sources played by the local
fake literature server (no internet): rounds of searches the model asks for, its decision
and evidence, the papers it read added to the study library, a replay that sends nothing
to either server, and a storm of 429s that ends in bounded time with a warning and the
local library."""

from __future__ import annotations

import json

import pytest

from aisci.cli import main
from aisci.config import LITERATURE_SOURCES, StudyConfig, StudySection
from tests.fake_literature_server import FakeLiteratureServer, FakePaper
from aisci.literature.library import Library
from aisci.literature.sources import SOURCES
from aisci.artifacts import novel_ideas
from aisci.phases.novelty import first_query, offline_reason
from aisci.study import Study
from tests.fake_llm_server import reply
from tests.study_helpers import init_study, set_config

ONLINE = ["semantic_scholar", "openalex", "crossref"]  # arXiv asks for 3 s between requests: left out for speed
PAPERS = [
    FakePaper("Small learning rates slow gradient descent on quadratic losses", ["Ana Ruiz"], 2018,
              venue="Optimization Journal", doi="10.1234/ruiz.2018",
              abstract="A learning rate of 0.01 raises the final loss of gradient descent on a quadratic fit."),
    FakePaper("Stochastic approximation revisited", ["Bo Li"], 2015, venue="Annals of Steps", doi="10.1234/li.2015",
              abstract="Step sizes for stochastic approximation and gradient descent."),
]
LOCAL_BIB = """@article{kim2017schedules,
  title = {Learning rate schedules for quadratic fits},
  author = {Kim, Min}, journal = {Toy Letters}, year = {2017},
  abstract = {Schedules that decay the learning rate of gradient descent on quadratic fits.}
}
"""
FOLLOW_UP = "learning rate quadratic gradient descent"


def papers_in(prompt: str) -> list[dict]:
    return json.loads(prompt.split("`matched_terms` which ones):\n", 1)[1].split("\n\nThis is round", 1)[0])


class ScriptedNovelty:
    """Round 1: asks for one more search. Round 2: names the paper that anticipates the idea
    (and a key it was never shown, which the record must leave out)."""

    def __init__(self, server: FakeLiteratureServer):
        self.server = server
        self.prompts: list[str] = []
        self.requests_before_round_2: int | None = None

    def __call__(self, request: dict):
        assert request["response_format"]["json_schema"]["name"] == "novelty_assess"
        prompt = request["messages"][-1]["content"]
        self.prompts.append(prompt)
        if "This is round 1 of" in prompt:
            return reply({"novel": True, "evidence": [], "summary": "Too early to tell.", "queries": [FOLLOW_UP]})
        self.requests_before_round_2 = len(self.server.requests)
        papers = papers_in(prompt)
        ruiz = [p["key"] for p in papers if p["title"].startswith("Small learning rates")]
        evidence = [{"key": key, "reason": "reports the same effect of lr 0.01", "anticipates": True} for key in ruiz]
        return reply({"novel": not ruiz, "summary": "Ruiz (2018) already shows it." if ruiz else "Nothing close.",
                      "evidence": evidence + [{"key": "made_up2020", "reason": "not a listed paper"}],
                      "queries": []})


@pytest.fixture
def study(tmp_path, toy_template, monkeypatch, fake_llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    root = init_study(tmp_path / "s", toy_template)
    set_config(root, "llm.roles", novelty=f"openai:fake-model@{fake_llm.base_url}")
    set_config(root, "ideation", select=1)  # the seed idea small_lr (lr 0.01) alone goes on
    (tmp_path / "local.bib").write_text(LOCAL_BIB)
    assert main(["lit", "add", str(root), str(tmp_path / "local.bib")]) == 0
    return root


def test_model_rounds_decision_evidence_and_papers_added(study, fake_llm):
    with FakeLiteratureServer(PAPERS) as server:
        set_config(study, "literature", sources=ONLINE, base_urls=server.base_urls, max_wait_s=5)
        scripted = ScriptedNovelty(server)
        fake_llm.respond_with(scripted)
        assert main(["run", str(study), "--quiet", "--until", "novelty"]) == 0
        assert {server.count(name) for name in ONLINE} == {2}  # two searches, every source asked each time

        decision = json.loads((study / "ideas" / "novelty.json").read_text())["small_lr"]
        ruiz = next(p["key"] for p in decision["papers"] if p["title"].startswith("Small learning rates"))
        assert decision["novel"] is False and decision["author"] == "model:fake-model"
        assert decision["queries"] == [first_query_of_seed(study), FOLLOW_UP]
        assert [r["asked_for"] for r in decision["rounds"]] == [[FOLLOW_UP], []]
        assert decision["evidence"] == [{"key": ruiz, "reason": "reports the same effect of lr 0.01",
                                         "anticipates": True}]
        assert decision["ignored_evidence"] == ["made_up2020"]  # never shown to the model: not evidence
        assert not decision["offline"] and not decision["local_only"]
        assert "online sources (crossref, openalex, semantic_scholar)" in decision["searched"]
        origins = {p["key"]: p["origin"] for p in decision["papers"]}
        assert origins["kim2017schedules"] == "study" and "semantic_scholar" in origins[ruiz]
        searched = scripted.prompts[1].split("Searches run so far: ", 1)[1].split("\n\nPapers found", 1)[0]
        assert json.loads(searched) == decision["queries"]  # round 2 knows what was searched

        # the papers the model read are in the study library now, under the keys the evidence cites
        with Library.for_study(study) as library:
            assert library.get(ruiz).doi == "10.1234/ruiz.2018"
        assert ruiz in decision["added_to_library"] and "kim2017schedules" not in decision["added_to_library"]

        assert novel_ideas(Study.open(study)) == []
        assert main(["approve", str(study), "novelty", "small_lr"]) == 0
        assert [i.name for i in novel_ideas(Study.open(study))] == ["small_lr"]

        # Run the check again: the model's answers come from the call store and the sources'
        # from the response cache, so neither server hears anything.
        Study.open(study).clear_phase_state("novelty")
        sent, asked = fake_llm.request_count, len(server.requests)
        assert main(["run", str(study), "--quiet", "--until", "novelty", "--cache", "replay"]) == 0
        assert (fake_llm.request_count, len(server.requests)) == (sent, asked)
        assert json.loads((study / "ideas" / "novelty.json").read_text())["small_lr"]["evidence"] == \
            decision["evidence"]


def first_query_of_seed(study) -> str:
    from aisci.artifacts import Ideas

    return first_query(next(i for i in Ideas.load(Study.open(study)).ideas if i.name == "small_lr"))


def test_a_429_storm_ends_with_a_warning_and_the_local_library(study, fake_llm, capsys):
    with FakeLiteratureServer(PAPERS) as server:
        for name in ONLINE:
            server.fail(name, 429, headers={"Retry-After": "1"})
        set_config(study, "literature", sources=ONLINE, base_urls=server.base_urls, max_wait_s=2)
        scripted = ScriptedNovelty(server)
        fake_llm.respond_with(scripted)
        assert main(["run", str(study), "--quiet", "--until", "novelty"]) == 0
        # the follow-up search of round 2 asked no source: each failed once and was not asked again
        assert scripted.requests_before_round_2 == len(server.requests) > 0

    duration = json.loads((study / ".aisci" / "phases.json").read_text())["novelty"]["duration_s"]
    assert duration < 60  # two 2-second source budgets and two notebook-free rounds, not an endless retry loop
    decision = json.loads((study / "ideas" / "novelty.json").read_text())["small_lr"]
    assert decision["local_only"] and {p["origin"] for p in decision["papers"]} == {"study"}
    assert decision["papers"][0]["key"] == "kim2017schedules"
    assert any("every online source failed" in w for w in decision["warnings"])
    assert any("rate limited (HTTP 429)" in w for w in decision["warnings"])
    assert "every online source failed" in decision["searched"]
    out = capsys.readouterr().out
    assert "note: novelty check of small_lr: every online source failed" in out


def test_when_the_check_stays_offline_and_why():
    config = StudyConfig(study=StudySection(topic="toy"))
    assert offline_reason(config, offline_engine=True) == "the offline engine searches the local library only"
    assert offline_reason(config, offline_engine=False) is None
    config.literature.offline = True
    assert "[literature] offline = true" in offline_reason(config, offline_engine=False)
    config.literature.offline, config.literature.sources = False, []
    assert "[literature] sources = []" in offline_reason(config, offline_engine=False)
    assert LITERATURE_SOURCES == tuple(SOURCES)  # the config validates against the real source list


def test_lit_search_reads_the_literature_section_of_the_config(study, tmp_path, capsys):
    with FakeLiteratureServer(PAPERS) as server:
        set_config(study, "literature", sources=["openalex"], base_urls=server.base_urls, max_wait_s=3)
        assert main(["lit", "search", str(study), "small learning rates", "--online"]) == 0
        assert server.count("openalex") == 1 and server.count("semantic_scholar") == 0
    assert "Small learning rates slow gradient descent" in capsys.readouterr().out

    (tmp_path / "mine.bib").write_text("@book{mine2001, title = {Step size schedules}, author = {Me, Myself}, "
                                       "year = {2001}}\n")
    set_config(study, "literature", user_library="../mine.bib")  # relative to the study folder
    assert main(["lit", "search", str(study), "schedules"]) == 0
    out = capsys.readouterr().out
    assert "mine2001" in out and "[user]" in out and "kim2017schedules" in out

    set_config(study, "literature", sources=["google"])
    assert main(["lit", "search", str(study), "x"]) == 2
    err = capsys.readouterr().err
    assert "literature.sources: Value error, unknown source 'google'" in err and len(err.strip().splitlines()) == 1
