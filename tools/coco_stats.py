#!/usr/bin/env python3
"""Print pycocotools' 12 COCO bbox stats for GT and DETS as JSON (repr floats, exact), for comparing with
`kestrel eval --json`.   Usage: coco_stats.py GT.json DETS.json"""
import contextlib
import io
import json
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1])
    E = COCOeval(gt, gt.loadRes(sys.argv[2]), "bbox")
    E.evaluate()
    E.accumulate()
    E.summarize()
print(json.dumps({"stats": [float(v) for v in E.stats]}))
