#!/usr/bin/env python3
"""Goldens for COCO mask rasterisation (KestrelAnnotations' COCOSegmentation), from pycocotools 2.0.11.

Every case is a COCO `segmentation` value on an image of (height, width) and the mask pycocotools' `annToMask`
gives for it (the code path of COCO.annToRLE: polygons -> frPyObjects + merge; uncompressed RLE -> frPyObjects;
compressed RLE as is; then decode). Cases: convex and concave polygons, polygons partly or wholly outside the
image, sub-pixel and degenerate ones, several polygons in one annotation (union), uncompressed RLE, compressed
RLE strings (including long runs whose codes need several characters and negative deltas), and the outline
polygons of datasets/shapes/val (real annotations, circles as 32-gons).

Masks are written as strings of '0'/'1', row-major. Run from the repository root with a Python that has
pycocotools (e.g. the anchors' venv): /tmp/anchors-venv/bin/python tools/make_mask_goldens.py
"""
import json
import os

import numpy as np
from pycocotools import mask as mask_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "segmentation", "coco_masks.json")


def ann_to_mask(segm, h, w):
    """pycocotools.coco.COCO.annToMask without the COCO object."""
    if isinstance(segm, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
    elif isinstance(segm["counts"], list):
        rle = mask_utils.frPyObjects(segm, h, w)
    else:
        rle = segm
    return mask_utils.decode(rle)


def bits(m):
    return "".join("1" if v else "0" for v in np.asarray(m, dtype=np.uint8).ravel())


def star(cx, cy, r1, r2, n=5, angle=0.3):
    pts = []
    for k in range(2 * n):
        r = r1 if k % 2 == 0 else r2
        t = angle + np.pi * k / n
        pts += [cx + r * np.cos(t), cy + r * np.sin(t)]
    return [float(v) for v in pts]


def main():
    rng = np.random.default_rng(5)
    cases = []

    def add(name, segm, h, w):
        cases.append(dict(name=name, height=h, width=w, segmentation=segm, mask=bits(ann_to_mask(segm, h, w))))

    h, w = 23, 37
    add("triangle", [[3.2, 2.7, 30.6, 5.1, 12.4, 20.8]], h, w)
    add("integer square", [[5, 5, 15, 5, 15, 15, 5, 15]], h, w)
    add("half-pixel square", [[4.5, 4.5, 10.5, 4.5, 10.5, 9.5, 4.5, 9.5]], h, w)
    add("concave star", [star(18.3, 11.1, 10.7, 4.2)], h, w)
    add("partly outside", [[-6.3, -4.1, 25.2, 3.3, 44.9, 30.2, 8.8, 26.0]], h, w)
    add("wholly outside", [[40.0, 1.0, 50.0, 1.0, 45.0, 10.0]], h, w)
    add("sub-pixel", [[10.1, 10.1, 10.6, 10.2, 10.3, 10.7]], h, w)
    add("clockwise and counter-clockwise", [[2, 2, 2, 12, 12, 12, 12, 2], [20.5, 3.5, 33.5, 3.5, 27.0, 19.0]], h, w)
    add("overlapping polygons", [[2, 2, 20, 2, 20, 15, 2, 15], [10, 8, 30, 8, 30, 21, 10, 21]], h, w)
    add("horizontal sliver", [[1.0, 7.2, 35.0, 7.6, 35.0, 8.1, 1.0, 7.9]], h, w)
    add("vertical sliver", [[17.2, 0.5, 17.9, 0.5, 18.1, 22.5, 17.4, 22.5]], h, w)
    for k in range(6):
        n = int(rng.integers(3, 12))
        pts = rng.uniform([-3, -3], [w + 3, h + 3], size=(n, 2))
        add(f"random polygon {k}", [[float(v) for v in pts.ravel()]], h, w)
    # RLE: random blobs, uncompressed (counts list) and compressed (string).
    for k, (hh, ww) in enumerate([(19, 31), (64, 48), (1, 9), (200, 3)]):
        m = (rng.random((hh, ww)) < 0.5).astype(np.uint8)
        if k == 1:  # long runs: counts above 32 and 1024 need several characters each
            m[:] = 0
            m[5:60, 3:40] = 1
            m[:, 44:] = 1
        rle = mask_utils.encode(np.asfortranarray(m))
        compressed = dict(size=[hh, ww], counts=rle["counts"].decode("ascii"))
        add(f"compressed RLE {k}", compressed, hh, ww)
        flat = m.ravel(order="F")
        counts, cur, run = [], 0, 0
        for v in flat:
            if v == cur:
                run += 1
            else:
                counts.append(run)
                cur, run = v, 1
        counts.append(run)
        add(f"uncompressed RLE {k}", dict(size=[hh, ww], counts=[int(c) for c in counts]), hh, ww)
    add("empty RLE", dict(size=[4, 6], counts=[24]), 4, 6)
    add("full RLE", dict(size=[4, 6], counts=[0, 24]), 4, 6)
    # Real annotations: the first 12 objects of datasets/shapes/val.
    with open(os.path.join(ROOT, "datasets", "shapes", "val", "annotations.json")) as f:
        coco = json.load(f)
    sizes = {im["id"]: (im["height"], im["width"]) for im in coco["images"]}
    for a in coco["annotations"][:12]:
        hh, ww = sizes[a["image_id"]]
        add(f"shapes val annotation {a['id']}", a["segmentation"], hh, ww)

    with open(OUT, "w") as f:
        json.dump(cases, f)
    print("wrote", len(cases), "cases to", OUT)


if __name__ == "__main__":
    main()
