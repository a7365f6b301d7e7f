"""A small PDF writer for text documents (the chat export), with no dependency.

It writes PDF 1.4 with the standard Helvetica fonts, which every reader has, so nothing is embedded.
Text is encoded in WinAnsiEncoding (Windows-1252): the euro sign and the accented letters of Western
European languages print as themselves; a character outside that encoding prints as '?'. Lines are
wrapped by the fonts' own character widths (Adobe's AFM metrics) and pages break when full; each page
is numbered in its footer. Content streams are left uncompressed: a chat is small, and the files stay
readable.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

# A4 in points, and the blank border around the text.
PAGE_WIDTH = 595.28
PAGE_HEIGHT = 841.89
MARGIN = 56.0
FOOTER_SIZE = 8.0
LINE_SPACING = 1.3  # line height as a multiple of the font size
ENCODING = "cp1252"  # Python's name for Windows-1252, which WinAnsiEncoding is
REPLACEMENT = b"?"

# Widths of the printable ASCII characters (32..126), in thousandths of the font size, from the AFM
# files of the standard fonts; WinAnsiEncoding puts quotesingle at 39 and grave at 96.
_HELVETICA_ASCII = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip
_HELVETICA_BOLD_ASCII = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
)  # fmt: skip
# Beyond ASCII: an accented letter is as wide as its base letter; anything else gets a digit's width.
_OTHER_WIDTH = 556


@dataclass(frozen=True)
class Font:
    resource: str  # its name in the pages' resources
    base_font: str
    ascii_widths: tuple[int, ...]

    def width_of(self, code: int) -> int:
        """The width of one WinAnsi-encoded byte."""
        if 32 <= code <= 126:
            return self.ascii_widths[code - 32]
        base = unicodedata.normalize("NFD", bytes([code]).decode(ENCODING, errors="replace"))[0]
        if base.isascii() and base.isprintable():
            return self.ascii_widths[ord(base) - 32]
        return _OTHER_WIDTH

    def text_width(self, encoded: bytes, size: float) -> float:
        return sum(self.width_of(code) for code in encoded) * size / 1000


HELVETICA = Font("F1", "Helvetica", _HELVETICA_ASCII)
HELVETICA_BOLD = Font("F2", "Helvetica-Bold", _HELVETICA_BOLD_ASCII)
FONTS = (HELVETICA, HELVETICA_BOLD)


def win_ansi(text: str) -> bytes:
    """The text in WinAnsiEncoding: tabs as spaces, other control characters dropped, and every
    character the encoding lacks (or leaves undefined) as '?'."""
    text = unicodedata.normalize("NFC", text.replace("\t", "    "))
    encoded = bytearray()
    for character in text:
        if unicodedata.category(character) == "Cc":
            continue
        try:
            encoded += character.encode(ENCODING)
        except UnicodeEncodeError:
            encoded += REPLACEMENT
    return bytes(encoded)


def pdf_string(encoded: bytes) -> bytes:
    """A PDF literal string: ( ) and backslash escaped, bytes outside printable ASCII in octal."""
    out = bytearray(b"(")
    for code in encoded:
        if code in b"()\\":
            out += b"\\" + bytes([code])
        elif 32 <= code <= 126:
            out.append(code)
        else:
            out += b"\\%03o" % code
    out += b")"
    return bytes(out)


def _text_string(text: str) -> bytes:
    """A PDF text string (document information) in UTF-16BE, which holds any character."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def wrap(encoded: bytes, font: Font, size: float, width: float) -> list[bytes]:
    """The text's lines, each at most `width` wide: breaking at spaces, and inside a word only when
    the word alone is wider than a line. Newlines in the text start new lines."""
    lines: list[bytes] = []
    for paragraph in encoded.split(b"\n"):
        line = b""
        for word in paragraph.split(b" "):
            candidate = line + b" " + word if line else word
            if font.text_width(candidate, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line.rstrip(b" "))
            line = b""
            while font.text_width(word, size) > width:
                cut = _longest_prefix(word, font, size, width)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line.rstrip(b" "))
    return lines


