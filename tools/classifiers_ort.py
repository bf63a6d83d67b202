"""Classifiers that ../shared/anchors/models_ort.py does not build, in ONNX Runtime (CPU), random weights, built
node by node with onnx.helper (no downloads, no torch), to set beside
`kestrel bench infer --model mobilenet_v2 --batch-size 1 8 --threads 1 2 --json`:
  mobilenet_v2   torchvision's mobilenet_v2 (width 1.0, 224x224): `features` as
                 Sources/KestrelModels/MobileNet.swift builds them (3x3/2 stem,
                 17 inverted residual blocks with ReLU6, 1x1 to 1280), global
                 average pooling and Linear(1280, 1000). 3,504,872 parameters.
The layers come from tools/ssd_ort.py (the same MobileNet V2 as the SSD's backbone). Every conv is followed by a
BatchNormalization node, which ORT folds into the conv at load time, as for an exported model.
Records: suite "models", work "<model> inference", size "224x224 batch 1", unit "ms" (per batch; images/s in
"extra"), as `kestrel bench infer --json`, so tools/compare.py pairs them.
--check builds batch 1 only, prints the parameter count (learnable tensors only, as Kestrel's
`parameterCount`) and checks it against torchvision's, runs the graph once and exits without timing.
Usage: python classifiers_ort.py [--threads 1 2] [--repeats 7] [--batches 1 8] [--check]
"""
import argparse
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ssd_ort import Builder, mobilenet_backbone, time_and_emit  # noqa: E402  (also puts the anchors on sys.path)
from common import log  # noqa: E402
from ort_util import make_model, session, versions, vi  # noqa: E402


def mobilenet_v2(n, classes):
    b = Builder()
    [(x, c, _)] = mobilenet_backbone(b, "x", 224, taps=(18,), extras=False)
    pooled = b.node("Flatten", [b.node("GlobalAveragePool", [x], "gap")], "flat", axis=1)
    w = b.param("fc_w", b.rng.standard_normal((classes, c)) * np.sqrt(1.0 / c))
    bias = b.param("fc_b", np.zeros(classes))
    b.nodes.append(helper.make_node("Gemm", [pooled, w, bias], ["logits"], transB=1))
    b.macs += classes * c
    return b, [n, 3, 224, 224]


# name: (builder, torchvision's parameter count with 1000 classes)
CONFIGS = {"mobilenet_v2": (mobilenet_v2, 3_504_872)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--models", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--check", action="store_true",
                    help="batch 1 only: check the parameter count, run once, no timing")
    args = ap.parse_args()
    ver = versions()["onnxruntime"]
    classes = 1000
    for name in args.models:
        build, expected = CONFIGS[name]
        for n in ([1] if args.check else args.batches):
            b, shape = build(n, classes)
            model = make_model(b.nodes, [vi("x", shape)], [vi("logits", [n, classes])], b.inits, name=name)
            x = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
            nconv = sum(1 for nd in b.nodes if nd.op_type == "Conv")
            counted = b.params
            if counted != expected:
                sys.exit(f"{name}: {counted:,} parameters, torchvision has {expected:,}")
            for t in args.threads:
                s = session(model, t)
                (out,) = s.run(None, {"x": x})
                assert out.shape == (n, classes) and np.isfinite(out).all(), out.shape
                if args.check:
                    log(f"{name}: {counted:,} parameters (as torchvision), {nconv} convs, "
                        f"{b.macs / 1e9:.3f} GMAC/image, logits {list(out.shape)}")
                    break
                time_and_emit(s, x, name, b, shape, t, args.repeats, ver, classes=classes)


if __name__ == "__main__":
    main()
