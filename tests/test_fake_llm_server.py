"""Self-tests for the scripted fake OpenAI server, driven by the real openai client."""

import json
import threading

import httpx
import openai
import pytest

from tests.fake_llm_server import (FakeLLMServer, bad_json, error, fake_llm, reject_json_schema,  # noqa: F401
                                   reply, reset, stall)

MESSAGES = [{"role": "user", "content": "hello"}]


def client_for(server, timeout=5.0):
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=timeout)


def ask(server, **kwargs):
    with client_for(server, kwargs.pop("timeout", 5.0)) as client:
        return client.chat.completions.create(model="test-model", messages=kwargs.pop("messages", MESSAGES),
                                              **kwargs)


def test_reply_round_trips_content_usage_and_model(fake_llm):
    fake_llm.script(reply("plain text", prompt_tokens=11, completion_tokens=7),
                    reply({"title": "idea"}, finish_reason="length"))
    first = ask(fake_llm)
    assert first.choices[0].message.content == "plain text"
    assert first.choices[0].message.role == "assistant"
    assert first.choices[0].finish_reason == "stop"
    assert (first.usage.prompt_tokens, first.usage.completion_tokens, first.usage.total_tokens) == (11, 7, 18)
    assert first.model == "test-model"
    second = ask(fake_llm)
    assert json.loads(second.choices[0].message.content) == {"title": "idea"}
    assert second.choices[0].finish_reason == "length"
    assert second.usage.total_tokens == second.usage.prompt_tokens + second.usage.completion_tokens > 0
    assert fake_llm.pending == 0


def test_models_endpoint_lists_a_model(fake_llm):
    with client_for(fake_llm) as client:
        models = client.models.list()
    assert [m.id for m in models.data] == ["fake-model"]
    assert fake_llm.pending == 0  # listing models does not consume the script


def test_rate_limit_exposes_retry_after(fake_llm):
    fake_llm.script(error(429, headers={"Retry-After": "1"}))
    with pytest.raises(openai.RateLimitError) as caught:
        ask(fake_llm)
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.status_code == 429


@pytest.mark.parametrize("status, exc_type", [
    (400, openai.BadRequestError), (401, openai.AuthenticationError), (403, openai.PermissionDeniedError),
    (404, openai.NotFoundError), (500, openai.InternalServerError)])
def test_error_status_maps_to_openai_exception(fake_llm, status, exc_type):
    fake_llm.script(error(status))
    with pytest.raises(exc_type) as caught:
        ask(fake_llm)
    assert f"scripted HTTP {status}" in caught.value.message


def test_custom_error_body_is_passed_through(fake_llm):
    body = {"error": {"message": "quota gone", "type": "insufficient_quota", "code": "insufficient_quota"}}
    fake_llm.script(error(429, body))
    with pytest.raises(openai.RateLimitError) as caught:
        ask(fake_llm)
    assert caught.value.code == "insufficient_quota"
    assert "quota gone" in caught.value.message


def test_stall_past_client_timeout_raises_timeout(fake_llm):
    fake_llm.script(stall(3), reply("after the stall"))
    with pytest.raises(openai.APITimeoutError):
        ask(fake_llm, timeout=0.3)
    # The server stays usable: the next request gets the next step.
    assert ask(fake_llm).choices[0].message.content == "after the stall"


def test_short_stall_then_reply_arrives(fake_llm):
    fake_llm.script(stall(0.1, then=reply("late but fine")))
    assert ask(fake_llm).choices[0].message.content == "late but fine"


def test_reset_raises_connection_error(fake_llm):
    fake_llm.script(reset(), reply("reconnected"))
    with pytest.raises(openai.APIConnectionError) as caught:
        ask(fake_llm)
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert ask(fake_llm).choices[0].message.content == "reconnected"