def _longest_prefix(word: bytes, font: Font, size: float, width: float) -> int:
    """How many bytes of the word fit on one line (at least one, so wrapping always ends)."""
    used = 0.0
    for count, code in enumerate(word):
        used += font.width_of(code) * size / 1000
        if used > width:
            return max(count, 1)
    return len(word)


@dataclass
class _Page:
    operations: list[bytes] = field(default_factory=list)


class PdfDocument:
    """Paragraphs of text laid out top to bottom on A4 pages; `to_bytes` writes the file."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._pages: list[_Page] = []
        self._y = 0.0  # the baseline of the last line placed on the current page
        self._new_page()

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def text(
        self,
        text: str,
        *,
        size: float = 11,
        bold: bool = False,
        indent: float = 0,
        space_before: float = 0,
        grey: bool = False,
    ) -> None:
        """A paragraph, wrapped to the text width less `indent`, after `space_before` points."""
        font = HELVETICA_BOLD if bold else HELVETICA
        line_height = size * LINE_SPACING
        width = PAGE_WIDTH - 2 * MARGIN - indent
        self._y -= space_before
        for line in wrap(win_ansi(text), font, size, width):
            if self._y - line_height < MARGIN:
                self._new_page()
            self._y -= line_height
            if line:
                self._show(line, font, size, MARGIN + indent, self._y, grey=grey)

    def _new_page(self) -> None:
        self._pages.append(_Page())
        self._y = PAGE_HEIGHT - MARGIN

    def _show(self, encoded: bytes, font: Font, size: float, x: float, y: float, *, grey: bool) -> None:
        colour = b"0.35 g" if grey else b"0 g"
        self._pages[-1].operations.append(
            b"BT %s /%s %s Tf %s %s Td %s Tj ET"
            % (colour, font.resource.encode(), _number(size), _number(x), _number(y), pdf_string(encoded))
        )

    def to_bytes(self) -> bytes:
        """The file: catalog, page tree, fonts, information, then each page and its content stream,
        the cross-reference table with each object's byte offset, and the trailer."""
        total = len(self._pages)
        objects: list[bytes] = []  # object n is objects[n - 1]
        catalog, pages_tree, info = 1, 2, 3
        first_font = 4
        first_page = first_font + len(FONTS)
        page_numbers = [first_page + 2 * index for index in range(total)]
        objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_tree)
        kids = b" ".join(b"%d 0 R" % number for number in page_numbers)
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, total))
        objects.append(b"<< /Title %s /Producer (Talkshop) >>" % _text_string(self.title))
        for font in FONTS:
            objects.append(
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
                % font.base_font.encode()
            )
        fonts = b" ".join(
            b"/%s %d 0 R" % (font.resource.encode(), first_font + n) for n, font in enumerate(FONTS)
        )
        for index, (page, number) in enumerate(zip(self._pages, page_numbers, strict=True)):
            footer = win_ansi(f"{self.title} · page {index + 1} of {total}")
            stream = b"\n".join(
                [
                    *page.operations,
                    b"BT 0.35 g /F1 %s Tf %s %s Td %s Tj ET"
                    % (_number(FOOTER_SIZE), _number(MARGIN), _number(MARGIN / 2), pdf_string(footer)),
                ]
            )
            objects.append(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font << %s >> >> "
                b"/Contents %d 0 R >>"
                % (pages_tree, _number(PAGE_WIDTH), _number(PAGE_HEIGHT), fonts, number + 1)
            )
            objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))

        # The second line's bytes above 127 tell transfer tools that the file is binary.
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (len(objects) + 1, catalog, info)
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)


def _number(value: float) -> bytes:
    """A PDF number: at most two decimals, no exponent, no trailing zeros."""
    return (f"{value:.2f}".rstrip("0").rstrip(".") or "0").encode()
