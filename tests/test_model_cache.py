"""The model cache: weights mapped from a file, a copy per CPU, and a cache that cannot be written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from policywise.index import model_cache
from policywise.index.embedder import Embedder

TEXTS = ["Can I carry over unused vacation days?", "How do I report a phishing email?"]

# Loads the model in a fresh interpreter and reports how much anonymous memory the session added and
# how much of the cache's data file it maps.
_PROBE = """
import json, sys
from policywise.config import load_settings
from policywise.index.embedder import Embedder

def anonymous_kb():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Anonymous:"))

embedder = Embedder.from_settings(load_settings(env={}))
import onnxruntime, tokenizers  # imported before measuring: only the session counts
before = anonymous_kb()
embedder.load()
after = anonymous_kb()
mapped = 0
current = ""
with open("/proc/self/smaps") as f:
    for line in f:
        head = line.split()
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            current = head[5] if len(head) > 5 else ""
        elif head[0] == "Size:" and current.endswith("model.data"):
            mapped += int(head[1])
print(json.dumps({"session_anonymous_kb": after - before, "mapped_kb": mapped}))
"""


@pytest.fixture(scope="module")
def cached(settings) -> Embedder:
    embedder = Embedder.from_settings(settings)
    embedder.load()  # builds the shared cache once if this checkout has none
    return embedder


@pytest.fixture()
def other_cpu(cached, settings, tmp_path, monkeypatch) -> Path:
    """``tmp_path`` as the model cache of a machine whose CPU has other features, holding the portable int8
    model this checkout converted (so no test converts it again); returns that model's path here."""
    portable = model_cache.portable_path(cached.spec, "int8", settings.model_cache_dir)
    shutil.copy2(portable, tmp_path / portable.name)
    monkeypatch.setattr(model_cache, "cpu_key", lambda: "0therc0re000")
    return tmp_path / portable.name


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux's /proc")
def test_a_loaded_model_maps_its_weights_instead_of_copying_them_onto_the_heap(cached, settings) -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    data_kb = sum(f.stat().st_size for f in settings.model_cache_dir.glob("*-cpu*/model.data")) // 1024
    assert probe["mapped_kb"] > 10_000  # the weights are mapped from the cache's data file...
    # ...and not copied: model and tokenizer add less than half the weights' size to the process's own
    # memory (~13 MB for L6 int8; the ORT-format file loaded before, ~47 MB for its 34 MB).
    assert probe["session_anonymous_kb"] < 25_000 < data_kb / 2


def test_another_cpu_gets_its_own_mapped_copy_without_converting_the_model_again(
    cached, settings, tmp_path, other_cpu
) -> None:
    converted_at = other_cpu.stat().st_mtime_ns

    other = Embedder.from_settings(replace(settings, model_cache_dir=tmp_path))
    assert np.allclose(other.embed(TEXTS), cached.embed(TEXTS), atol=1e-5)
    copy = model_cache.mapped_folder_name(cached.spec, "int8")
    assert copy.endswith("-cpu0therc0re000")
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [copy]
    assert other_cpu.stat().st_mtime_ns == converted_at


def test_a_cache_that_cannot_take_a_copy_for_this_cpu_still_serves_its_int8_model(
    cached, settings, tmp_path, other_cpu
) -> None:
    # Something else already holds the copy's name, so it cannot be written.
    blocker = tmp_path / model_cache.mapped_folder_name(cached.spec, "int8")
    blocker.write_text("not a folder")

    other = Embedder.from_settings(replace(settings, model_cache_dir=tmp_path))
    assert np.allclose(other.embed(TEXTS), cached.embed(TEXTS), atol=1e-5)
    assert blocker.read_text() == "not a folder"
    assert not list(tmp_path.glob("*.tmp*"))  # no half-built copy left behind


def test_saving_a_copy_removes_the_ones_nothing_loads_any_more(cached, settings, tmp_path, other_cpu) -> None:
    stem = f"{cached.spec.name}-{cached.spec.sha256[:12]}-int8"
    retired = [f"{stem}-ort1.20.0.ort", f"{stem}.onnx", f"{stem}-r1.onnx"]  # older formats and recipes
    for name in retired:
        (tmp_path / name).write_bytes(b"old")
    (tmp_path / f"{stem}-r1-ort1.20.0-cpu0therc0re000").mkdir()
    other_model = tmp_path / "paraphrase-MiniLM-L3-v2-b388816f4fe4-int8-r1.onnx"
    other_model.write_bytes(b"another model's, left alone")

    Embedder.from_settings(replace(settings, model_cache_dir=tmp_path)).load()
    copy = model_cache.mapped_folder_name(cached.spec, "int8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other_cpu.name, copy, other_model.name])


def test_a_mapped_copy_that_cannot_be_made_leaves_the_model_served_from_its_portable_copy(
    cached, settings, tmp_path, other_cpu
) -> None:
    # The child that saves the mapped copy fails (its folder is taken by a file): the model still loads.
    building = tmp_path / f"{model_cache.mapped_folder_name(cached.spec, 'int8')}.tmp{os.getpid()}"
    building.write_text("in the way")
    other = Embedder.from_settings(replace(settings, model_cache_dir=tmp_path))
    assert np.allclose(other.embed(TEXTS), cached.embed(TEXTS), atol=1e-5)
    assert not (tmp_path / model_cache.mapped_folder_name(cached.spec, "int8")).exists()
