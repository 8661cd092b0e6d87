"""The LLM layer against a real HTTP server on 127.0.0.1 through the real openai client:
retries, immediate failures, repair, structured-output fallback, the call store, budget."""

from __future__ import annotations

import re
import time

import pytest
from pydantic import BaseModel

from aisci.config import BudgetSection, LLMSection
from aisci.errors import BudgetExceeded, LLMError, LLMOutputError, ReplayMiss
from aisci.llm import LLM, Task
from aisci.llm.store import CallStore
from tests.fake_llm_server import bad_json, error, reject_json_schema, reply, reset, stall


class Answer(BaseModel):
    verdict: str
    score: int


ANSWER = Task("review.paper", "review", Answer, lambda inputs: Answer(verdict="offline", score=0), max_tokens=100)
GOOD = {"verdict": "fine", "score": 7}


def make_llm(server, tmp_path, monkeypatch, *, cache="live", max_retries=3, budget=None, timeout_s=5.0,
             prices=None, model="fake-model", warn=None, **settings_kw) -> LLM:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-value")
    settings = LLMSection(default=f"openai:{model}@{server.base_url}", cache=cache, max_retries=max_retries,
                          backoff_s=0.01, max_backoff_s=2.0, timeout_s=timeout_s, prices=prices or {}, **settings_kw)
    return LLM(settings, budget or BudgetSection(), CallStore(tmp_path / "calls.sqlite"), warn=warn)


def ask(llm: LLM, **inputs):
    return llm.run(ANSWER, paper_text=inputs.get("text", "a paper"), persona="neutral", reviewer_index="1",
                   accept_threshold="6")


def test_answer_is_validated_and_stored(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply(GOOD, prompt_tokens=120, completion_tokens=30))
    llm = make_llm(fake_llm, tmp_path, monkeypatch)
    result = ask(llm)
    assert result.output == Answer(**GOOD) and result.author == "model:fake-model" and not result.replayed
    request = fake_llm.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-test-secret-value"
    assert request.body["response_format"]["type"] == "json_schema"
    totals = llm.store.totals()
    assert (totals.calls, totals.prompt_tokens, totals.completion_tokens) == (1, 120, 30)


def test_identical_request_is_answered_from_the_store(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply(GOOD))
    first = ask(make_llm(fake_llm, tmp_path, monkeypatch))
    count = fake_llm.request_count
    second = ask(make_llm(fake_llm, tmp_path, monkeypatch))  # a new process, same study store
    assert fake_llm.request_count == count  # zero requests the second time
    assert second.replayed and second.output == first.output


def test_store_never_holds_the_key(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply(GOOD))
    ask(make_llm(fake_llm, tmp_path, monkeypatch))
    assert b"sk-test-secret-value" not in (tmp_path / "calls.sqlite").read_bytes()


@pytest.mark.parametrize("fault", [
    error(429, headers={"Retry-After": "0.2"}), error(500), error(502), error(503), reset(), bad_json(),
], ids=["429", "500", "502", "503", "reset", "bad-json-body"])
def test_transient_faults_are_retried(fake_llm, tmp_path, monkeypatch, fault):
    fake_llm.script(fault, fault, reply(GOOD))
    result = ask(make_llm(fake_llm, tmp_path, monkeypatch))
    assert result.output.score == 7 and fake_llm.request_count == 3


