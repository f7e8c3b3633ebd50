"""Helpers shared by the format loaders: decoding, whitespace clean-up and section building."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field

from policywise.types import Section


class LoadError(Exception):
    """A file could not be turned into a document; str() is a short reason a user can act on."""


@dataclass
class Parsed:
    """What a format loader returns; ``load_document`` adds source, format and hash."""

    title: str
    sections: list[Section] = field(default_factory=list)


# Characters that render as nothing (or as a soft line-break hint) and only get in the way of search.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t]+")
# Bullet glyphs: typographic ones need a space after them; \x7f and the private-use code points
# are what Symbol/Wingdings bullets come out as from PDF text extraction, often with no space.
_GLYPH_BULLET = r"[*+•◦▪‣⁃∙·●■□○–—]\s+|[\x7f\uf0b7\uf0a7\uf076]\s*"
_LIST_MARKER = re.compile(rf"^(?:-\s+|{_GLYPH_BULLET}|\(?\d{{1,3}}[.)]\s+|\(?[a-z]\)\s+)")
_BULLET = re.compile(rf"^(?:{_GLYPH_BULLET})")
# Compound-word prefixes whose hyphen is real even when it falls at a line end ("pre-approval").
# fmt: off
_HYPHEN_PREFIXES = frozenset((
    "anti", "co", "cross", "e", "full", "half", "long", "non", "part", "post", "pre", "re", "self",
    "semi", "short", "sub", "well",
))
# fmt: on


def _char_ok(ch: str) -> str:
    if ch in "\n\t":
        return ch
    category = unicodedata.category(ch)
    if category == "Cc":
        return ""
    if category == "Zs":
        return " "
    return ch


def normalise(text: str, *, keep_layout: bool = False) -> str:
    """NFC, one space between words, no blank lines; ``keep_layout`` keeps indentation (code)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(_char_ok(ch) for ch in text.translate(_INVISIBLE))
    lines = []
    for line in text.split("\n"):
        line = line.expandtabs(4).rstrip() if keep_layout else _SPACES.sub(" ", line).strip()
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def clean_line(text: str) -> str:
    """A heading or title: one line of normalised text."""
    return normalise(text).replace("\n", " ")


def is_list_item(line: str) -> bool:
    return bool(_LIST_MARKER.match(line))


def dash_bullet(line: str) -> str:
    """Any bullet glyph at the start of a line becomes "- ", as the other formats produce."""
    return _BULLET.sub("- ", line, count=1)


def join_wrapped(previous: str, following: str) -> str:
    """Join two lines of one paragraph, re-joining a word hyphenated across the break."""
    if not previous:
        return following
    match = re.search(r"(\w+)-$", previous)
    if match and following[:1].islower() and match.group(1).isalpha():
        if match.group(1).lower() in _HYPHEN_PREFIXES:
            return previous + following
        return previous[:-1] + following
    return f"{previous} {following}"


