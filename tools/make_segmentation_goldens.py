#!/usr/bin/env python3
"""Goldens for KestrelSegmentation, from independent numpy code.

1. bilinear_kernels.json: the FCN reference's `upsample_filt(size)` (fcn.berkeleyvision.org, surgery.py) for the
   kernel sizes FCN uses (4, 16, 32, 64) and the odd sizes of Kestrel's lattice-aligned upsampling (3, 15),
   written out here as the reference defines it.
2. segmentation_metrics.json: the FCN paper's four metrics (pixel accuracy, mean class accuracy, mean IU,
   frequency-weighted IU) and per-class IU, computed as the reference's score.py does (np.bincount confusion
   histogram, label 255 excluded), on random label maps.

Run from the repository root: python3 tools/make_segmentation_goldens.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "segmentation")


def upsample_filt(size):
    """Make a 2D bilinear kernel suitable for upsampling of the given (h, w) size (as surgery.py)."""
    factor = (size + 1) // 2
    if size % 2 == 1:
        center = factor - 1
    else:
        center = factor - 0.5
    og = np.ogrid[:size, :size]
    return (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)


def fast_hist(a, b, n):
    k = (a >= 0) & (a < n)
    return np.bincount(n * a[k].astype(int) + b[k], minlength=n ** 2).reshape(n, n)


def scores(hist):
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.diag(hist).sum() / hist.sum()
        cls_acc = np.diag(hist) / hist.sum(1)
        iu = np.diag(hist) / (hist.sum(1) + hist.sum(0) - np.diag(hist))
        freq = hist.sum(1) / hist.sum()
        fwiu = (freq[freq > 0] * iu[freq > 0]).sum()
    return dict(pixel_accuracy=float(acc), mean_class_accuracy=float(np.nanmean(cls_acc)), mean_iu=float(np.nanmean(iu)),
                frequency_weighted_iu=float(fwiu), per_class_iu=[None if np.isnan(v) else float(v) for v in iu])


def main():
    os.makedirs(OUT, exist_ok=True)
    kernels = {str(k): [float(v) for v in upsample_filt(k).ravel()] for k in (3, 4, 15, 16, 32, 64)}
    with open(os.path.join(OUT, "bilinear_kernels.json"), "w") as f:
        json.dump(kernels, f)
    rng = np.random.default_rng(11)
    cases = []
    for n_cls, shape, ignore_frac in [(5, (3, 17, 23), 0.1), (3, (2, 8, 8), 0.0), (21, (4, 31, 29), 0.2)]:
        gt = rng.integers(0, n_cls, size=shape)
        pred = np.where(rng.random(shape) < 0.6, gt, rng.integers(0, n_cls, size=shape))
        if n_cls == 21:
            gt[gt == 20] = 19  # class 20 never in the ground truth: its IU is NaN unless predicted
            pred[pred == 20] = 18  # and never predicted: excluded from the means
        gt = np.where(rng.random(shape) < ignore_frac, 255, gt)
        hist = fast_hist(gt.ravel(), pred.ravel(), n_cls)
        cases.append(dict(classes=n_cls, shape=list(shape), truth=[int(v) for v in gt.ravel()],
                          prediction=[int(v) for v in pred.ravel()], confusion=hist.tolist(), **scores(hist)))
    with open(os.path.join(OUT, "segmentation_metrics.json"), "w") as f:
        json.dump(cases, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
