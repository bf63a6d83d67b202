#!/usr/bin/env python3
"""Golden forward passes for KestrelModels, computed independently with numpy.

For each model below this script
  1. builds random weights under torchvision's state-dict names (numpy only, no torch), with random batch-norm
     running statistics, and writes them with Python's safetensors package (F32, or F16 to keep the file small),
  2. computes the model's eval-mode forward pass on a random input with a plain numpy implementation written
     here from the architectures' definitions (convolution by explicit windows, not im2col+GEMM),
  3. writes the input and the expected logits to Tests/Fixtures/models/<name>.json.
KestrelModelsTests loads the safetensors into Kestrel's model of the same name and compares the logits.

Models: resnet20 (CIFAR ResNet-20, option-A shortcuts, 10 classes, 32x32) and mobilenet_v2 (torchvision layout,
width multiplier 0.35, 10 classes, 48x48; weights stored as F16).

Needs: pip install numpy safetensors.   Run from the repository root: python3 tools/make_model_goldens.py
"""
import json
import math
import os

import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "models")
EPS = 1e-5


class Weights:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.tensors = {}

    def conv(self, name, cout, cin_per_group, k):
        w = self.rng.standard_normal((cout, cin_per_group, k, k)) * math.sqrt(2.0 / (cin_per_group * k * k))
        self.tensors[name + ".weight"] = w.astype(np.float32)

    def bn(self, name, c):
        t = self.tensors
        t[name + ".weight"] = (1 + 0.1 * self.rng.standard_normal(c)).astype(np.float32)
        t[name + ".bias"] = (0.1 * self.rng.standard_normal(c)).astype(np.float32)
        t[name + ".running_mean"] = (0.1 * self.rng.standard_normal(c)).astype(np.float32)
        t[name + ".running_var"] = (0.5 + self.rng.random(c)).astype(np.float32)
        t[name + ".num_batches_tracked"] = np.array(int(self.rng.integers(1, 1000)), dtype=np.int64)

    def linear(self, name, cout, cin):
        self.tensors[name + ".weight"] = (self.rng.standard_normal((cout, cin)) / math.sqrt(cin)).astype(np.float32)
        self.tensors[name + ".bias"] = (0.1 * self.rng.standard_normal(cout)).astype(np.float32)


# ---- numpy reference ops (float64) -------------------------------------------------------------------------
def conv2d(x, w, stride=1, pad=0, groups=1):
    n, c, h, wd = x.shape
    cout, cg, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    y = np.zeros((n, cout, oh, ow))
    og = cout // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for i in range(k):
            for j in range(k):
                win = xs[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]  # n, cg, oh, ow
                y[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", win, ws[:, :, i, j])
    return y


def bn(x, t, name):
    g, b, m, v = (t[name + s].astype(np.float64) for s in (".weight", ".bias", ".running_mean", ".running_var"))
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + EPS) * g[:, None, None] + b[:, None, None]


def relu(x):
    return np.maximum(x, 0)


def linear(x, t, name):
    return x @ t[name + ".weight"].astype(np.float64).T + t[name + ".bias"].astype(np.float64)


# ---- ResNet-20 (He et al. 2016, CIFAR, option A) ------------------------------------------------------------
def resnet20_weights(classes):
    w = Weights(20)
    w.conv("conv1", 16, 3, 3)
    w.bn("bn1", 16)
    inp = 16
    for s, planes in enumerate((16, 32, 64)):
        for b in range(3):
            p = f"layer{s + 1}.{b}"
            w.conv(p + ".conv1", planes, inp, 3)
            w.bn(p + ".bn1", planes)
            w.conv(p + ".conv2", planes, planes, 3)
            w.bn(p + ".bn2", planes)
            inp = planes
    w.linear("fc", classes, 64)
    return w.tensors


def resnet20_forward(x, t):
    f = lambda n: t[n].astype(np.float64)
    h = relu(bn(conv2d(x, f("conv1.weight"), 1, 1), t, "bn1"))
    inp = 16
    for s, planes in enumerate((16, 32, 64)):
        for b in range(3):
            p = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            out = relu(bn(conv2d(h, f(p + ".conv1.weight"), stride, 1), t, p + ".bn1"))
            out = bn(conv2d(out, f(p + ".conv2.weight"), 1, 1), t, p + ".bn2")
            if stride != 1 or inp != planes:  # option A: subsample, zero-pad channels on both sides
                sc = h[:, :, ::2, ::2]
                padc = (planes - inp) // 2
                sc = np.pad(sc, ((0, 0), (padc, padc), (0, 0), (0, 0)))
            else:
                sc = h
            h = relu(out + sc)
            inp = planes
    return linear(h.mean(axis=(2, 3)), t, "fc")


