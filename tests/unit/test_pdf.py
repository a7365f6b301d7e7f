"""The PDF writer: a well-formed file (header, objects where the cross-reference table says, page
tree), WinAnsi text with escapes, wrapping by Helvetica's widths and page breaks; read back with an
independent reader (pypdf) too."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from talkshop.web.pdf import (
    HELVETICA,
    HELVETICA_BOLD,
    MARGIN,
    PAGE_WIDTH,
    PdfDocument,
    pdf_string,
    win_ansi,
    wrap,
)


def xref_offsets(data: bytes) -> list[int]:
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
    assert data[start:].startswith(b"xref\n0 ")
    count = int(data[start:].split(b"\n")[1].split()[1])
    entries = data[start:].split(b"\n")[2 : 2 + count]
    assert all(len(entry) + 1 == 20 for entry in entries)  # each entry is 20 bytes with its newline
    assert entries[0] == b"0000000000 65535 f "
    return [int(entry[:10]) for entry in entries[1:]]


def content_streams(data: bytes) -> list[bytes]:
    return re.findall(rb"stream\n(.*?)\nendstream", data, flags=re.DOTALL)


def test_the_file_is_well_formed_and_every_object_is_where_the_xref_says() -> None:
    document = PdfDocument("A chat")
    document.text("Hello", bold=True)
    data = document.to_bytes()

    assert data.startswith(b"%PDF-1.4\n%")
    assert all(byte > 127 for byte in data.split(b"\n")[1][1:])  # the binary-file marker line
    offsets = xref_offsets(data)
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    trailer = data[data.rindex(b"trailer") :]
    assert b"/Size %d" % (len(offsets) + 1) in trailer
    assert b"/Root 1 0 R" in trailer
    for stream in re.finditer(rb"<< /Length (\d+) >>\nstream\n", data):
        length = int(stream.group(1))
        assert data[stream.end() + length : stream.end() + length + 10] == b"\nendstream"


def test_text_is_winansi_with_the_euro_and_accents_and_question_marks_for_the_rest() -> None:
    assert win_ansi("€ é ñ ç ã ü ß") == "€ é ñ ç ã ü ß".encode("cp1252")
    assert win_ansi("★ 中 😀 Ω") == b"? ? ? ?"
    assert win_ansi("a\tb\x07c") == b"a    bc"  # tabs as spaces, control characters dropped
    assert win_ansi("e\u0301") == b"\xe9"  # a combining accent joins its letter
    assert pdf_string(win_ansi("(a) \\ €é")) == rb"(\(a\) \\ \200\351)"


def test_content_streams_hold_the_escaped_text() -> None:
    document = PdfDocument("Title")
    document.text("Price (today): 59,95 € for the café")
    (stream,) = content_streams(document.to_bytes())
    assert rb"(Price \(today\): 59,95 \200 for the caf\351) Tj" in stream
    assert b"/F1 11 Tf" in stream


def test_lines_wrap_by_helvetica_widths() -> None:
    width = 100.0
    assert HELVETICA.text_width(b"W", 1000) == 944
    assert HELVETICA.text_width(b"i", 1000) == 222
    assert HELVETICA_BOLD.text_width(b"i", 1000) == 278
    assert HELVETICA.text_width("é".encode("cp1252"), 1000) == HELVETICA.text_width(b"e", 1000)
    narrow = wrap(b"ii " * 40, HELVETICA, 10, width)
    wide = wrap(b"WW " * 40, HELVETICA, 10, width)
    assert len(narrow) < len(wide)
    for line in narrow + wide:
        assert HELVETICA.text_width(line, 10) <= width
    long_word = wrap(b"x" * 100, HELVETICA, 10, width)
    assert b"".join(long_word) == b"x" * 100
    assert len(long_word) > 1
    assert wrap(b"one\ntwo", HELVETICA, 10, width) == [b"one", b"two"]


def test_a_long_text_breaks_into_numbered_pages() -> None:
    document = PdfDocument("Long chat")
    for number in range(150):
        document.text(f"Message {number}: " + "a few words " * 20)
    data = document.to_bytes()

    pages = document.page_count
    assert pages > 3
    assert b"/Count %d" % pages in data
    assert len(re.findall(rb"/Type /Page ", data)) == pages
    streams = content_streams(data)
    assert len(streams) == pages
    assert b"(Message 0: " in streams[0]
    assert b"(Message 149: " in streams[-1]
    assert rb"(Long chat \267 page 3 of %d)" % pages in streams[2]
    for stream in streams:
        for y in re.findall(rb"Tf [\d.]+ ([\d.]+) Td", stream):
            assert float(y) >= MARGIN / 2


def test_an_independent_reader_extracts_the_text() -> None:
    document = PdfDocument("Café ☕ chat")
    document.text("Niño, façade, São Paulo: 100 € (or less) \\ ok ★", size=14, bold=True)
    document.text("word " * 300, indent=14)
    reader = PdfReader(io.BytesIO(document.to_bytes()), strict=True)

    assert reader.metadata is not None
    assert reader.metadata.title == "Café ☕ chat"
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Niño, façade, São Paulo: 100 € (or less) \\ ok ?" in text
    assert text.count("word") == 300
    assert float(reader.pages[0].mediabox.width) == PAGE_WIDTH
