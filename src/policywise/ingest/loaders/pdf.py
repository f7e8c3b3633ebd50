"""PDF via pypdf: per-page text with headings recovered from font size and weight.

Lines are rebuilt from ``extract_text(visitor_text=...)`` with their font size, weight and vertical
position. The body size is the size most characters use; lines clearly larger than it are headings,
ranked by size (largest = level 1), and short whole-bold lines at body size that read as headings
(``_common.heading_like``) rank below them; headings of one size nest by their numbering ("3.1" under
"3."). A PDF in one type, with no heading by size or weight, takes a numbered line that reads as a
heading and is spaced apart as a paragraph of its own as one (not the steps of a numbered list), and its
opening line, so spaced, as the title. Running headers and footers (lines at the top or bottom of at
least half of the pages once digits are normalised, e.g. "Page 3 of 5") are removed. Wrapped lines are
joined, words hyphenated across a line end re-joined, and a vertical gap larger than the usual line
spacing starts a new paragraph. Bullet glyphs become "- ". Tables: text placed in columns (a gap of
several character widths between pieces of one line) on two or more consecutive lines with the same
number of columns becomes one row per line with " | " between cells, as the other loaders give tables,
so the chunker labels each cell with its header. A page where the visitor yields nothing falls back to
plain ``extract_text()``. Sections never span pages (``page`` is 1-based); the heading path carries over
from one page to the next.

Title: the first heading when it is a level-1 heading used at most twice, else the PDF
metadata title (placeholders such as "(anonymous)" or "Untitled" ignored), else the first
heading, else the file stem.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PageObject, PdfReader

from policywise.ingest.loaders._common import (
    LoadError,
    Parsed,
    SectionBuilder,
    clean_line,
    dash_bullet,
    heading_like,
    is_list_item,
    join_wrapped,
    nested_level,
    numbering_depth,
)

logger = logging.getLogger(__name__)

_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_PLACEHOLDER_TITLE = re.compile(r"\(?(anonymous|untitled|unknown|none|null|title|document\s*\d*)\)?", re.I)
_LARGER = 1.15  # "clearly larger" than body text
_PARAGRAPH_GAP = 1.1  # a gap this many times the usual line spacing starts a paragraph
_SHORT_LINE = 0.5  # a line this much shorter than usual ended on purpose, not by wrapping
_EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be running headers/footers
# Character widths of Helvetica (and Arial), in thousandths of the font size, from its standard
# metrics: to estimate where a piece of text ends, since pypdf gives only where it starts.
_WIDTHS = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
        (
            278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
            556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015,
            667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778,
            722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333,
            556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556,
            333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
        ),
        strict=True,
    )
)  # fmt: skip
_COLUMN_GAP = 1.0  # a gap this many font sizes past the estimated end of a piece starts a new cell


@dataclass
class _Line:
    text: str
    size: float = 0.0
    bold: bool = False
    y: float | None = None
    level: int | None = None
    lead_bold: bool = False  # starts with a bold label ("Policy owner: ..."), which starts a line
    cells: list[str] = field(default_factory=list)  # the line's columns, when it has more than one
    cell_x: list[float] = field(default_factory=list)  # where each column starts
    table: bool = False  # a row of a table: never a heading, never joined with prose


@dataclass(frozen=True)
class _Layout:
    body_size: float
    leading: float  # the usual distance between two lines of a paragraph
    line_length: int  # characters in a typical full line


@dataclass
class _Collector:
    """Receives pypdf's visitor callbacks and assembles them into lines."""

    lines: list[_Line] = field(default_factory=list)
    fragments: list[tuple[str, float, bool, float, float]] = field(default_factory=list)

    def visit(
        self, text: str, cm: list[float], tm: list[float], font: dict[str, Any] | None, size: float
    ) -> None:
        if not text:
            return
        m = _multiply(tm, cm)
        effective = abs(size) * (math.hypot(m[2], m[3]) or 1.0)
        bold = bool(_BOLD.search(str((font or {}).get("/BaseFont", ""))))
        for index, part in enumerate(text.split("\n")):
            if index:
                self.end_line()
            if part:
                self.fragments.append((part, effective, bold, m[5], m[4]))

    def end_line(self) -> None:
        inked = [f for f in self.fragments if f[0].strip()]
        if inked:
            sizes: Counter[float] = Counter()
            for text, size, *_ in inked:
                sizes[round(size * 2) / 2] += len(text.strip())
            self.lines.append(
                _Line(
                    text="".join(f[0] for f in self.fragments),
                    size=sizes.most_common(1)[0][0],
                    bold=all(f[2] for f in inked),
                    y=inked[0][3],
                    lead_bold=inked[0][2]
                    and inked[0][0].rstrip().endswith(":")
                    and not all(f[2] for f in inked),
                    cells=(cells := _cells(inked))[0],
                    cell_x=cells[1],
                )
            )
        self.fragments = []