def title_from_stem(stem: str) -> str:
    return clean_line(re.sub(r"[_\-]+", " ", stem)) or stem


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _looks_like_text(text: str) -> bool:
    if "\x00" in text:
        return False
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    return controls <= max(1, len(text) // 100)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Bytes of a text format to str: BOM, else UTF-8, else the declared charset or cp1252.

    The legacy fallbacks are only accepted when the result reads as text, so binary files are
    reported instead of being indexed as mojibake.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(f"not valid {encoding.upper()} text despite its byte-order mark") from exc
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            for encoding in (declared, "cp1252"):
                if not encoding:
                    continue
                try:
                    text = data.decode(encoding)
                except (UnicodeDecodeError, LookupError):
                    continue
                if _looks_like_text(text):
                    return text
            raise LoadError("not valid UTF-8 text") from None
    if not _looks_like_text(text):
        raise LoadError("binary data, not text")
    return text


# A line in bold that is longer than this, ends like a sentence or a clause, or states a rule ("All staff
# must complete training within 30 days") is emphasis rather than a heading formatted by hand.
MAX_BOLD_HEADING_WORDS = 12
# A colon then lower case or a figure is a "label: value" line ("Version: 2.0", "Note: ask first"); a
# colon then a capital is a heading's subtitle ("Part A: Disciplinary Procedure").
_SENTENCE_END = re.compile(r"[.;,!?]\s*$|:\s*[^\sA-Z]")
_FINITE = re.compile(
    r"\b(?:must|may|should|shall|will|would|can|cannot|is|are|was|were|has|have|do|does)\b", re.IGNORECASE
)


def heading_like(text: str) -> bool:
    """Whether a paragraph set in bold throughout reads as a heading: short, not a sentence or a rule, not a
    "label: value" line, not a lead-in ("Before you book leave, check the following:"). A table's caption in
    bold ("Table 1. Premium rates") heads its table, as the PDF loader has always read it."""
    text = clean_line(text)
    words = text.split()
    if not words or len(words) > MAX_BOLD_HEADING_WORDS or _SENTENCE_END.search(text.rstrip(":")):
        return False
    if text.endswith(":") and len(words) > 4:
        return False
    # "Who is eligible", "If a Password Is Compromised", "What Is Reimbursable" are headings all the same.
    return not _FINITE.search(text) or bool(_CLAUSE_HEADING.match(text)) or title_case(text)


_MINOR_WORDS = frozenset(
    ("a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "per", "the", "to")
)
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_CLAUSE_HEADING = re.compile(r"^(?:\d[\d.]*\.?\s+)?(?:who|what|when|where|why|how|which|whether|if)\b", re.I)


def title_case(text: str) -> bool:
    """Whether every word but the minor ones ("of", "the"…) starts with a capital."""
    words = _WORD.findall(text)
    major = [w for w in words if w.lower() not in _MINOR_WORDS]
    return bool(major) and all(w[0].isupper() for w in major)


def heading_text(text: str) -> str | None:
    """A line formatted by hand as a heading, without the colon some put after one ("Carry-over:"); None
    when it does not read as a heading (``heading_like``)."""
    return clean_line(text).rstrip(":").rstrip() if heading_like(text) else None


_NUMBERING = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?\s+\S")


def numbering_depth(heading: str) -> int:
    """How deep a heading's own numbering puts it: 1 for "3. Hours" or "3 Hours", 2 for "3.2 Carry-over",
    0 when unnumbered. Headings formatted by hand carry their nesting nowhere else."""
    match = _NUMBERING.match(clean_line(heading))
    return match.group(1).count(".") + 1 if match else 0


def nested_level(level: int, heading: str) -> int:
    """``level`` for a heading formatted by hand, deeper by its numbering's further parts ("3.1" one deeper
    than "3.")."""
    return level + max(0, numbering_depth(heading) - 1)


class SectionBuilder:
    """Collects headings and paragraphs in document order and cuts them into sections.

    A heading of level L closes every open heading of level >= L, so skipped levels
    (h1 -> h3) still nest. A heading with no text before the next one yields no section
    but stays in the paths of its subsections.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []
        self._paragraphs: list[str] = []
        self._page: int | None = None
        self._sections: list[Section] = []

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._stack)

    def heading(self, level: int, text: str) -> None:
        text = clean_line(text)
        if not text:
            return
        self._flush()
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))

    def paragraph(self, text: str, *, keep_layout: bool = False) -> None:
        text = normalise(text, keep_layout=keep_layout)
        if text:
            self._paragraphs.append(text)

    def page(self, number: int) -> None:
        self._flush()
        self._page = number

    def build(self) -> list[Section]:
        self._flush()
        return self._sections

    def _flush(self) -> None:
        if self._paragraphs:
            self._sections.append(Section(self.path, "\n\n".join(self._paragraphs), self._page))
            self._paragraphs = []
