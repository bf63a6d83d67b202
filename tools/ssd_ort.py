"""Kestrel's SSD detectors in ONNX Runtime (CPU), random weights, built node by
node with onnx.helper (no downloads, no torch), to set beside
`kestrel bench infer --model ssd300_vgg16 ssd_mobilenet --batch-size 1 8 --threads 1 2 --json`.
The architectures follow Sources/KestrelDetection/SSD.swift exactly:
  ssd300_vgg16   SSDVGG16Backbone, 300x300: VGG-16 convs to conv4_3 (pool3 in
                 ceil mode, 75 -> 38), conv4_3 L2-normalised over channels
                 times a learnable per-channel scale; pool4, conv5_x, 3x3/1
                 max-pool, conv6 3x3 dilation 6 -> 1024, conv7 1x1; four extra
                 blocks (1x1 reduce, 3x3).  Maps 38, 19, 10, 5, 3, 1 with
                 k = 4, 6, 6, 6, 4, 4 boxes per cell: 8,732 boxes.
  ssd_mobilenet  SSDMobileNetBackbone, 320x320: MobileNet V2 `features`
                 (Sources/KestrelModels/MobileNet.swift) tapped after
                 features.6, .13 and .18, plus two extra blocks (1x1 reduce,
                 3x3/2 depthwise, 1x1 expand, each BN + ReLU6).  Maps 40, 20,
                 10, 5, 3 with k = 4, 6, 6, 6, 4: 9,586 boxes.
Heads (SSD): per map a 3x3 conv to k*(classes+1) scores and one to k*4 offsets
(k = 2 + 2 * number of aspect ratios), each Transpose'd to NHWC, Reshape'd to
[N, H*W*k, classes+1] / [N, H*W*k, 4] and Concat'ed along the boxes: the graph's
outputs are the raw `scores` [N, P, classes+1] and `offsets` [N, P, 4], what
`SSD.predict` returns and `kestrel bench infer` times (no softmax, no NMS).
Where Kestrel has BatchNorm2D a BatchNormalization node follows the conv (ORT
folds it at load time, as for an exported model); ReLU6 is Clip(0, 6).
Records: suite "models", work "<model> inference", size "300x300 batch 1",
unit "ms" (per batch; images/s in "extra"), as `kestrel bench infer --json`.
--check builds batch 1 only, prints each graph's parameter count (learnable
tensors only, as Kestrel's `parameterCount`: no BN running statistics) and
output shapes to stderr, runs it once and exits without timing.
Usage: python ssd_ort.py [--threads 1 2] [--repeats 7] [--batches 1 8]
                         [--models ssd300_vgg16 ssd_mobilenet] [--classes 20]
                         [--save DIR] [--check]
"""
import argparse
import os
import sys

import numpy as np
from onnx import helper

