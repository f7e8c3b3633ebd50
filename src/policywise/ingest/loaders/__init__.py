"""Load a policy file into a ``Document``: one loader module per format, dispatched by suffix.

Conventions shared by every format:

* ``Section.heading_path`` is the full path of enclosing headings. When a document has a
  first-level heading, that heading is its title and the first element of every path below it.
  Text that comes before the first heading of a document gets ``heading_path=()``.
* Headings never appear inside ``Section.text``; ``text`` holds paragraphs separated by one
  blank line. A list, a table or a code block is one paragraph with one line per item, row or
  code line ("- item", "1. item", "cell | cell").
* Sections with no text are dropped; their heading still appears in their subsections' paths.
* Text is NFC-normalised, runs of spaces are collapsed, lines are stripped.
* Anything wrong with a file surfaces as ``LoadError`` with a short reason, never as another
  exception type.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from policywise.ingest.loaders import docx, html, markdown, pdf, text
from policywise.ingest.loaders._common import LoadError, Parsed, title_from_stem
from policywise.types import Document

__all__ = ["SUPPORTED_SUFFIXES", "LoadError", "load_document"]

logger = logging.getLogger(__name__)

_LOADERS: dict[str, tuple[str, Callable[[bytes, Path], Parsed]]] = {
    ".md": ("md", markdown.load),
    ".markdown": ("md", markdown.load),
    ".txt": ("txt", text.load),
    ".html": ("html", html.load),
    ".htm": ("html", html.load),
    ".pdf": ("pdf", pdf.load),
    ".docx": ("docx", docx.load),
}

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_LOADERS)


def load_document(path: Path, source: str) -> Document:
    """Read ``path`` and parse it by its suffix; ``source`` is stored as the document's source."""
    suffix = path.suffix.lower()
    if suffix not in _LOADERS:
        raise LoadError(f"unsupported format {suffix}" if suffix else "unsupported format (no file suffix)")
    fmt, loader = _LOADERS[suffix]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError("empty file")
    try:
        parsed = loader(data, path)
    except LoadError:
        raise
    except RecursionError as exc:
        raise LoadError("document is nested too deeply to parse") from exc
    except Exception as exc:
        # Parsers raise a zoo of exception types on malformed input; the pipeline must be able
        # to skip one bad file and carry on, so all of them become a LoadError with the reason.
        logger.debug("loader for %s failed on %s", fmt, source, exc_info=True)
        raise LoadError(f"cannot parse {fmt} file: {type(exc).__name__}: {exc}"[:300]) from exc
    sections = [s for s in parsed.sections if s.text]
    if not sections:
        raise LoadError("no text found")
    return Document(
        source=source,
        title=parsed.title or title_from_stem(path.stem),
        format=fmt,
        sections=sections,
        sha256=hashlib.sha256(data).hexdigest(),
    )
