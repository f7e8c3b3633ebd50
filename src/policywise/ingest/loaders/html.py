"""HTML via BeautifulSoup's stdlib "html.parser": the page's content, without the site around it.

Scripts, styles, forms, navigation, asides, hidden elements and page-level header/footer
(those outside <main>/<article>) are dropped. When the page has a <main> (else <article>s),
only that is read. h1-h6 set the heading path; so does a p or div in bold throughout that reads as a
heading (<strong>, <b>, or font-weight as word processors export it; ``_common.heading_like``), one level
below the page's deepest heading. p, li, table rows, pre, blockquote and dt/dd
become paragraphs in document order, each block once; loose text inside divs is kept. A table that
lays out the page (a cell holding a heading or a table, a single row of cells holding several blocks, or
role="presentation") is read cell by cell as containers, without a cell of links only (its navigation
column).
Title: the first <h1> of the content, else <title> (without a " | Site name" suffix), else the first
paragraph in bold that reads as a heading.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from policywise.ingest.loaders._common import (
    Parsed,
    SectionBuilder,
    clean_line,
    decode_text,
    heading_text,
    nested_level,
)

_DROP = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg",
    "head", "title", "meta", "link", "button", "select", "dialog", "object", "embed", "canvas",
)  # fmt: skip
_DROP_ROLES = re.compile(r"^\s*(navigation|banner|contentinfo)\s*$", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# fmt: off
_BLOCKS = frozenset((
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "hr", "html", "li", "main",
    "menu", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul", *_HEADINGS,
))
# fmt: on
# Blocks that hold only inline content, read as one paragraph unless they (invalidly) nest blocks.
_TEXT_BLOCKS = frozenset(("p", "dt", "dd", "li", "caption", "summary", "figcaption"))
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
# A stand-in for <br> that survives whitespace collapsing (\s would eat U+2028 too).
_BR = "\u2028"
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


def _decode(data: bytes) -> str:
    declared = _CHARSET.search(data[:4096])
    return decode_text(data, declared.group(1).decode("ascii", "ignore") if declared else None)


def _is_hidden(tag: Tag) -> bool:
    return (
        tag.has_attr("hidden")
        or str(tag.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))
        or bool(_DROP_ROLES.match(str(tag.get("role", ""))))
    )


def _strip_boilerplate(soup: BeautifulSoup) -> None:
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        if not tag.decomposed:
            tag.decompose()
    for tag in soup.find_all(["header", "footer"]):
        if not tag.decomposed and tag.find_parent(["main", "article"]) is None:
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with(_BR)


def _roots(soup: BeautifulSoup) -> list[Tag]:
    for name in ("main", "article"):
        found = [tag for tag in soup.find_all(name) if tag.find_parent(name) is None]
        if found:
            return found
    return [soup.body or soup]


def _flat(text: str) -> str:
    """Collapse HTML whitespace the way a browser does, keeping <br> as a line break."""
    return _HTML_SPACE.sub(" ", text).replace(_BR, "\n")


def _text(node: Tag | NavigableString) -> str:
    if isinstance(node, NavigableString):
        return "" if isinstance(node, PreformattedString) else str(node)
    return "".join(_piece(child) for child in node.children)


def _piece(node: Tag | NavigableString) -> str:
    # Adjacent block children (<p>a</p><p>b</p> inside a cell) must not run their words together.
    return f" {_text(node)} " if isinstance(node, Tag) and node.name in _BLOCKS else _text(node)


def _has_block(tag: Tag) -> bool:
    return tag.find(lambda t: t.name in _BLOCKS) is not None


def _list_lines(container: Tag, ordered: bool, counter: list[int]) -> list[str]:
    """One line per <li>; html.parser nests unclosed <li>s, so nested <li> are siblings here."""
    lines: list[str] = []
    for li in container.find_all("li", recursive=False):
        own: list[str] = []
        nested: list[str] = []
        for child in li.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol"):
                nested.extend(_list_lines(child, child.name == "ol", [_start(child)]))
            elif isinstance(child, Tag) and child.name == "table":
                nested.extend(_table_lines(child))
            elif not (isinstance(child, Tag) and child.name == "li"):
                own.append(_piece(child))
        marker = f"{counter[0]}. " if ordered else "- "
        counter[0] += 1
        lines.append(marker + clean_line(_flat("".join(own))))
        lines.extend(nested)
        lines.extend(_list_lines(li, ordered, counter))
    return lines


def _start(tag: Tag) -> int:
    try:
        return int(str(tag.get("start", "1")))
    except ValueError:
        return 1


_LAYOUT_CONTENT = ("h1", "h2", "h3", "h4", "h5", "h6", "table")
_CELL_BLOCKS = ("p", "ul", "ol", "blockquote", "pre", "div")


def _is_layout(table: Tag) -> bool:
    """Whether a table lays out a page rather than holding data (old intranet pages and e-mails put the whole
    page in one): a cell of its own holds a heading or another table, or the table is one row whose cells
    hold several blocks. A data table's cell may hold paragraphs or a list."""
    if str(table.get("role", "")).lower() in ("presentation", "none"):
        return True
    rows = _own_rows(table)
    for row in rows:
        for cell in row.find_all(["td", "th"], recursive=False):
            if cell.find(_LAYOUT_CONTENT) is not None:
                return True
            if len(rows) == 1 and len(cell.find_all(_CELL_BLOCKS)) > 1:
                return True
    return False