sys.path.insert(0, os.environ.get("ANCHORS_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "anchors")))
from common import emit, log, time_call  # noqa: E402
from ort_util import init, make_model, session, versions, vi  # noqa: E402


def make_divisible(v, divisor=8):
    """torchvision's _make_divisible (Kestrel's makeDivisible)."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Builder:
    """Nodes and initializers of one graph. Learnable tensors are named "p_*"
    (counted as parameters), BN running statistics and shape/clip constants "c_*"."""

    def __init__(self, seed=0):
        self.nodes, self.inits, self.n, self.macs, self.params = [], [], 0, 0, 0
        self.rng = np.random.default_rng(seed)
        self.consts = {}

    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def param(self, p, arr):
        n = self.name("p_" + p)
        self.inits.append(init(n, arr.astype(np.float32)))
        self.params += arr.size
        return n

    def const(self, arr, key=None):
        """A non-learnable initializer; shared when `key` repeats."""
        if key is not None and key in self.consts:
            return self.consts[key]
        n = self.name("c_")
        self.inits.append(init(n, arr))
        if key is not None:
            self.consts[key] = n
        return n

    def node(self, op, inputs, prefix, **attrs):
        y = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [y], **attrs))
        return y

    def conv(self, x, cin, cout, k, hw, s=1, p=None, d=1, group=1, bias=True):
        """Conv2D; hw = input side; returns (y, out_hw)."""
        p = (k - 1) // 2 if p is None else p
        out_hw = (hw + 2 * p - d * (k - 1) - 1) // s + 1
        fan_in = cin // group * k * k
        w = self.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in)
        ins = [x, self.param("w", w)]
        if bias:
            ins.append(self.param("b", np.zeros(cout)))
        y = self.node("Conv", ins, "conv", kernel_shape=[k, k], strides=[s, s], pads=[p] * 4,
                      dilations=[d, d], group=group)
        self.macs += cout * (cin // group) * k * k * out_hw * out_hw
        return y, out_hw

    def bn(self, x, c):
        g, b = self.param("g", np.ones(c)), self.param("beta", np.zeros(c))
        mu = self.const(np.zeros(c, np.float32))
        va = self.const(np.ones(c, np.float32))
        return self.node("BatchNormalization", [x, g, b, mu, va], "bn", epsilon=1e-5)

    def relu(self, x):
        return self.node("Relu", [x], "relu")

    def relu6(self, x):
        lo = self.const(np.array(0, np.float32), "clip_lo")
        hi = self.const(np.array(6, np.float32), "clip_hi")
        return self.node("Clip", [x, lo, hi], "relu6")

    def conv_bn(self, x, cin, cout, k, hw, s=1, group=1, act="relu6"):
        """Kestrel's convBN: conv (no bias) + BatchNorm2D (+ activation)."""
        y, hw = self.conv(x, cin, cout, k, hw, s=s, group=group, bias=False)
        y = self.bn(y, cout)
        if act == "relu6":
            y = self.relu6(y)
        elif act == "relu":
            y = self.relu(y)
        return y, hw

    def maxpool(self, x, k, s, hw, p=0, ceil=False):
        out = (hw + 2 * p - k + (s - 1 if ceil else 0)) // s + 1
        return self.node("MaxPool", [x], "pool", kernel_shape=[k, k], strides=[s, s], pads=[p] * 4,
                         ceil_mode=int(ceil)), out


# ---------------------------------------------------------------------------
# Backbones: each returns a list of (tensor, channels, side), largest map first.

def vgg16_backbone(b, x, hw):
    c, maps = 3, []
    for i, v in enumerate([64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512]):
        if v == 0:
            x, hw = b.maxpool(x, 2, 2, hw, ceil=(i == 9))
        else:
            x, hw = b.conv(x, c, v, 3, hw)
            x, c = b.relu(x), v
    # conv4_3: x / max(||x||_2 over channels, 1e-12) * scale_weight (init 20)
    sq = b.node("Mul", [x, x], "sq")
    ss = b.node("ReduceSum", [sq, b.const(np.array([1], np.int64))], "ss", keepdims=1)
    nrm = b.node("Max", [b.node("Sqrt", [ss], "norm"), b.const(np.array(1e-12, np.float32))], "clamp")
    scale = b.param("scale_weight", np.full((1, 512, 1, 1), 20.0))
    maps.append((b.node("Mul", [b.node("Div", [x, nrm], "l2n"), scale], "scaled"), 512, hw))
    # extra.0: pool4, conv5_1..3, pool5 3x3/1, conv6 (dilated), conv7
    x, hw = b.maxpool(x, 2, 2, hw)
    for _ in range(3):
        x, hw = b.conv(x, 512, 512, 3, hw)
        x = b.relu(x)
    x, hw = b.maxpool(x, 3, 1, hw, p=1)
    x, hw = b.conv(x, 512, 1024, 3, hw, p=6, d=6)
    x, hw = b.conv(b.relu(x), 1024, 1024, 1, hw)
    x = b.relu(x)
    maps.append((x, 1024, hw))
    for cin, mid, cout, s, p in ((1024, 256, 512, 2, 1), (512, 128, 256, 2, 1),
                                 (256, 128, 256, 1, 0), (256, 128, 256, 1, 0)):
        x, hw = b.conv(x, cin, mid, 1, hw)
        x, hw = b.conv(b.relu(x), mid, cout, 3, hw, s=s, p=p)
        x = b.relu(x)
        maps.append((x, cout, hw))
    return maps


MOBILENET_V2_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_backbone(b, x, hw, width=1.0, taps=(6, 13, 18), extras=True):
    """MobileNet V2 `features` (then SSD's two extra blocks unless extras=False)."""
    maps = []
    inp = make_divisible(32 * width)
    last = make_divisible(1280 * max(1.0, width))
    x, hw = b.conv_bn(x, 3, inp, 3, hw, s=2)                      # features.0
    idx = 0
    for t, c, n, s in MOBILENET_V2_SETTINGS:                      # features.1 .. 17
        out = make_divisible(c * width)
        for i in range(n):
            idx += 1
            stride, hidden = (s if i == 0 else 1), inp * t
            y, yhw = x, hw
            if t != 1:
                y, yhw = b.conv_bn(y, inp, hidden, 1, yhw)
            y, yhw = b.conv_bn(y, hidden, hidden, 3, yhw, s=stride, group=hidden)
            y, yhw = b.conv_bn(y, hidden, out, 1, yhw, act=None)
            if stride == 1 and inp == out:
                y = b.node("Add", [x, y], "res")
            x, hw, inp = y, yhw, out
            if idx in taps:
                maps.append((x, inp, hw))
    idx += 1
    x, hw = b.conv_bn(x, inp, last, 1, hw)                        # features.18
    if idx in taps:
        maps.append((x, last, hw))
    if not extras:
        return maps
    for cin, cout in ((last, 512), (512, 256)):                   # extra.0, extra.1
        mid = cout // 2
        x, hw = b.conv_bn(x, cin, mid, 1, hw)
        x, hw = b.conv_bn(x, mid, mid, 3, hw, s=2, group=mid)
        x, hw = b.conv_bn(x, mid, cout, 1, hw)
        maps.append((x, cout, hw))
    return maps


def ssd(backbone, aspect_ratios, size, n, classes):
    """The SSD heads on a backbone; returns (builder, input shape, boxes, per-map sides)."""
    b = Builder()
    maps = backbone(b, "x", size)
    assert len(maps) == len(aspect_ratios)
    scores, offsets, boxes = [], [], 0
    for (f, c, hw), ratios in zip(maps, aspect_ratios):
        k = 2 + 2 * len(ratios)                                   # DefaultBoxConfig.boxesPerCell
        boxes += hw * hw * k
        for outs, per in ((scores, classes + 1), (offsets, 4)):
            y, _ = b.conv(f, c, k * per, 3, hw)
            y = b.node("Transpose", [y], "nhwc", perm=[0, 2, 3, 1])
            shape = b.const(np.array([0, -1, per], np.int64), key=("shape", per))
            outs.append(b.node("Reshape", [y, shape], "flat"))
    b.nodes.append(helper.make_node("Concat", scores, ["scores"], axis=1))
    b.nodes.append(helper.make_node("Concat", offsets, ["offsets"], axis=1))
    return b, [n, 3, size, size], boxes, [hw for _, _, hw in maps]


def ssd300_vgg16(n, classes):
    return ssd(vgg16_backbone, [[2], [2, 3], [2, 3], [2, 3], [2], [2]], 300, n, classes)


def ssd_mobilenet(n, classes):
    return ssd(mobilenet_backbone, [[2], [2, 3], [2, 3], [2, 3], [2]], 320, n, classes)


CONFIGS = {"ssd300_vgg16": ssd300_vgg16, "ssd_mobilenet": ssd_mobilenet}


def time_and_emit(s, x, name, b, shape, threads, repeats, ver, **extra):
    """Times session s on input x and prints the record `kestrel bench infer --json` pairs with: suite "models",
    work "<name> inference", size "HxW batch N", ms per batch; images/s, parameters, convs and rates in "extra"."""
    n = shape[0]
    secs = time_call(lambda: s.run(None, {"x": x}), repeats=repeats, min_time=0.5)
    median = float(np.median(secs))
    emit("models", "onnxruntime " + ver, f"{name} inference", f"{shape[2]}x{shape[3]} batch {n}", threads,
         [v * 1e3 for v in secs], "ms", higher_is_better=False, images_per_s=round(n / median, 3), **extra,
         parameters=b.params, convs=sum(1 for nd in b.nodes if nd.op_type == "Conv"),
         gmacs_per_image=round(b.macs / 1e9, 4), gflops_per_s=round(2 * b.macs / 1e9 * n / median, 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--models", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--classes", type=int, default=20, help="foreground classes (kestrel bench infer: 20)")
    ap.add_argument("--save", default=None, help="also write each .onnx here")
    ap.add_argument("--check", action="store_true",
                    help="batch 1 only: print parameter counts and output shapes, run once, no timing")
    args = ap.parse_args()
    ver = versions()["onnxruntime"]
    for name in args.models:
        for n in ([1] if args.check else args.batches):
            b, shape, boxes, sides = CONFIGS[name](n, args.classes)
            c1 = args.classes + 1
            model = make_model(b.nodes, [vi("x", shape)],
                               [vi("scores", [n, boxes, c1]), vi("offsets", [n, boxes, 4])], b.inits, name=name)
            if args.save:
                os.makedirs(args.save, exist_ok=True)
                with open(os.path.join(args.save, f"{name}_b{n}.onnx"), "wb") as f:
                    f.write(model.SerializeToString())
            x = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
            nconv = sum(1 for nd in b.nodes if nd.op_type == "Conv")
            counted = sum(int(np.prod(t.dims)) for t in b.inits if t.name.startswith("p_"))
            assert counted == b.params
            for t in args.threads:
                s = session(model, t)
                sc, off = s.run(None, {"x": x})
                assert sc.shape == (n, boxes, c1) and off.shape == (n, boxes, 4), (sc.shape, off.shape)
                assert np.isfinite(sc).all() and np.isfinite(off).all()
                if args.check:
                    log(f"{name}: {counted:,} parameters, {nconv} convs, {b.macs / 1e9:.3f} GMAC/image, "
                        f"maps {sides}, {boxes:,} boxes; scores {list(sc.shape)}, offsets {list(off.shape)}")
                    break
                time_and_emit(s, x, name, b, shape, t, args.repeats, ver, classes=args.classes)


if __name__ == "__main__":
    main()
