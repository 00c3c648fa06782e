"""The LLM proposer against a real chat-completions server on 127.0.0.1 (http.server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from studio.core.design import Design, Group, Term
from studio.refine.llm import LLMProposer
from studio.refine.proposers import Feedback, ProposerError, RankingRecord

FEATURES = ["x_velocity", "ctrl_sq", "healthy"]


def good_doc(name: str = "faster", weight: float = 2.0) -> dict[str, Any]:
    return Design(name, "HalfCheetah-v5", Group("reward", [
        Term("forward", "x_velocity", weight=weight), Term("effort", "ctrl_sq", weight=-0.1)])).to_json()


class ChatServer:
    """Answers POST /v1/chat/completions from a script: each entry is one request's answer:
    ``("timeout", s)`` sleeps, ``("status", code)`` fails, ``("raw", body)`` sends a body that
    is not JSON, ``("content", text)`` sends a normal completion."""

    def __init__(self, script: list[tuple[str, Any]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.auth.append(self.headers.get("Authorization"))
                kind, arg = server.script.pop(0) if server.script else ("status", 503)
                if kind == "timeout":
                    time.sleep(arg)
                    kind, arg = "content", "too late"
                if kind == "status":
                    self._send(arg, b'{"error": {"message": "server error"}}')
                elif kind == "raw":
                    self._send(200, arg.encode())
                else:
                    reply = {"id": "x", "object": "chat.completion", "created": 0,
                             "model": body["model"],
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": arg}}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                    self._send(200, json.dumps(reply).encode())

            def _send(self, code: int, data: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout case)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ChatServer] = []

    def make(script: list[tuple[str, Any]]) -> ChatServer:
        servers.append(ChatServer(script))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def feedback() -> Feedback:
    best = Design.from_json(good_doc("best", 1.0))
    worst = Design.from_json(good_doc("worst", 0.1))
    return Feedback([best, worst], task_description="Run forward fast.",
                    term_curves={"best": {"forward": [float(i) for i in range(21)]}},
                    rankings=[RankingRecord([[1], [2]], comment="the worst one flips over")],
                    features=[{"name": n, "unit": "m/s", "description": n} for n in FEATURES],
                    round_index=2)


def proposer(url: str, **kw: Any) -> LLMProposer:
    return LLMProposer(model="test-model", base_url=url, api_key="sk-secret-key",
                       features=FEATURES, **kw)


def fenced(doc: dict[str, Any]) -> str:
    return "Here is my design:\n```json\n" + json.dumps(doc) + "\n```\nGood luck."


def test_valid_fenced_reply_becomes_a_design_and_the_prompt_holds_the_feedback(serve: Any) -> None:
    srv = serve([("content", fenced(good_doc()))])
    p = proposer(srv.url)
    [d] = p.propose(feedback(), 1)
    assert d.find("forward").weight == 2.0 and d.task == "HalfCheetah-v5"  # type: ignore[union-attr]
    assert p.calls == 1 and p.retries_used == 0
    msgs = srv.requests[0]["messages"]
    assert srv.requests[0]["model"] == "test-model" and msgs[0]["role"] == "system"
    assert '"$schema"' in msgs[0]["content"]                   # the design JSON Schema
    user = msgs[1]["content"]
    assert "Run forward fast." in user and "x_velocity [m/s]" in user
    assert "the worst one flips over" in user                  # the ranker's comment
    assert "forward: [0.00, 2.00, 4.00" in user and "Max: 20.00" in user  # tenths, then stats
    assert srv.auth[0] == "Bearer sk-secret-key"
    ex = p.exchanges[0]
    assert ex.parsed_ok and ex.model == "test-model" and ex.latency_s >= 0
    assert "sk-secret-key" not in ex.prompt and "sk-secret-key" not in repr(p)


def test_invalid_design_is_sent_back_with_the_error_and_repaired(serve: Any) -> None:
    bad = good_doc()
    bad["root"]["children"][0]["source"] = "x_speed"  # not a feature of the task
    srv = serve([("content", fenced(bad)), ("content", json.dumps(good_doc("fixed")))])
    p = proposer(srv.url)
    [d] = p.propose(feedback(), 1)
    assert d.name == "fixed" and p.calls == 2 and p.retries_used == 1
    second = srv.requests[1]["messages"]
    assert second[-2]["role"] == "assistant" and "x_speed" in second[-2]["content"]
    assert second[-1]["role"] == "user" and "x_speed" in second[-1]["content"]
    assert [e.parsed_ok for e in p.exchanges] == [False, True]
    assert "x_speed" in (p.exchanges[0].error or "")


def test_reply_that_is_not_json_is_repaired(serve: Any) -> None:
    srv = serve([("content", "I would increase the forward weight."),
                 ("content", "```\n{\"name\": \"oops\",}\n```"),
                 ("content", fenced(good_doc("third")))])
    p = proposer(srv.url)
    [d] = p.propose(feedback(), 1)
    assert d.name == "third" and p.retries_used == 2
    assert "no JSON object" in (p.exchanges[0].error or "")
    assert "not valid JSON" in (p.exchanges[1].error or "")


def test_timeout_http_500_and_a_body_that_is_not_json_are_retried(serve: Any) -> None:
    srv = serve([("timeout", 2.0), ("status", 500), ("raw", "<html>bad gateway</html>"),
                 ("content", fenced(good_doc("survivor")))])
    p = proposer(srv.url, timeout=0.5)
    [d] = p.propose(feedback(), 1)
    assert d.name == "survivor" and p.calls == 4 and p.retries_used == 3
    errors = [e.error for e in p.exchanges]
    assert errors[0] == "the request timed out"
    assert "HTTP 500" in (errors[1] or "")
    assert errors[2] is not None and errors[3] is None
    # A transport failure re-sends the same conversation (no repair message added).
    assert len(srv.requests[1]["messages"]) == len(srv.requests[0]["messages"]) == 2


def test_gives_up_after_the_retries_with_a_clear_error(serve: Any) -> None:
    srv = serve([("status", 500)] * 3)
    p = proposer(srv.url, retries=2)
    with pytest.raises(ProposerError, match="after 3 attempts; last error: HTTP 500"):
        p.propose(feedback(), 1)
    assert p.calls == 3 and len(srv.requests) == 3


def test_connection_check_reports_success_and_the_reason_of_a_failure(serve: Any) -> None:
    srv = serve([("content", "OK"), ("status", 401)])
    p = proposer(srv.url)
    ok, text = p.test_connection()
    assert ok and "test-model answered" in text and "'OK'" in text
    ok, text = p.test_connection()
    assert not ok and "HTTP 401" in text
    assert p.calls == 0 and p.exchanges == []  # a check is not a proposal