_MARKER = re.compile(r"[-–—•▪◦·*o]|\(?[0-9a-zA-Z]{1,3}[.)]")


def _cells(inked: list[tuple[str, float, bool, float, float]]) -> tuple[list[str], list[float]]:
    """The line split where a piece starts well past where the one before it must have ended, with
    the x where each cell starts; empty lists for a line of one column."""
    cells: list[str] = []
    starts: list[float] = []
    end = None
    for text, size, _, _, x in inked:
        # pypdf reports some pieces at the line's start x (after a font change): those continue the cell.
        # A bullet or list number set apart from its text is not a column of its own.
        if end is None or (x > end + _COLUMN_GAP * size and not _MARKER.fullmatch(cells[-1])):
            cells.append(text.strip())
            starts.append(x)
        else:
            cells[-1] = f"{cells[-1]}{text}".strip() if text.startswith(" ") else cells[-1] + text
        end = x + _width(text.strip(), size)
    return (cells, starts) if len(cells) > 1 else ([], [])


def _width(text: str, size: float) -> float:
    return sum(_WIDTHS.get(ch, 556) for ch in text) * size / 1000


def _aligned(a: _Line, b: _Line) -> bool:
    # Columns start at the same x on every row; words that merely follow a wide gap in prose do not.
    tolerance = 2 * max(a.size, b.size, 1.0)
    return len(a.cells) == len(b.cells) and all(
        abs(x - y) <= tolerance for x, y in zip(a.cell_x, b.cell_x, strict=True)
    )


def _mark_tables(pages: list[list[_Line]]) -> None:
    """Runs of two or more lines whose columns line up are table rows. With a header row (bold, as
    tables are set) they read as a table, " | " between cells; a run on a later page whose columns
    line up with the last header continues that table (its header is repeated); otherwise one row per
    line, a label ending in ":" joined to its value ("Policy #: PRV-104")."""
    header: _Line | None = None
    for number, lines in enumerate(pages):
        i = 0
        while i < len(lines):
            j = i + 1
            while len(lines[i].cells) > 1 and j < len(lines) and _aligned(lines[j - 1], lines[j]):
                j += 1
            if j - i >= 2:
                run = lines[i:j]
                if run[0].bold:
                    header = run[0]
                elif header is not None and _aligned(header, run[0]):
                    repeated = _Line(
                        header.text, header.size, True, run[0].y, cells=header.cells, cell_x=header.cell_x
                    )
                    lines.insert(i, repeated)
                    run = [repeated, *run]
                    j += 1
                for line in run:
                    line.table = True
                    cells = [clean_line(c) or "-" for c in line.cells]
                    if run[0].bold:
                        line.text = " | ".join(cells)
                    else:
                        line.text = cells[0] + "".join(
                            (" " if before.endswith(":") else "; ") + cell
                            for before, cell in itertools.pairwise(cells)
                        )
            i = max(j, i + 1)
        pages[number] = lines


