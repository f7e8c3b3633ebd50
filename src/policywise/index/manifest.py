"""What an index was built from and with, so a mismatch is caught before a wrong answer is."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 3  # 2: sentence vectors; 3: chunk store beside Chroma


class IndexMismatchError(RuntimeError):
    """The index was built with another embedding model or chunker than the one configured."""


@dataclass
class FileEntry:
    sha256: str
    title: str
    format: str
    chunks: int
    size: int


@dataclass
class Manifest:
    embedding_model: str
    dimension: int
    chunker: dict[str, int]
    # Indexes written before int8 inference existed were embedded in float.
    embedding_precision: str = "fp32"
    files: dict[str, FileEntry] = field(default_factory=dict)
    root: str = ""
    built_at: str = ""
    build_seconds: float = 0.0
    format_version: int = FORMAT_VERSION
    lexical_version: int = 0

    @property
    def chunk_count(self) -> int:
        return sum(f.chunks for f in self.files.values())

    def to_json(self) -> str:
        data = asdict(self)
        data["counts"] = {"documents": len(self.files), "chunks": self.chunk_count}
        data["files"] = {k: asdict(v) for k, v in sorted(self.files.items())}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        data = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        data.pop("counts", None)
        files = {k: FileEntry(**v) for k, v in data.pop("files", {}).items()}
        return cls(files=files, **data)

    def write(self, directory: Path) -> None:
        tmp = directory / (MANIFEST_FILE + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(directory / MANIFEST_FILE)

    def check_compatible(self, model: str, precision: str, chunker: dict[str, int], location: str) -> None:
        from policywise.index.lexical import LEXICAL_VERSION

        if self.lexical_version != LEXICAL_VERSION or self.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index at {location} was built by another PolicyWise version (format {self.format_version}, "
                f"lexical {self.lexical_version}); rebuild it with `policywise ingest --rebuild`"
            )
        if self.embedding_model != model:
            raise IndexMismatchError(
                f"index at {location} was built with embedding model {self.embedding_model!r}, "
                f"but {model!r} is configured (EMBEDDING_MODEL); rebuild it with "
                f"`policywise ingest --rebuild` or set EMBEDDING_MODEL={self.embedding_model}"
            )
        if self.embedding_precision != precision:
            raise IndexMismatchError(
                f"index at {location} was embedded at {self.embedding_precision} precision, but "
                f"{precision} is configured (EMBEDDING_PRECISION); rebuild it with "
                f"`policywise ingest --rebuild` or set EMBEDDING_PRECISION={self.embedding_precision}"
            )
        if self.chunker != chunker:
            raise IndexMismatchError(
                f"index at {location} was built with chunker settings {self.chunker}, "
                f"but {chunker} are configured; rebuild it with `policywise ingest --rebuild`"
            )
