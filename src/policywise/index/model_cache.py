"""The embedding model as this machine runs it, saved so that its weights are memory-mapped at load.

onnxruntime repacks every matrix weight into its kernels' layout when a session starts, and keeps the
packed copy on the heap; the ORT-format file the cache held before was read onto the heap too. A
gunicorn master that preloads the model then hands every forked worker ~41 MB of anonymous memory
that counts in each worker's RSS. Saved as ONNX with its weights in a companion data file, packed
ones included (``session.save_external_prepacked_constant_initializers``), the session maps that file
instead: the weights live in the page cache, a worker maps only the pages it touches, the kernel can
reclaim them under pressure, and the session loads in ~25 ms instead of ~90. Measured on L6 int8:
+6.5 MB of anonymous memory per session instead of +41, identical vectors, the same run time.

The packed layout depends on the CPU's instruction set (onnxruntime picks its matrix kernels by the
CPU's features), so the mapped copy is keyed by the CPU's features and derived from a portable copy
(the int8 model, or the float source) that is kept beside it: moving to another CPU rebuilds only the
mapped copy (a session load and save in a child process, ~1 s), not the int8 conversion (~0.5 GB
peak for L6).

Both builds run in a child process, so a server never keeps the builder's memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import sys
from pathlib import Path

from policywise.index.quantize import conversion, quantize_in_child, run_in_child
from policywise.models import ModelSpec, sha256_file

logger = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
DATA_FILE = "model.data"
# Initializers below this stay inside the graph file: mapping a page for a few bytes saves nothing.
_EXTERNAL_MIN_BYTES = 1024


def cpu_key() -> str:
    """A short digest of the machine type and the CPU's feature flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):  # x86 / ARM
                    flags = " ".join(sorted(line.split(":", 1)[1].split()))
                    break
    except OSError:
        flags = platform.processor()
    return hashlib.sha256(f"{platform.machine()} {flags}".encode()).hexdigest()[:12]


def verified_source(spec: ModelSpec) -> Path:
    source = spec.model_path()
    digest = sha256_file(source)
    if digest != spec.sha256:
        raise RuntimeError(f"{spec.name}: {source} has sha256 {digest}, expected {spec.sha256}")
    return source


def mapped_folder_name(spec: ModelSpec, precision: str) -> str:
    """The cache folder of the mapped copy: model, conversion, onnxruntime version and CPU features."""
    import onnxruntime as ort

    return f"{spec.name}-{spec.sha256[:12]}-{conversion(precision)}-ort{ort.__version__}-cpu{cpu_key()}"


def mapped_model(spec: ModelSpec, precision: str, cache_dir: Path) -> Path:
    """The graph file of the mapped copy for this CPU, built (with the portable copy) if missing; the
    portable copy itself when the mapped one cannot be made (the weights are then on the heap, as before).

    Raises OSError when the cache folder cannot be written, RuntimeError when the int8 conversion fails.
    """
    folder = cache_dir / mapped_folder_name(spec, precision)
    model = folder / MODEL_FILE
    if model.is_file() and (folder / DATA_FILE).is_file():
        return model
    cache_dir.mkdir(parents=True, exist_ok=True)
    source = _portable_model(spec, precision, portable_path(spec, precision, cache_dir))
    # Built under a temporary name and renamed whole: the graph file names its data file, so the pair
    # must appear together, and a reader never sees half of it.
    building = cache_dir / f"{folder.name}.tmp{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    try:
        args, what = [str(source), str(building)], f"saving {spec.name} for mapping"
        run_in_child("policywise.index.model_cache", args, building / MODEL_FILE, what)
        try:
            building.rename(folder)
        except OSError:
            if not model.is_file():  # not another process finishing first
                raise
    except RuntimeError as exc:
        # An onnxruntime that cannot save packed weights for this CPU still runs the model.
        logger.warning("%s; loading %s without memory-mapped weights", exc, source.name)
        return source
    finally:
        shutil.rmtree(building, ignore_errors=True)
    logger.info("saved %s (%s) for memory-mapped loading to %s", spec.name, precision, folder)
    _remove_retired(spec, precision, cache_dir)
    return model


def _remove_retired(spec: ModelSpec, precision: str, cache_dir: Path) -> None:
    """Copies of this model that nothing loads any more: the ORT-format files the cache held before, and
    int8 conversions by an older recipe. (A process still mapping one keeps its pages until it exits.)"""
    stem = f"{spec.name}-{spec.sha256[:12]}-{precision}"
    retired = list(cache_dir.glob(f"{stem}-ort*.ort"))
    if precision == "int8":
        now = f"{spec.name}-{spec.sha256[:12]}-{conversion(precision)}"
        current = (f"{now}.", f"{now}-")  # this recipe's files, folders, builds
        retired += [*cache_dir.glob(f"{stem}.onnx"), *cache_dir.glob(f"{stem}-ort*-cpu*")]
        retired += [p for p in cache_dir.glob(f"{stem}-r*") if not p.name.startswith(current)]
    for path in retired:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        logger.info("removed %s, a retired copy of %s", path.name, spec.name)


def portable_path(spec: ModelSpec, precision: str, cache_dir: Path) -> Path:
    """Where the CPU-independent model is kept: the source itself at float precision."""
    if precision != "int8":
        return spec.model_path()
    return cache_dir / f"{spec.name}-{spec.sha256[:12]}-{conversion(precision)}.onnx"


def _portable_model(spec: ModelSpec, precision: str, target: Path) -> Path:
    """The CPU-independent model the mapped copy is made from: the verified source, or its int8 form."""
    if precision != "int8":
        return verified_source(spec)
    if not target.is_file():
        tmp = target.with_suffix(f".tmp{os.getpid()}.onnx")
        try:
            quantize_in_child(verified_source(spec), tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def save_mapped(source: Path, folder: Path) -> None:
    """Optimise ``source`` and save it with every initializer, packed ones included, in a data file."""
    import onnxruntime as ort

    folder.mkdir(parents=True)
    opts = ort.SessionOptions()
    # EXTENDED, not ALL: ALL adds layout changes for convolutions (none here) meant for the running
    # session only.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(folder / MODEL_FILE)
    opts.add_session_config_entry("session.optimized_model_external_initializers_file_name", DATA_FILE)
    opts.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", str(_EXTERNAL_MIN_BYTES)
    )
    opts.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1")
    opts.log_severity_level = 3
    ort.InferenceSession(str(source), sess_options=opts, providers=["CPUExecutionProvider"])
    if not (folder / DATA_FILE).is_file():
        raise RuntimeError(f"onnxruntime wrote no {DATA_FILE} for {source.name}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m policywise.index.model_cache SOURCE.onnx TARGET_FOLDER", file=sys.stderr)
        return 2
    save_mapped(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