def _multiply(a: list[float], b: list[float]) -> tuple[float, ...]:
    """Compose two PDF matrices [a b c d e f] (text space -> user space)."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _page_lines(page: PageObject) -> list[_Line]:
    collector = _Collector()
    page.extract_text(visitor_text=collector.visit)
    collector.end_line()
    lines = collector.lines
    if not lines:
        lines = [_Line(text) for text in page.extract_text().splitlines() if text.strip()]
    for line in lines:
        line.text = clean_line(dash_bullet(line.text.strip()))
    return [line for line in lines if line.text]


def _edges(lines: list[_Line]) -> list[int]:
    """Indexes of the lines nearest the top and bottom edges of a page."""
    order = list(range(len(lines)))
    if all(line.y is not None for line in lines):
        # Page templates often draw headers/footers before or after the body: go by position.
        order.sort(key=lambda i: -(lines[i].y or 0.0))
    return sorted(set(order[:_EDGE_LINES] + order[-_EDGE_LINES:]))


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _strip_running_lines(pages: list[list[_Line]]) -> None:
    if len(pages) < 2:
        return
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_running_key(lines[i].text) for i in _edges(lines)})
    threshold = max(2, math.ceil(len(pages) / 2))
    repeated = {key for key, count in counts.items() if count >= threshold}
    for number, lines in enumerate(pages):
        drop = {i for i in _edges(lines) if _running_key(lines[i].text) in repeated}
        pages[number] = [line for i, line in enumerate(lines) if i not in drop]


def _mode(values: Counter[float], default: float) -> float:
    return values.most_common(1)[0][0] if values else default


def _leading(gaps: Counter[float], default: float) -> float:
    """The usual spacing of a paragraph's lines: the smallest gap at least half as common as the most common
    one. In a document of short paragraphs the gap between paragraphs can be the most common of all."""
    if not gaps:
        return default
    most = max(gaps.values())
    return min(gap for gap, count in gaps.items() if count * 2 >= most)


def _all(pages: list[list[_Line]]) -> Iterator[_Line]:
    return (line for lines in pages for line in lines)


def _assign_levels(pages: list[list[_Line]]) -> _Layout:
    """Mark heading lines with a level and measure the body text."""
    sizes: Counter[float] = Counter()
    for line in _all(pages):
        if line.size:
            sizes[line.size] += len(line.text)
    body = _mode(sizes, 0.0)
    lengths = sorted(len(line.text) for line in _all(pages))
    line_length = lengths[int(0.8 * (len(lengths) - 1))] if lengths else 0
    if not body:
        return _Layout(0.0, 0.0, line_length)

    def is_heading(line: _Line) -> bool:
        # Numbered lines stay candidates: "3. Responsibilities" is a heading when set large or bold.
        # Text in columns is a table's row, even its bold header row.
        if sum(ch.isalpha() for ch in line.text) < 2 or line.text.startswith("- ") or line.cells:
            return False
        if line.size >= body * _LARGER:
            return len(line.text) <= 200
        # At body size, bold alone does not make a heading of a rule set in bold ("Managers must approve…").
        bold = line.bold and line.size >= body * 0.9
        return bold and line.text[-1] not in ".,;:" and heading_like(line.text)

    headings = [line for line in _all(pages) if is_heading(line)]
    sizes_desc = sorted({line.size for line in headings}, reverse=True)
    for line in headings:
        # One size for every heading leaves their numbering to tell "3.1" is under "3.".
        line.level = nested_level(sizes_desc.index(line.size) + 1, line.text)

    gaps: Counter[float] = Counter()
    for lines in pages:
        for prev, line in itertools.pairwise(lines):
            if prev.level is None and line.level is None and prev.y is not None and line.y is not None:
                gap = round((prev.y - line.y) * 2) / 2
                if 0 < gap < body * 3:
                    gaps[gap] += 1
    layout = _Layout(body, _leading(gaps, body * 1.2), line_length)
    if not headings:
        _mark_standing_headings(pages, layout)
    return layout


def _mark_standing_headings(pages: list[list[_Line]], layout: _Layout) -> None:
    """In a PDF set in one type, where neither size nor weight shows a heading: a line spaced apart as a
    paragraph of its own that reads as a heading is one when numbered ("3.1 Carry-over", nesting by its
    number, unless a neighbour is numbered alike, as a list's steps are), and so is the opening line."""
    apart = layout.leading * _PARAGRAPH_GAP + 0.5
    first = True
    for lines in pages:
        for i, line in enumerate(lines):
            opening, first = first, False
            if line.table or line.cells or line.y is None or not heading_like(line.text):
                continue
            before = lines[i - 1] if i > 0 else None
            after = lines[i + 1] if i + 1 < len(lines) else None
            if after is None or after.y is None or line.y - after.y <= apart:
                continue
            if before is not None and (before.y is None or before.y - line.y <= apart):
                continue
            depth = numbering_depth(line.text)
            if opening and not depth:
                line.level = 1
            elif depth and all(n is None or numbering_depth(n.text) != depth for n in (before, after)):
                line.level = nested_level(2, line.text)


def _attach(previous: _Line | None, line: _Line, paragraph: list[str], layout: _Layout) -> str:
    """How a body line continues the text: "paragraph" (a new one), "line" (new line) or "join"."""
    if not paragraph or previous is None:
        return "paragraph"
    in_list = is_list_item(paragraph[0])
    gap = previous.y - line.y if previous.y is not None and line.y is not None else None
    if is_list_item(line.text):
        # List items are often spaced apart more than lines; they still make one list.
        return "line" if in_list and (gap is None or 0 < gap < layout.leading * 2.5) else "paragraph"
    if gap is not None and (gap > layout.leading * _PARAGRAPH_GAP + 0.5 or gap < 0):
        return "paragraph"
    if (
        line.lead_bold
        or len(previous.text) < layout.line_length * _SHORT_LINE
        or line.cells
        or previous.cells
    ):
        return "line"  # text in columns is never wrapped prose
    return "join"


def _build(pages: list[list[_Line]], layout: _Layout) -> tuple[list[tuple[int, str]], SectionBuilder]:
    builder = SectionBuilder()
    headings: list[tuple[int, str]] = []
    for number, lines in enumerate(pages, 1):
        builder.page(number)
        paragraph: list[str] = []
        previous: _Line | None = None
        for line in lines:
            gap = previous.y - line.y if previous and previous.y is not None and line.y is not None else None
            if line.level is not None:
                if paragraph:
                    builder.paragraph("\n".join(paragraph))
                    paragraph = []
                wrapped = previous is not None and previous.level == line.level and gap is not None
                if wrapped and headings and 0 < gap <= line.size * 1.6:
                    # A long heading wrapped onto a second line.
                    headings[-1] = (line.level, f"{headings[-1][1]} {line.text}")
                else:
                    headings.append((line.level, line.text))
                builder.heading(headings[-1][0], headings[-1][1])
            elif line.table:
                # A table is a paragraph of its own, one row per line.
                if paragraph and not (previous is not None and previous.table):
                    builder.paragraph("\n".join(paragraph))
                    paragraph = []
                paragraph.append(line.text)
            else:
                if previous is not None and previous.table and paragraph:
                    builder.paragraph("\n".join(paragraph))
                    paragraph = []
                how = _attach(previous, line, paragraph, layout)
                if how == "paragraph":
                    if paragraph:
                        builder.paragraph("\n".join(paragraph))
                    paragraph = [line.text]
                elif how == "line":
                    paragraph.append(line.text)
                else:
                    paragraph[-1] = join_wrapped(paragraph[-1], line.text)
            previous = line
        if paragraph:
            builder.paragraph("\n".join(paragraph))
    return headings, builder


def _metadata_title(reader: PdfReader) -> str:
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # broken Info dictionaries are common and never worth failing the file for
        return ""
    title = clean_line(str(raw or ""))
    title = re.sub(r"^Microsoft (?:Word|PowerPoint|Excel) - ", "", title)
    title = re.sub(r"\.(?:docx?|pdf|odt|rtf|pptx?)$", "", title, flags=re.IGNORECASE)
    return "" if _PLACEHOLDER_TITLE.fullmatch(title) else title


def _open(data: bytes) -> PdfReader:
    if b"%PDF-" not in data[:1024]:
        raise LoadError("not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as exc:
        raise LoadError(f"corrupt PDF: {exc}") from exc
    if reader.is_encrypted:
        try:
            # Many "encrypted" PDFs only restrict printing and open with an empty password.
            opened = reader.decrypt("")
        except Exception as exc:
            raise LoadError("encrypted PDF") from exc
        if not opened:
            raise LoadError("encrypted PDF")
    return reader


def load(data: bytes, path: Path) -> Parsed:
    reader = _open(data)
    try:
        page_objects = list(reader.pages)
    except Exception as exc:
        raise LoadError(f"corrupt PDF: {exc}") from exc
    pages: list[list[_Line]] = []
    errors: list[str] = []
    for number, page in enumerate(page_objects, 1):
        try:
            pages.append(_page_lines(page))
        except Exception as exc:  # one damaged page should not cost the rest of the document
            logger.warning("%s: page %d unreadable: %s", path.name, number, exc)
            errors.append(f"page {number}: {exc}")
            pages.append([])
    if not any(pages):
        if errors:
            raise LoadError(f"corrupt PDF: {errors[0]}")
        raise LoadError("no text found (scanned PDF without a text layer?)")

    _strip_running_lines(pages)
    _mark_tables(pages)
    headings, builder = _build(pages, _assign_levels(pages))

    top_level = [text for level, text in headings if level == 1]
    if headings and headings[0][0] == 1 and len(top_level) <= 2:
        title = headings[0][1]
    else:
        title = _metadata_title(reader) or (headings[0][1] if headings else "")
    return Parsed(title=title, sections=builder.build())
