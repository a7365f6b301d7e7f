"""Text normalisation shared by storage-side filters and queries, so both sides agree."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase and strip accents: 'Pádel Ráquet' -> 'padel raquet'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def slugify(text: str) -> str:
    return "-".join(words(text))[:64] or "item"
