"""The LLM proposer: any OpenAI-compatible chat-completions endpoint writes the next designs.

Configured by ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` (or the arguments) and a model
name; it talks through the official ``openai`` client (the ``llm`` extra). For each of the
K candidates it sends the ICPL prompt (:mod:`studio.refine.prompt`), checks the reply
(:mod:`studio.refine.reply`) and, when the reply is unusable, sends the error back as the
next message; a transport failure (timeout, HTTP error, a body that is not JSON) is retried
as is. Up to ``retries`` repairs per candidate. Every exchange is kept in
:attr:`LLMProposer.exchanges` (prompt, reply or error, model, latency; never the key) for
the app to store; :attr:`calls` and :attr:`retries_used` count them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from studio.core.design import Design
from studio.refine.prompt import build_messages, render
from studio.refine.proposers import Feedback, ProposerError
from studio.refine.reply import ReplyError, check_reply

REPAIR = ("Your reply could not be used: {error}\n"
          "Reply again with the complete corrected design document in one ```json fenced block.")


@dataclass
class Exchange:
    """One request and what came back (the store's ``LLMExchange`` row)."""

    model: str
    prompt: str
    """The whole conversation sent, rendered as text."""
    response: str | None
    parsed_ok: bool
    error: str | None
    latency_s: float
    candidate: int


class LLMProposer:
    """ICPL's proposer: the LLM rewrites the design from the best and worst of a ranking."""

    name = "llm"

    def __init__(self, model: str = "gpt-4o-mini", base_url: str | None = None,
                 api_key: str | None = None, retries: int = 3, timeout: float = 120.0,
                 temperature: float = 1.0, features: Collection[str] | None = None,
                 schema: Mapping[str, Any] | None = None,
                 on_exchange: Callable[[Exchange], None] | None = None) -> None:
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "none"
        self.retries = retries
        """Repairs (and transport retries) allowed per candidate."""
        self.timeout = timeout
        self.temperature = temperature
        self.features = features
        """The task's feature names (None: not checked)."""
        if schema is None:
            from studio.core.schema import design_schema

            schema = design_schema()
        self.schema = schema
        self.on_exchange = on_exchange
        """Called with each exchange as it completes (the app stores it at once)."""
        self.exchanges: list[Exchange] = []
        self.calls = 0
        self.retries_used = 0
        self._client: Any = None

    def __repr__(self) -> str:  # never show the key
        return f"LLMProposer(model={self.model!r}, base_url={self.base_url!r})"

    def client(self) -> Any:
        """The ``openai.OpenAI`` client (created on first use; the package is an extra)."""
        if self._client is None:
            try:
                from openai import OpenAI
            except ImportError:
                raise ProposerError("the llm proposer needs the openai package: "
                                    "pip install 'reward-studio[llm]'") from None
            self._client = OpenAI(base_url=self.base_url, api_key=self._api_key,
                                  timeout=self.timeout, max_retries=0)
        return self._client

    def test_connection(self) -> tuple[bool, str]:
        """Send one tiny request: ``(True, "model answered in 0.4 s")`` or ``(False, why)``.

        Not recorded as an exchange and not counted in :attr:`calls`.
        """
        start = time.monotonic()
        try:
            resp = self.client().chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": "Reply with the word OK."}],
                max_tokens=5)
            text = resp.choices[0].message.content
        except ProposerError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - the reason is the answer
            return False, f"{self.base_url or 'the default endpoint'}: {_transport_error(exc)}"
        took = time.monotonic() - start
        return True, f"{self.model} answered in {took:.1f} s: {str(text or '').strip()[:40]!r}"

    def preview(self, feedback: Feedback, task: str, i: int = 1, k: int = 1) -> str:
        """The exact prompt that would be sent for candidate ``i`` of ``k``."""
        return render(build_messages(feedback, task, self.schema, i, k))

    def propose(self, feedback: Feedback, k: int) -> list[Design]:
        """``k`` designs, each from its own conversation with the model."""
        task = feedback.ranked[0].task if feedback.ranked else ""
        if not task:
            raise ProposerError("the llm proposer needs the task: rank a round first")
        out = []
        for i in range(1, k + 1):
            d = self.ask(feedback, task, i, k)
            d.meta = {**d.meta, "proposer": self.name, "model": self.model}
            out.append(d)
        return out

    def ask(self, feedback: Feedback, task: str, i: int = 1, k: int = 1) -> Design:
        """One design, repaired up to :attr:`retries` times.

        Raises:
            ProposerError: every attempt failed (the last error is in the message).
        """
        messages = build_messages(feedback, task, self.schema, i, k)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.retries_used += 1
            text, error, latency = self._send(messages)
            if text is None:
                self._record(messages, None, False, error, latency, i)
                last = error or "no reply"
                continue  # a transport failure: send the same conversation again
            try:
                design = check_reply(text, task, self.features, self.schema)
            except ReplyError as exc:
                self._record(messages, text, False, str(exc), latency, i)
                last = str(exc)
                messages = [*messages, {"role": "assistant", "content": text},
                            {"role": "user", "content": REPAIR.format(error=exc)}]
                continue
            self._record(messages, text, True, None, latency, i)
            return design
        raise ProposerError(f"the model {self.model!r} gave no usable design for candidate {i} "
                            f"after {self.retries + 1} attempts; last error: {last}")

    def _send(self, messages: list[dict[str, str]]) -> tuple[str | None, str | None, float]:
        """(reply text, None) or (None, error) and the latency in seconds."""
        self.calls += 1
        start = time.monotonic()
        try:
            resp = self.client().chat.completions.create(
                model=self.model, messages=messages, temperature=self.temperature)
            text = resp.choices[0].message.content
        except ProposerError:
            raise
        except Exception as exc:  # timeouts, HTTP errors, bodies that are not JSON
            return None, _transport_error(exc), time.monotonic() - start
        latency = time.monotonic() - start
        if not isinstance(text, str):
            return None, "the reply had no message content", latency
        return text, None, latency

    def _record(self, messages: list[dict[str, str]], text: str | None, ok: bool,
                error: str | None, latency: float, i: int) -> None:
        ex = Exchange(self.model, render(messages), text, ok, error, latency, i)
        self.exchanges.append(ex)
        if self.on_exchange is not None:
            self.on_exchange(ex)


def _transport_error(exc: Exception) -> str:
    """One line naming what went wrong with the request."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if "Timeout" in name:
        return "the request timed out"
    if status is not None:
        return f"HTTP {status} from the endpoint ({name})"
    if isinstance(exc, json.JSONDecodeError) or "Decode" in name or "Validation" in name:
        return f"the endpoint's response was not valid chat-completions JSON ({name})"
    return f"{name}: {exc}"
