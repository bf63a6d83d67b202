#!/usr/bin/env python3
"""Write the anchors' NMS boxes (../shared/anchors/nms.py `make_boxes`) for `kestrel bench nms --from`.

For each layout and size: OUT/boxes_<layout>_<n>.f32 holds little-endian float32 records (x1, y1, x2, y2, score),
with x2 = x + w computed in float32 as nms.py computes it, and OUT/kept_<layout>_<n>.i64 the indices nms.py's numpy
greedy NMS keeps (IoU 0.5), so Kestrel can be timed on the same boxes and checked to keep the same ones.
Run with the anchors' venv:  PYTHONPATH=../shared/anchors /tmp/anchors-venv/bin/python tools/nms_boxes.py OUT
"""
import os
import sys

import numpy as np
from nms import make_boxes, nms_numpy


def main():
    out = sys.argv[1]
    sizes = [int(s) for s in sys.argv[2:]] or [1000, 10000, 50000]
    os.makedirs(out, exist_ok=True)
    for layout in ["random", "clustered"]:
        for n in sizes:
            xywh, scores = make_boxes(n, layout)
            x1, y1 = xywh[:, 0], xywh[:, 1]
            rec = np.stack([x1, y1, x1 + xywh[:, 2], y1 + xywh[:, 3], scores], 1).astype("<f4")
            rec.tofile(os.path.join(out, f"boxes_{layout}_{n}.f32"))
            nms_numpy(xywh, scores).astype("<i8").tofile(os.path.join(out, f"kept_{layout}_{n}.i64"))


if __name__ == "__main__":
    main()