def test_timeout_is_retried(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(stall(2.0), reply(GOOD))
    result = ask(make_llm(fake_llm, tmp_path, monkeypatch, timeout_s=0.5))
    assert result.output.score == 7


def test_retry_after_is_honoured(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(error(429, headers={"Retry-After": "1"}), reply(GOOD))
    started = time.monotonic()
    ask(make_llm(fake_llm, tmp_path, monkeypatch))
    assert time.monotonic() - started >= 0.9  # backoff_s is 0.01: only Retry-After explains the wait


def test_retries_are_bounded(fake_llm, tmp_path, monkeypatch):
    fake_llm.respond_with(lambda request: error(429, headers={"Retry-After": "0"}))
    with pytest.raises(LLMError, match="failed 3 times"):
        ask(make_llm(fake_llm, tmp_path, monkeypatch, max_retries=2))
    assert fake_llm.request_count == 3


@pytest.mark.parametrize("status,words", [(401, "rejected the API key"), (403, "denied access"), (404, "not found")])
def test_auth_and_missing_model_fail_at_once(fake_llm, tmp_path, monkeypatch, status, words):
    fake_llm.respond_with(lambda request: error(status))
    with pytest.raises(LLMError, match=words) as info:
        ask(make_llm(fake_llm, tmp_path, monkeypatch))
    assert fake_llm.request_count == 1
    assert "sk-test-secret-value" not in str(info.value)


def test_unreachable_endpoint_reports_after_bounded_retries(tmp_path, monkeypatch):
    class Nowhere:
        base_url = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    with pytest.raises(LLMError, match="giving up") as info:
        ask(make_llm(Nowhere, tmp_path, monkeypatch, max_retries=1))
    # says what happened and how long it kept trying
    assert "connection refused" in str(info.value) and re.search(r"2 times over \d+\.\d s", str(info.value))


def test_invalid_json_gets_one_repair_round(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply("this is not json"), reply(GOOD))
    llm = make_llm(fake_llm, tmp_path, monkeypatch)
    assert ask(llm).output.score == 7
    repair = fake_llm.requests[-1].body["messages"]
    assert repair[-2] == {"role": "assistant", "content": "this is not json"}
    assert "could not be used" in repair[-1]["content"]
    assert llm.store.totals().calls == 1  # one task call, its repair counted with it


def test_schema_mismatch_is_repaired(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply({"verdict": "fine", "score": "seven"}), reply(GOOD))
    assert ask(make_llm(fake_llm, tmp_path, monkeypatch)).output.score == 7
    assert "score" in fake_llm.requests[-1].body["messages"][-1]["content"]


def test_truncated_answer_is_never_used(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply('{"verdict": "fine", "score": 7}', finish_reason="length"), reply(GOOD))
    assert ask(make_llm(fake_llm, tmp_path, monkeypatch)).output.score == 7
    assert "cut off" in fake_llm.requests[-1].body["messages"][-1]["content"]


def test_answer_still_invalid_after_repair_and_fresh_attempts_is_reported(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply("nope"), reply("still nope"), reply("{"), reply("[]"))
    llm = make_llm(fake_llm, tmp_path, monkeypatch, output_attempts=2)
    with pytest.raises(LLMOutputError, match="review.paper.*2 attempts"):
        ask(llm)
    assert fake_llm.request_count == 4  # bounded: two attempts, each with its repair round
    assert llm.store.totals().calls == 0  # nothing invalid is stored as an answer


def test_malformed_answers_get_a_repair_round_then_a_fresh_attempt(fake_llm, tmp_path, monkeypatch):
    # bad JSON, then a truncated answer to the repair: a real model's bad day
    fake_llm.script(reply("{'verdict': fine"), reply('{"verdict": "fine", "sc', finish_reason="length"), reply(GOOD))
    llm = make_llm(fake_llm, tmp_path, monkeypatch)
    assert ask(llm).output.score == 7
    first, repair, fresh = (r.body["messages"] for r in fake_llm.requests)
    assert len(repair) == len(first) + 2 and fresh == first  # the fresh attempt forgets the broken answers
    assert llm.store.get(ask(llm).call_id).attempts == 3  # all three requests are counted with the call


def test_server_without_json_schema_falls_back_to_json_mode(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reject_json_schema(), reply(GOOD))
    assert ask(make_llm(fake_llm, tmp_path, monkeypatch)).output.score == 7
    assert fake_llm.requests[-1].body["response_format"] == {"type": "json_object"}
    assert "JSON schema" in fake_llm.requests[-1].body["messages"][-1]["content"]


def test_replay_only_mode_names_the_task_on_a_miss(fake_llm, tmp_path, monkeypatch):
    with pytest.raises(ReplayMiss, match="review.paper"):
        ask(make_llm(fake_llm, tmp_path, monkeypatch, cache="replay"))
    assert fake_llm.request_count == 0


def test_cache_off_calls_again_and_keeps_the_call_id(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(reply(GOOD), reply({"verdict": "changed", "score": 3}))
    first = ask(make_llm(fake_llm, tmp_path, monkeypatch, cache="off"))
    second = ask(make_llm(fake_llm, tmp_path, monkeypatch, cache="off"))
    assert fake_llm.request_count == 2
    # node.json files and reviews point at call ids: asking again must not orphan them
    assert first.call_id == second.call_id
    call = CallStore(tmp_path / "calls.sqlite").get(first.call_id)
    assert call.task == "review.paper" and '"changed"' in call.response
    assert call.request["messages"][-1]["role"] == "user" and "sk-test" not in str(call.request)


def test_calls_command_lists_and_shows_a_call(fake_llm, tmp_path, monkeypatch, capsys, toy_template):
    from aisci.cli import main
    from tests.study_helpers import init_study
    study = init_study(tmp_path / "s", toy_template)
    fake_llm.script(reply(GOOD))
    llm = make_llm(fake_llm, tmp_path, monkeypatch)
    llm.store = CallStore(study / "llm" / "calls.sqlite")
    result = ask(llm, text="the paper under review")
    capsys.readouterr()
    assert main(["calls", str(study)]) == 0
    listing = capsys.readouterr().out
    assert "review.paper" in listing and "fake-model" in listing
    assert main(["calls", str(study), str(result.call_id)]) == 0
    whole = capsys.readouterr().out
    assert "the paper under review" in whole and '"verdict": "fine"' in whole
    assert main(["calls", str(study), "999"]) == 2
    assert capsys.readouterr().err.strip().startswith("aisci: error: no call with id 999")


def test_token_budget_stops_before_the_call_that_would_pass_it(fake_llm, tmp_path, monkeypatch):
    fake_llm.respond_with(lambda request: reply(GOOD, prompt_tokens=800, completion_tokens=50))
    llm = make_llm(fake_llm, tmp_path, monkeypatch, budget=BudgetSection(max_tokens=1100))
    ask(llm, text="first")
    with pytest.raises(BudgetExceeded, match="raise \\[budget\\] max_tokens"):
        ask(llm, text="second")
    assert fake_llm.request_count == 1
    assert llm.store.totals().calls == 1  # the paid call is saved


def test_dollar_budget_uses_the_price_table(fake_llm, tmp_path, monkeypatch):
    from aisci.config import Price
    fake_llm.respond_with(lambda request: reply(GOOD, prompt_tokens=1000, completion_tokens=100))
    llm = make_llm(fake_llm, tmp_path, monkeypatch, budget=BudgetSection(max_usd=0.015),
                   prices={"fake-model": Price(input_per_mtok=10.0, output_per_mtok=30.0)})
    ask(llm, text="first")
    assert llm.store.totals().cost_usd == pytest.approx(1000 * 10e-6 + 100 * 30e-6)
    with pytest.raises(BudgetExceeded, match="max_usd"):
        ask(llm, text="second")


# OpenAI's own 400 answers for a reasoning model (o1, o3, gpt-5) sent chat-model parameters
MAX_TOKENS_400 = {"error": {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
               "Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}
TEMPERATURE_400 = {"error": {
    "message": "Unsupported value: 'temperature' does not support 0.7 with this model. "
               "Only the default (1) value is supported.",
    "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}


def test_reasoning_model_parameters_are_adapted_and_remembered_by_the_study(fake_llm, tmp_path, monkeypatch):
    fake_llm.script(error(400, MAX_TOKENS_400), error(400, TEMPERATURE_400), reply(GOOD))
    warnings = []
    llm = make_llm(fake_llm, tmp_path, monkeypatch, model="reasoner-1", warn=warnings.append)
    assert ask(llm).output.score == 7
    sent = [r.body for r in fake_llm.requests]
    assert sent[0]["max_tokens"] == 100 and sent[0]["temperature"] == 0.7
    assert "max_tokens" not in sent[1] and sent[1]["max_completion_tokens"] == 100 and "temperature" in sent[1]
    assert "temperature" not in sent[2] and sent[2]["max_completion_tokens"] == 100
    assert any("reasoner-1 rejected a request parameter" in w for w in warnings)
    # a later run of the same study asks the adapted way at once: no 400 to pay for again
    fake_llm.script(reply(GOOD))
    again = make_llm(fake_llm, tmp_path, monkeypatch, model="reasoner-1", warn=warnings.append)
    ask(again, text="another paper")
    assert fake_llm.request_count == 4
    last = fake_llm.requests[-1].body
    assert "temperature" not in last and "max_tokens" not in last and last["max_completion_tokens"] == 100


def test_a_400_naming_another_parameter_is_not_retried(fake_llm, tmp_path, monkeypatch):
    body = {"error": {"message": "Invalid value for 'messages'.", "type": "invalid_request_error",
                      "param": "messages", "code": "invalid_value"}}
    fake_llm.script(error(400, body))
    with pytest.raises(LLMError, match="rejected the request.*Invalid value"):
        ask(make_llm(fake_llm, tmp_path, monkeypatch))
    assert fake_llm.request_count == 1


def test_capabilities_said_up_front_need_no_400(fake_llm, tmp_path, monkeypatch):
    from aisci.config import ModelCapability
    fake_llm.script(reply(GOOD))
    llm = make_llm(fake_llm, tmp_path, monkeypatch, capabilities={
        "fake-model": ModelCapability(temperature=False, max_tokens_param="max_completion_tokens")})
    ask(llm)
    body = fake_llm.requests[0].body
    assert "temperature" not in body and body["max_completion_tokens"] == 100


def test_shipped_capabilities_know_the_o_series_and_gpt5():
    from aisci.llm.capabilities import shipped_capability
    for model in ("o3", "o3-mini", "o1-2024-12-17", "gpt-5", "gpt-5-mini", "openai/o4-mini"):
        assert shipped_capability(model).max_tokens_param == "max_completion_tokens", model
    assert shipped_capability("gpt-4o") is None and shipped_capability("o30-custom") is None


def test_unpriced_model_is_warned_about_once_per_study(fake_llm, tmp_path, monkeypatch):
    from aisci.config import Price
    fake_llm.respond_with(lambda request: reply(GOOD))
    warnings = []
    for text in ("one", "two"):  # two runs of one study
        ask(make_llm(fake_llm, tmp_path, monkeypatch, warn=warnings.append, budget=BudgetSection(max_usd=1.0)),
            text=text)
    assert len(warnings) == 1 and "max_usd cannot be enforced" in warnings[0]
    assert '[llm.prices."fake-model"]' in warnings[0]
    priced = []  # a price per model in aisci.toml: no warning, and the cost is counted
    llm = make_llm(fake_llm, tmp_path / "other", monkeypatch, warn=priced.append,
                   prices={"fake-model": Price(input_per_mtok=1.0, output_per_mtok=2.0)})
    ask(llm)
    assert priced == [] and llm.store.totals().cost_usd > 0


def test_offline_engine_needs_no_server(tmp_path):
    llm = LLM(LLMSection(), BudgetSection(), CallStore(tmp_path / "calls.sqlite"))
    result = llm.run(ANSWER, paper_text="x", persona="neutral", reviewer_index="1", accept_threshold="6")
    assert result.author == "offline-engine" and result.output.verdict == "offline"
    again = llm.run(ANSWER, paper_text="x", persona="neutral", reviewer_index="1", accept_threshold="6")
    assert again.call_id == result.call_id  # a rerun of the offline engine keeps the id
