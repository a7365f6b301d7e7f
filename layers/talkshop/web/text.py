"""Message text as HTML, safely: the text is escaped first, then the few formatting marks a chat
message uses become tags (the same rules as renderRichText in static/chat.js, which builds DOM nodes).

- **bold** becomes <strong>; a line break becomes <br>; a blank line starts a new paragraph;
- lines starting with "- ", "* " or "• " become a bullet list, "1. " or "1) " a numbered list;
- [label](target) and bare http(s):// addresses become links, only when the target is http(s) or a
  path within the site ("/..." but not "//..."): javascript:, data: and every other scheme stay text.
  Links leaving the site open in a new tab with rel="noopener".
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK = re.compile(
    r"\[(?P<label>[^\]\n]{1,300})\]\((?P<target>[^)\s]{1,2000})\)"
    r"|(?P<bare>https?://[^\s<>()\[\]\"']*[^\s<>()\[\]\"'.,;:!?])"
)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_LISTS = {"ul": Markup("<ul>{}</ul>"), "ol": Markup("<ol>{}</ol>")}


def safe_link_target(target: str) -> bool:
    """Only web links and links within the site (never javascript:, data: or protocol-relative)."""
    lowered = target.lower()
    if lowered.startswith(("http://", "https://")):
        return True
    return target.startswith("/") and not target.startswith("//")


def _bold(text: str) -> Markup:
    # The text is escaped before the only tags added are put in.
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(text))))  # noqa: S704


def _inline(text: str) -> Markup:
    parts: list[Markup] = []
    position = 0
    for match in _LINK.finditer(text):
        parts.append(_bold(text[position : match.start()]))
        target = match["target"] or match["bare"]
        label = match["label"] or match["bare"]
        if not safe_link_target(target):
            parts.append(_bold(match[0]))  # shown as the text it is, not a link
        elif target.startswith("/"):
            parts.append(Markup('<a href="{}">{}</a>').format(target, label))
        else:
            parts.append(Markup('<a href="{}" target="_blank" rel="noopener">{}</a>').format(target, label))
        position = match.end()
    parts.append(_bold(text[position:]))
    return Markup("").join(parts)


def _list_item(line: str) -> tuple[str, str] | None:
    """("ul" or "ol", the item's text) for a list line, else None."""
    for tag, pattern in (("ul", _BULLET), ("ol", _NUMBERED)):
        match = pattern.match(line)
        if match:
            return tag, match[1]
    return None


def _block(lines: list[str]) -> Markup:
    """One paragraph: runs of list lines become lists, other lines a paragraph with line breaks."""
    out: list[Markup] = []
    text_lines: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        if text_lines:
            out.append(Markup("<p>{}</p>").format(Markup("<br>").join(_inline(line) for line in text_lines)))
            text_lines.clear()
        if items:
            rendered = Markup("").join(Markup("<li>{}</li>").format(_inline(item)) for item in items)
            out.append(_LISTS[list_tag].format(rendered))
            items.clear()

    for line in lines:
        item = _list_item(line)
        if item is None:
            if items:
                flush()
            text_lines.append(line.strip())
        else:
            if text_lines or (items and item[0] != list_tag):
                flush()
            list_tag = item[0]
            items.append(item[1])
    flush()
    return Markup("").join(out)


def format_message(text: str) -> Markup:
    """A message as HTML: **bold**, line breaks, bullet and numbered lists, and links (http(s) or
    within the site, external ones opening with rel="noopener"). Everything else is escaped text."""
    paragraphs = [
        block for block in re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n")) if block.strip()
    ]
    return Markup("").join(_block(paragraph.split("\n")) for paragraph in paragraphs)