def test_bad_json_raises_json_decode_error(fake_llm):
    # openai parses an application/json body with json.loads and does not wrap the failure:
    # callers see json.JSONDecodeError (a ValueError), not an openai.APIError.
    fake_llm.script(bad_json())
    with pytest.raises(json.JSONDecodeError):
        ask(fake_llm)


def test_reject_json_schema_is_a_bad_request_naming_response_format(fake_llm):
    fake_llm.script(reject_json_schema(), reply({"ok": True}))
    schema = {"name": "answer", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}
    with pytest.raises(openai.BadRequestError) as caught:
        ask(fake_llm, response_format={"type": "json_schema", "json_schema": schema})
    assert "json_schema" in caught.value.message and caught.value.param == "response_format"
    # The fallback request in JSON mode is answered by the next step.
    fallback = ask(fake_llm, response_format={"type": "json_object"})
    assert json.loads(fallback.choices[0].message.content) == {"ok": True}
    assert [r.body["response_format"]["type"] for r in fake_llm.requests] == ["json_schema", "json_object"]


def test_responder_answers_by_task_once_script_is_used_up(fake_llm):
    def by_task(request):
        prompt = request["messages"][-1]["content"]
        return {"task": "ideation"} if "ideas" in prompt else reply("other")

    fake_llm.script(reply("scripted first"))
    fake_llm.respond_with(by_task)
    assert ask(fake_llm).choices[0].message.content == "scripted first"
    ideas = ask(fake_llm, messages=[{"role": "user", "content": "generate ideas"}])
    assert json.loads(ideas.choices[0].message.content) == {"task": "ideation"}
    assert ask(fake_llm).choices[0].message.content == "other"


def test_responder_exception_becomes_readable_500(fake_llm):
    fake_llm.respond_with(lambda request: 1 / 0)
    with pytest.raises(openai.InternalServerError, match="responder raised ZeroDivisionError"):
        ask(fake_llm)


def test_exhausted_script_returns_500_with_clear_message(fake_llm):
    with pytest.raises(openai.InternalServerError, match="fake server: script exhausted"):
        ask(fake_llm)


def test_requests_record_bodies_and_headers(fake_llm):
    fake_llm.script(reply("one"), reply("two"))
    ask(fake_llm, temperature=0.2)
    ask(fake_llm, messages=[{"role": "user", "content": "second"}])
    assert fake_llm.request_count == 2
    first, second = fake_llm.requests
    assert (first.method, first.path) == ("POST", "/v1/chat/completions")
    assert first.body["model"] == "test-model" and first.body["temperature"] == 0.2
    assert second.body["messages"] == [{"role": "user", "content": "second"}]
    assert first.headers["authorization"] == "Bearer sk-test"


def test_concurrent_requests_each_get_one_step(fake_llm):
    fake_llm.script(*[reply(f"answer {i}") for i in range(8)])
    answers, lock = [], threading.Lock()

    def worker():
        content = ask(fake_llm).choices[0].message.content
        with lock:
            answers.append(content)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == sorted(f"answer {i}" for i in range(8))
    assert fake_llm.request_count == 8


def test_unknown_route_and_streaming_are_rejected():
    with FakeLLMServer() as server:
        response = httpx.post(server.base_url + "/embeddings", json={"input": "x"})
        assert response.status_code == 404 and "no route" in response.json()["error"]["message"]
        with pytest.raises(openai.BadRequestError, match="streaming is not supported"):
            ask(server, stream=True)


def test_stop_leaves_no_threads_even_with_open_keepalive_and_stall():
    before = set(threading.enumerate())
    server = FakeLLMServer().start()
    server.script(reply("kept alive"), stall(30))
    client = client_for(server, timeout=0.3)
    client.chat.completions.create(model="m", messages=MESSAGES)  # leaves a pooled keep-alive connection
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=MESSAGES)  # handler now stalls for 30 s
    server.stop()
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(AssertionError, match="not started"):
        server.base_url
    client.close()
