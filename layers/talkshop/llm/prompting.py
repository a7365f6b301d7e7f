"""The system prompt: the base advisor prompt, one section per relevant category, what is known."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from talkshop.advisor.intents import Language
from talkshop.advisor.preferences import Preferences
from talkshop.advisor.tools import CATEGORIES

_LANGUAGE_NAMES = {
    Language.EN: "English",
    Language.ES: "Spanish",
    Language.FR: "French",
    Language.PT: "Portuguese",
}


@cache
def prompt_file(name: str) -> str:
    return (
        (resources.files("talkshop.advisor") / "prompts" / f"{name}.md").read_text(encoding="utf-8").strip()
    )


def system_prompt(
    language: Language,
    preferences: Preferences,
    shown: list[tuple[str, str]],
    earlier: str | None,
    *,
    bought: list[tuple[str, str]] | None = None,
) -> str:
    """``shown`` are (id, name) of the cards on screen; ``earlier`` the summary of compressed history;
    ``bought`` (id, name) of what the shopper bought in earlier chats."""
    facts = preferences.model_dump(mode="json", exclude_defaults=True)
    stated = json.dumps(facts, ensure_ascii=False) if facts else "none yet"
    known = [f"- Preferences (money in minor units, 5000 = 50.00): {stated}"]
    if shown:
        known.append("- On screen now, in order: " + "; ".join(f"{name} (id {pid})" for pid, name in shown))
    if earlier:
        known.append(f"- {earlier}")
    if bought:
        known.append("- Bought in earlier chats: " + "; ".join(f"{name} (id {pid})" for pid, name in bought))
    base = prompt_file("base").format(language=_LANGUAGE_NAMES[language], known="\n".join(known))
    categories = [category for category in preferences.categories if category in CATEGORIES] or list(
        CATEGORIES
    )
    return "\n\n".join([base, *(prompt_file(category) for category in categories)])
