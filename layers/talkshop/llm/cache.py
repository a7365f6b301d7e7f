"""An in-process cache of replies to repeated identical questions.

The key is the normalised message (folded, whitespace collapsed, end punctuation dropped) plus what the
reply depends on (see :func:`cache_key`): a repeated question at the same point of a chat hits, the same
words after another history, or from a shopper with other memories, do not. Entries live
``ttl_s`` seconds, so a price or stock change shows within that time; a warm Lambda keeps its cache
between invocations, a cold one starts empty.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from talkshop.advisor.model import AdvisorReply, TurnContext
from talkshop.text import fold

MAX_ENTRIES = 512


def normalise(message: str) -> str:
    return " ".join(fold(message).split()).rstrip(" ?!.")


def cache_key(turn: TurnContext) -> str:
    """The message and everything the reply is built on: what is known (the shopper's memory seeds it on
    a chat's first message), the cards on screen, the history the model reads and what not to offer."""
    session, memory = turn.session, turn.memory
    state = {
        "message": normalise(turn.message),
        "preferences": turn.known_preferences().model_dump(mode="json"),
        "shown": session.shown_products,
        "language": session.language,
        "history": [(message.role, message.content) for message in session.messages],
        "bought": memory.purchased_products if memory else [],
        "dismissed": memory.dismissed_products if memory else [],
        # Chats ranking with other weights (another experiment arm) must not share answers.
        "weights": turn.ranking_weights,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


class ReplyCache:
    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, AdvisorReply]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> AdvisorReply | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, reply = entry
            if self._clock() - stored_at > self._ttl_s:
                del self._entries[key]
                return None
            return reply

    def put(self, key: str, reply: AdvisorReply) -> None:
        if self._ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock(), reply)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
