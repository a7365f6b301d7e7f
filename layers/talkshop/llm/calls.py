"""One model call with our retry policy: backoff with jitter on 429 and 5xx, the other model when overloaded.

A stream can only be retried before it has produced anything: once text reached the shopper a second
attempt would repeat it, so a failure mid-stream is raised as is. The SDKs' own retries are off, so this
is the single policy for every provider.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator

from talkshop.llm.config import LlmConfig
from talkshop.llm.messages import ChatProvider, FailureKind, ModelRequest, ProviderError, StreamEvent

Sleep = Callable[[float], None]


def backoff_delay(attempt: int, config: LlmConfig, retry_after_s: float | None, jitter: float) -> float:
    """Seconds before retry number ``attempt`` (1-based): the server's Retry-After when it gave one, else
    exponential from ``backoff_initial_s`` with "equal jitter" (half fixed, half random), capped."""
    if retry_after_s is not None:
        return min(retry_after_s, config.backoff_max_s)
    ceiling = min(config.backoff_max_s, config.backoff_initial_s * 2.0 ** (attempt - 1))
    return ceiling / 2 + ceiling / 2 * jitter


class ModelCaller:
    def __init__(
        self,
        provider: ChatProvider,
        config: LlmConfig,
        *,
        sleep: Sleep = time.sleep,
        jitter: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self._config = config
        self._sleep = sleep
        self._jitter = jitter
        self.monotonic = monotonic

    def stream(
        self, request: ModelRequest, fallback_model: str | None = None, deadline: float | None = None
    ) -> Iterator[StreamEvent]:
        """The events of one call; the Finished event names the model that answered.

        No retry starts (or waits) past ``deadline`` (a ``monotonic`` reading): the caller's own time
        limit wins over the retry policy."""
        attempt = 0
        switched = False
        while True:
            produced = False
            try:
                for event in self.provider.stream(request):
                    produced = True
                    yield event
                return
            except ProviderError as error:
                if produced or not error.retryable:
                    raise
                if error.kind == FailureKind.OVERLOADED and fallback_model and not switched:
                    # The other model is served by other capacity: switch at once rather than wait.
                    request = request.model_copy(update={"model": fallback_model})
                    switched = True
                    continue
                attempt += 1
                if attempt > self._config.max_retries:
                    raise
                delay = backoff_delay(attempt, self._config, error.retry_after_s, self._jitter())
                if deadline is not None and self.monotonic() + delay >= deadline:
                    raise
                self._sleep(delay)
