#!/usr/bin/env python3
"""Goldens for KestrelDetection's default boxes, computed independently with numpy.

SSD300 as the original Caffe reference (models/VGGNet/VOC0712/SSD_300x300/ssd_pascal.py) configures it:
min_ratio 20, max_ratio 90, step = floor((90 - 20) / (6 - 2)) = 17, min_sizes [30] + [300 * r / 100 for r in
20, 37, 54, 71, 88], max_sizes [60] + [300 * (r + 17) / 100], steps [8, 16, 32, 64, 100, 300], feature maps
[38, 19, 10, 5, 3, 1], aspect ratios [[2], [2, 3], [2, 3], [2, 3], [2], [2]], flip, clip. The boxes per cell
follow Caffe's PriorBoxLayer order: min square, sqrt(min*max) square, then (ar, 1/ar) per aspect ratio.
This script builds them with numpy broadcasting (a different construction from Kestrel's loops) and writes
Tests/Fixtures/detection/ssd300_priors.npy-like JSON: the count and every box (cx, cy, w, h).

Run from the repository root: python3 tools/make_detection_goldens.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "detection")


def priors(size=300, fmaps=(38, 19, 10, 5, 3, 1), steps=(8, 16, 32, 64, 100, 300),
           ars=((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))):
    step = (90 - 20) // (len(fmaps) - 2)
    mins = [size * 10 / 100] + [size * r / 100 for r in range(20, 91, step)]
    maxs = [size * 20 / 100] + [size * (r + step) / 100 for r in range(20, 91, step)]
    out = []
    for k, f in enumerate(fmaps):
        jj, ii = np.meshgrid(np.arange(f), np.arange(f))          # row-major cells
        cx = ((jj + 0.5) * steps[k] / size).reshape(-1, 1)
        cy = ((ii + 0.5) * steps[k] / size).reshape(-1, 1)
        s = mins[k] / size
        wh = [(s, s), (np.sqrt(mins[k] * maxs[k]) / size,) * 2]
        for a in ars[k]:
            wh += [(s * np.sqrt(a), s / np.sqrt(a)), (s / np.sqrt(a), s * np.sqrt(a))]
        w = np.array([x for x, _ in wh])[None, :]
        h = np.array([y for _, y in wh])[None, :]
        n = len(wh)
        cell = np.stack([np.repeat(cx, n, 1), np.repeat(cy, n, 1), np.repeat(w, f * f, 0), np.repeat(h, f * f, 0)], -1)
        out.append(cell.reshape(-1, 4))
    return np.clip(np.concatenate(out), 0, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    p = priors()
    with open(os.path.join(OUT, "ssd300_priors.json"), "w") as f:
        json.dump(dict(count=int(len(p)), boxes=[round(float(v), 12) for v in p.ravel()]), f)
    print(len(p), "default boxes")


if __name__ == "__main__":
    main()
