"""Plain text: headings recognised from layout, paragraphs split on blank lines.

Title: the first non-empty line. When that line stands alone (or is underlined / in capitals) it is the
level-1 heading; otherwise it stays in the text too. Later headings are lines underlined with
===/---/~~~, short UPPERCASE lines standing at the start of a block, numbered UPPERCASE lines ("3. LEAVE
REQUESTS"), and a line that is a block of its own, reads as a heading (``_common.heading_like``) and is
followed by text: numbered ("3.1 Carry-over"; not when the block before or after is numbered alike, as a
list's steps are), in Title Case ("Sick Leave"), or short and in sentence case before a paragraph
("Working from elsewhere"); a line ending in ":" before a list is the list's lead-in. Levels follow the
order in which heading styles first appear (as reStructuredText does), below the title; numbered
headings are sections at level 2 and nest by depth ("3.1" under "3."). Wrapped lines are joined, except
after a line much shorter than usual (a deliberate break); list items keep their own lines. Tables drawn
with ASCII rules ("+-----+-----+" and "| cell | cell |") become one row per line with " | " between
cells, as the other loaders give them, so the chunker labels each cell with its header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from policywise.ingest.loaders._common import (
    Parsed,
    SectionBuilder,
    clean_line,
    dash_bullet,
    decode_text,
    heading_like,
    is_list_item,
    join_wrapped,
    title_case,
)

_UNDERLINE = re.compile(r"^(=+|-+|~+)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+(\S.*)$")
_MAX_HEADING = 80
_RULE = re.compile(r"^\+[-=+: ]*[-=]{3,}[-=+: ]*\+$|^\|?[\s:|-]*-{3,}[\s:|-]*\|?$")  # +---+---+ or |---|---|
_MAX_TITLE = 120


@dataclass
class _Heading:
    style: str
    text: str


@dataclass
class _Table:
    text: str  # one row per line, cells separated by " | "


def _is_row(line: str) -> bool:
    return line.startswith("|") and line.endswith("|") and line.count("|") >= 3


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip("|").split("|")]


def _merge(lines: list[list[str]]) -> list[str]:
    """Cells drawn over several lines, joined line by line."""
    width = max(len(cells) for cells in lines)
    return [" ".join(c[i] for c in lines if i < len(c) and c[i]) for i in range(width)]


def _continues(cells: list[str]) -> bool:
    # A wrapped cell's next line: some cells empty, and the first one empty or carrying on in lower case.
    return any(not c for c in cells) and (not cells[0] or cells[0][:1].islower())


def _table(block: list[str]) -> _Table:
    groups: list[list[list[str]]] = [[]]
    for line in block:
        if _RULE.match(line):
            if groups[-1]:
                groups.append([])
        else:
            groups[-1].append(_cells(line))
    groups = [g for g in groups if g]
    rows: list[list[str]] = []
    if len(groups) > 2:  # a rule under every row: each group is one row
        rows = [_merge(g) for g in groups]
    else:
        header, body = (groups[0], groups[1]) if len(groups) == 2 else (groups[0][:1], groups[0][1:])
        rows.append(_merge(header))
        for cells in body:
            if len(rows) > 1 and _continues(cells):
                rows[-1] = _merge([rows[-1], cells])
            else:
                rows.append(cells)
    width = max(len(r) for r in rows)
    return _Table(
        "\n".join(" | ".join((r[i] if i < len(r) else "") or "-" for i in range(width)) for r in rows)
    )


def _with_tables(lines: list[str]) -> list[str | _Table]:
    out: list[str | _Table] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and (_is_row(lines[j]) or (_RULE.match(lines[j]) and lines[j][0] in "+|")):
            j += 1
        if sum(_is_row(line) for line in lines[i:j]) >= 2:
            out.extend(["", _table(lines[i:j]), ""])
            i = j
        else:
            out.append(lines[i])
            i += 1
    return out


def _is_upper(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


MAX_PLAIN_HEADING_WORDS = 8


def _heading_style(line: str, prev_blank: bool, next_line: str, after: str, before: str = "") -> str | None:
    """The style of a heading line, or None for body text. ``after``: the first line of the next block
    when ``line`` ends its own block, else ""; ``before``: the last line before it."""
    if not prev_blank or len(line) > _MAX_HEADING or line.endswith((".", ",", ";")):
        return None
    # Several lines of capitals in a row are a shouted paragraph, not a run of headings.
    if next_line and _is_upper(next_line) and not _UNDERLINE.match(next_line):
        return None
    # A line standing alone as its block that reads as a heading ("1.1 Carry-over", "Sick Leave"), followed
    # by text: how headings look in a policy saved as plain text from a word processor.
    # "Rules for floating holidays:" before a list is the list's lead-in.
    alone = (
        not next_line
        and bool(after)
        and heading_like(line)
        and not (line.endswith(":") and is_list_item(after))
    )
    numbered = _NUMBERED.match(line)
    if numbered:
        depth = numbered.group(1).count(".")
        # "1. Submit the form" then "2. Sign it" are the steps of a list, not headings.
        step = any(
            (m := _NUMBERED.match(other)) is not None and m.group(1).count(".") == depth
            for other in (before, after)
        )
        return f"num{depth}" if _is_upper(numbered.group(2)) or (alone and not step) else None
    if _is_upper(line) and not is_list_item(line):
        return "upper"
    if not alone or is_list_item(line) or not line[0].isupper() or title_case(after):
        return None
    if title_case(line):
        return "titled"
    # In sentence case, only a short line before a paragraph of text ("Working from elsewhere").
    if len(line.split()) <= MAX_PLAIN_HEADING_WORDS and (after.endswith(".") or len(after.split()) >= 8):
        return "plain"
    return None


def _is_underlined(line: str, underline: str) -> bool:
    # A sentence followed by a rule is a paragraph above a separator, not a heading.
    return (
        len(underline) >= max(3, len(line) // 2) and len(line) <= 100 and not line.endswith((".", ",", ";"))
    )


def _next_block(lines: list[str | _Table], i: int) -> str:
    """The first line of the block after the one line ``i`` ends ("" at the end or before a table)."""
    for line in lines[i + 1 :]:
        if isinstance(line, _Table):
            return ""
        if line:
            return line
    return ""


def _events(lines: list[str | _Table]) -> list[_Heading | _Table | str | None]:
    """Classify lines: a _Heading, a _Table, a body line (str) or a paragraph break (None)."""
    events: list[_Heading | _Table | str | None] = []
    i = 0
    prev_blank = True
    before = ""  # the last non-empty line
    while i < len(lines):
        line = lines[i]
        if isinstance(line, _Table):
            events.append(line)
            prev_blank = True
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) and isinstance(lines[i + 1], str) else ""
        underline = _UNDERLINE.match(nxt)
        if not line:
            events.append(None)
            prev_blank = True
            i += 1
            continue
        if _UNDERLINE.match(line) and len(line) >= 3:
            events.append(None)  # a lone rule separates paragraphs
        elif underline and prev_blank and _is_underlined(line, nxt):
            events.append(_Heading(f"under{nxt[0]}", line))
            i += 1
        elif style := _heading_style(line, prev_blank, nxt, _next_block(lines, i) if not nxt else "", before):
            events.append(_Heading(style, line))
        else:
            events.append(line)
        prev_blank = isinstance(events[-1], _Heading) or events[-1] is None
        before = line
        i += 1
    return events


def _title_event(events: list[_Heading | _Table | str | None]) -> tuple[int, str]:
    """Index of the first non-empty event and the title it gives."""
    for index, event in enumerate(events):
        if event is None or isinstance(event, _Table):
            continue
        if isinstance(event, _Heading):
            return index, event.text
        stands_alone = index + 1 >= len(events) or not isinstance(events[index + 1], str)
        if stands_alone and len(event) <= _MAX_TITLE:
            events[index] = _Heading("title", event)
            return index, event
        return index, event[:_MAX_TITLE].rsplit(" ", 1)[0] if len(event) > _MAX_TITLE else event
    return -1, ""


def load(data: bytes, path: Path) -> Parsed:
    text = unicodedata.normalize("NFC", decode_text(data))
    lines = [line.expandtabs(4).strip() for line in text.splitlines()]
    events = _events(_with_tables(lines))
    title_index, title = _title_event(events)

    builder = SectionBuilder()
    levels: dict[str, int] = {}  # heading style -> level, in order of first appearance
    paragraph: list[str] = []
    body_lengths = sorted(len(event) for event in events if isinstance(event, str))
    # A line much shorter than a typical full line was broken on purpose ("Version: 2.0").
    short = body_lengths[int(0.8 * (len(body_lengths) - 1))] // 2 if body_lengths else 0
    last_line = ""

    def flush() -> None:
        if paragraph:
            builder.paragraph("\n".join(paragraph))
            paragraph.clear()

    for index, event in enumerate(events):
        if event is None:
            flush()
        elif isinstance(event, _Heading):
            flush()
            if index == title_index:
                level = 1
            elif event.style.startswith("num"):
                level = 2 + int(event.style[3:])  # "3." is a section, "3.1" a subsection of it
            else:
                level = levels.setdefault(event.style, len(levels) + 2)
            builder.heading(level, event.text)
        elif isinstance(event, _Table):
            flush()
            builder.paragraph(event.text)
        elif is_list_item(event) or not paragraph or len(last_line) < short:
            paragraph.append(dash_bullet(event))
        else:
            paragraph[-1] = join_wrapped(paragraph[-1], event)
        last_line = event if isinstance(event, str) else ""
    flush()
    return Parsed(title=clean_line(title), sections=builder.build())