_WORDS_ONLY = re.compile(r"\W+")


def _only_links(cell: Tag) -> bool:
    """A cell whose text is all links: a layout table's navigation column."""
    text = _WORDS_ONLY.sub("", cell.get_text())
    return bool(text) and text == _WORDS_ONLY.sub("", "".join(a.get_text() for a in cell.find_all("a")))


def _own_rows(table: Tag) -> list[Tag]:
    # A nested table's rows belong to the cell that holds it.
    return [row for row in table.find_all("tr") if row.find_parent("table") is table]


def _table_lines(table: Tag) -> list[str]:
    lines = []
    if table.caption:
        lines.append(clean_line(_flat(_text(table.caption))))
    for row in _own_rows(table):
        cells = [clean_line(_flat(_text(cell))) for cell in row.find_all(["th", "td"], recursive=False)]
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


_BOLD_TAGS = frozenset(("strong", "b"))
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|bolder|[6-9]00)\b", re.IGNORECASE)


def _bold(node: Tag, stop: Tag) -> bool:
    """Whether ``node`` or an element between it and ``stop`` sets bold type (a tag or an inline style, as
    word processors export it)."""
    for tag in [node, *node.parents]:
        if tag is stop:
            return False
        if tag.name in _BOLD_TAGS or _BOLD_STYLE.search(str(tag.get("style", ""))):
            return True
    return False


def _bold_heading(tag: Tag) -> str | None:
    """The text of a paragraph that is bold throughout and reads as a heading, or None."""
    strings = [s for s in tag.find_all(string=True) if s.strip(" :\n\t\xa0")]
    if not strings or not all(isinstance(s.parent, Tag) and _bold(s.parent, tag) for s in strings):
        return None
    return heading_text(_flat(_text(tag)))


class _Walker:
    def __init__(self, builder: SectionBuilder, pseudo_level: int = 1) -> None:
        self.builder = builder
        self.loose: list[str] = []
        self.first_h1 = ""
        self.first_bold = ""
        # A paragraph in bold that reads as a heading sits one level below the page's deepest heading.
        self.pseudo_level = pseudo_level

    def flush(self) -> None:
        if self.loose:
            self.builder.paragraph(_flat("".join(self.loose)))
            self.loose = []

    def block(self, text: str, *, keep_layout: bool = False) -> None:
        self.flush()
        self.builder.paragraph(text, keep_layout=keep_layout)

    def walk(self, element: Tag) -> None:
        for child in element.children:
            if isinstance(child, NavigableString):
                self.loose.append(_text(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                self.flush()
                heading = clean_line(_flat(_text(child)))
                self.builder.heading(_HEADINGS[name], heading)
                if name == "h1" and not self.first_h1:
                    self.first_h1 = heading
            elif name in ("ul", "ol", "menu"):
                self.block("\n".join(_list_lines(child, name == "ol", [_start(child)])))
            elif name == "table" and _is_layout(child):
                for row in _own_rows(child):
                    for cell in row.find_all(["td", "th"], recursive=False):
                        if not _only_links(cell):
                            self.flush()
                            self.walk(cell)
                            self.flush()
            elif name == "table":
                self.block("\n".join(_table_lines(child)))
            elif name == "pre":
                self.block(child.get_text().replace(_BR, "\n"), keep_layout=True)
            elif name in ("p", "div") and not _has_block(child) and (bold := _bold_heading(child)):
                self.flush()
                self.builder.heading(nested_level(self.pseudo_level, bold), bold)
                self.first_bold = self.first_bold or bold
            elif name in _TEXT_BLOCKS and not _has_block(child):
                self.block(_flat(_text(child)))
            elif name in _BLOCKS or _has_block(child):
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.loose.append(_text(child))


def _page_title(soup: BeautifulSoup) -> str:
    title = soup.title.get_text() if soup.title else ""
    return clean_line(title.split(" | ")[0])


def walk_fragment(fragment: str, builder: SectionBuilder, pseudo_level: int = 1) -> None:
    """HTML inside another document (a Markdown file's HTML block) into ``builder``: its headings, paragraphs
    and tables as this loader reads a page (a table as rows of cells, not one line per cell)."""
    soup = BeautifulSoup(fragment, "html.parser")
    _strip_boilerplate(soup)
    walker = _Walker(builder, pseudo_level)
    walker.walk(soup)
    walker.flush()


def load(data: bytes, path: Path) -> Parsed:
    soup = BeautifulSoup(_decode(data), "html.parser")
    page_title = _page_title(soup)
    _strip_boilerplate(soup)
    builder = SectionBuilder()
    deepest = max((_HEADINGS[t.name] for t in soup.find_all(list(_HEADINGS))), default=0)
    walker = _Walker(builder, deepest + 1)
    for root in _roots(soup):
        walker.walk(root)
        walker.flush()
    return Parsed(title=walker.first_h1 or page_title or walker.first_bold, sections=builder.build())
