"""Markdown (CommonMark + GFM tables) via markdown-it-py's syntax tree.

Title: the first H1, else the front-matter ``title``, else the first heading of any level, else the first
paragraph in bold that reads as a heading. A paragraph in bold throughout that reads as one ("**Annual
Leave**"; ``_common.heading_like``) is a heading one level below the document's deepest.
YAML front matter is skipped; inline markup is reduced to its text (links keep their text,
images are dropped); an HTML block is read as the HTML loader reads a page (its tables as rows of
cells), and HTML inside a list item or quote keeps its text.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from policywise.ingest.loaders._common import (
    Parsed,
    SectionBuilder,
    clean_line,
    decode_text,
    heading_text,
    nested_level,
)
from policywise.ingest.loaders.html import walk_fragment

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
# A front-matter line: "key: value", a list item, an indented continuation or a comment.
_YAML_LINE = re.compile(r"^(?:[\w\"'][\w .\"'-]*:(?:\s.*)?|\s+.*|-\s.*|#.*|)$")
_TITLE_KEY = re.compile(r"^title:\s*(.+?)\s*$", re.MULTILINE)

_LISTS = ("bullet_list", "ordered_list")
_CODE = ("fence", "code_block")


def _split_front_matter(source: str) -> tuple[str, str]:
    """Return (front-matter title, body); a leading "---" that isn't YAML is left alone."""
    match = _FRONT_MATTER.match(source)
    if not match:
        return "", source
    block = match.group(1) or ""
    if not all(_YAML_LINE.match(line) for line in block.splitlines()):
        return "", source
    title_match = _TITLE_KEY.search(block)
    title = title_match.group(1).strip("\"'") if title_match else ""
    return clean_line(title), source[match.end() :]


def _inline(node: SyntaxTreeNode) -> str:
    parts: list[str] = []
    for child in node.children:
        if child.type == "text" or child.type == "code_inline":
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "html_inline":
            if re.match(r"<br\b", child.content, re.IGNORECASE):
                parts.append("\n")
        elif child.type != "image":
            parts.append(_inline(child))
    return "".join(parts)


def _html_text(fragment: str) -> str:
    soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup(["script", "style", "template"]):
        tag.decompose()
    return soup.get_text("\n")


def _block_lines(node: SyntaxTreeNode) -> list[str]:
    """The lines a block contributes when it sits inside a list item or blockquote."""
    if node.type in _LISTS:
        return _list_lines(node)
    if node.type == "table":
        return _table_lines(node)
    if node.type in _CODE:
        return node.content.splitlines()
    if node.type == "html_block":
        return _html_text(node.content).splitlines()
    if node.type in ("paragraph", "heading", "inline"):
        return [_inline(node)]
    return [line for child in node.children for line in _block_lines(child)]


def _list_lines(node: SyntaxTreeNode) -> list[str]:
    ordered = node.type == "ordered_list"
    number = int(node.attrs.get("start", 1)) if ordered else 0
    lines: list[str] = []
    for item in node.children:
        own: list[str] = []
        nested: list[str] = []
        for child in item.children:
            if child.type in ("paragraph", "heading"):
                own.append(_inline(child).replace("\n", " "))
            else:
                nested.extend(_block_lines(child))
        lines.append((f"{number}. " if ordered else "- ") + " ".join(own))
        lines.extend(nested)
        number += 1
    return lines


def _table_lines(node: SyntaxTreeNode) -> list[str]:
    rows: list[str] = []
    for section in node.children:  # thead, tbody
        for row in section.children:
            cells = [_inline(cell).replace("\n", " ").strip() for cell in row.children]
            if any(cells):
                rows.append(" | ".join(cells))
    return rows


def _bold_heading(paragraph: SyntaxTreeNode) -> str | None:
    """The text of a paragraph that is bold throughout and reads as a heading, or None."""
    parts = [part for inline in paragraph.children for part in inline.children]
    marked = [p for p in parts if not (p.type == "text" and not p.content.strip(" :"))]
    if not marked or any(p.type != "strong" for p in marked):
        return None
    return heading_text(_inline(paragraph))


def _walk(node: SyntaxTreeNode, builder: SectionBuilder, pseudo_level: int, found: list[str]) -> None:
    for child in node.children:
        kind = child.type
        if kind == "heading":
            builder.heading(int(child.tag[1:]), _inline(child))
        elif kind == "paragraph" and node.type == "root" and (bold := _bold_heading(child)):
            builder.heading(nested_level(pseudo_level, bold), bold)
            found.append(bold)
        elif kind == "paragraph":
            builder.paragraph(_inline(child))
        elif kind in _LISTS:
            builder.paragraph("\n".join(_list_lines(child)))
        elif kind == "table":
            builder.paragraph("\n".join(_table_lines(child)))
        elif kind in _CODE:
            builder.paragraph(child.content, keep_layout=True)
        elif kind == "html_block":
            walk_fragment(child.content, builder, pseudo_level)
        elif kind == "blockquote":
            _walk(child, builder, pseudo_level, found)


def _first_heading(node: SyntaxTreeNode, level: str | None) -> str:
    for child in node.children:
        if child.type == "heading" and (level is None or child.tag == level):
            return clean_line(_inline(child))
    return ""


def load(data: bytes, path: Path) -> Parsed:
    source = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    meta_title, body = _split_front_matter(source)
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    tree = SyntaxTreeNode(parser.parse(body))
    builder = SectionBuilder()
    deepest = max((int(c.tag[1:]) for c in tree.children if c.type == "heading"), default=0)
    bold: list[str] = []
    _walk(tree, builder, deepest + 1, bold)
    title = _first_heading(tree, "h1") or meta_title or _first_heading(tree, None) or next(iter(bold), "")
    return Parsed(title=title, sections=builder.build())