# ---- MobileNet V2 (torchvision layout) ----------------------------------------------------------------------
def make_divisible(v, d=8):
    nv = max(d, int(v + d / 2) // d * d)
    return nv + d if nv < 0.9 * v else nv


SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_v2_plan(width):
    """[(kind, name, cin, cout, stride, groups/expand)] in forward order."""
    inp, last = make_divisible(32 * width), make_divisible(1280 * max(1.0, width))
    blocks = []
    for t_, c, n, s in SETTINGS:
        out = make_divisible(c * width)
        for i in range(n):
            blocks.append((inp, out, s if i == 0 else 1, t_))
            inp = out
    return make_divisible(32 * width), blocks, inp, last


def mobilenet_v2_weights(width, classes):
    w = Weights(2)
    first, blocks, inp, last = mobilenet_v2_plan(width)
    w.conv("features.0.0", first, 3, 3)
    w.bn("features.0.1", first)
    for i, (ci, co, s, t_) in enumerate(blocks):
        p = f"features.{i + 1}.conv"
        hidden = ci * t_
        k = 0
        if t_ != 1:
            w.conv(f"{p}.0.0", hidden, ci, 1)
            w.bn(f"{p}.0.1", hidden)
            k = 1
        w.conv(f"{p}.{k}.0", hidden, 1, 3)
        w.bn(f"{p}.{k}.1", hidden)
        w.conv(f"{p}.{k + 1}", co, hidden, 1)
        w.bn(f"{p}.{k + 2}", co)
    w.conv(f"features.{len(blocks) + 1}.0", last, inp, 1)
    w.bn(f"features.{len(blocks) + 1}.1", last)
    w.linear("classifier.1", classes, last)
    return w.tensors


def mobilenet_v2_forward(x, t, width):
    f = lambda n: t[n].astype(np.float64)
    relu6 = lambda v: np.clip(v, 0, 6)
    first, blocks, inp, last = mobilenet_v2_plan(width)
    h = relu6(bn(conv2d(x, f("features.0.0.weight"), 2, 1), t, "features.0.1"))
    for i, (ci, co, s, t_) in enumerate(blocks):
        p = f"features.{i + 1}.conv"
        hidden = ci * t_
        y, k = h, 0
        if t_ != 1:
            y = relu6(bn(conv2d(y, f(f"{p}.0.0.weight")), t, f"{p}.0.1"))
            k = 1
        y = relu6(bn(conv2d(y, f(f"{p}.{k}.0.weight"), s, 1, groups=hidden), t, f"{p}.{k}.1"))
        y = bn(conv2d(y, f(f"{p}.{k + 1}.weight")), t, f"{p}.{k + 2}")
        h = h + y if (s == 1 and ci == co) else y
    n = len(blocks) + 1
    h = relu6(bn(conv2d(h, f(f"features.{n}.0.weight")), t, f"features.{n}.1"))
    return linear(h.mean(axis=(2, 3)), t, "classifier.1")


def emit(name, tensors, x, logits, f16=False, **extra):
    stored = {k: (v.astype(np.float16) if f16 and v.dtype == np.float32 else v) for k, v in tensors.items()}
    save_file(stored, os.path.join(OUT, name + ".safetensors"), metadata={"generator": "tools/make_model_goldens.py"})
    with open(os.path.join(OUT, name + ".json"), "w") as fh:
        json.dump(dict(model=name, input_shape=list(x.shape), input=[float(v) for v in x.ravel()],
                       logits=[float(v) for v in logits.ravel()], **extra), fh)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    t = resnet20_weights(10)
    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    emit("resnet20", t, x, resnet20_forward(x.astype(np.float64), t), classes=10)
    width = 0.35
    t = mobilenet_v2_weights(width, 10)
    t16 = {k: (v.astype(np.float16).astype(np.float32) if v.dtype == np.float32 else v) for k, v in t.items()}
    x = rng.standard_normal((2, 3, 48, 48)).astype(np.float32)
    # The reference uses exactly the F16-rounded weights the file holds.
    emit("mobilenet_v2", t, x, mobilenet_v2_forward(x.astype(np.float64), t16, width), f16=True, classes=10, width=width)
    for n in ("resnet20", "mobilenet_v2"):
        print(n, os.path.getsize(os.path.join(OUT, n + ".safetensors")), "bytes")


if __name__ == "__main__":
    main()
