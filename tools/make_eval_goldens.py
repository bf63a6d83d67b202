#!/usr/bin/env python3
"""Write the COCO and VOC evaluation goldens Kestrel's tests compare against, from the reference tools themselves.

COCO: every case is evaluated by pycocotools 2.0.11 (COCOeval(iouType='bbox'), evaluate/accumulate/summarize),
one case per rule of its semantics (linspace thresholds, stable score ties, maxDets caps, crowd regions, area
ranges, ignore flags, categories without ground truth, the GT-id-0 and stats[0] bugs) plus a larger random one.
VOC: the py-faster-rcnn `voc_eval` algorithm (VOC07 11-point and VOC2010+ all-point, difficult objects,
the devkit's +1 pixel convention and continuous coordinates), re-implemented here with numpy in a few lines.

Writes Tests/Fixtures/eval/<case>/gt.json and dets.json (COCO JSON) and Tests/Fixtures/eval/goldens.json.
Numbers are written with Python's repr, so every double round-trips exactly.

    pip install -r tools/requirements.txt      # pycocotools==2.0.11, numpy
    python3 tools/make_eval_goldens.py
"""
import contextlib
import copy
import hashlib
import io
import json
import os

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "eval")


# ----------------------------------------------------------------------------------------------------------------
# COCO


def run_coco(gt, dets, max_dets=None):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        g = COCO()
        g.dataset = copy.deepcopy(gt)
        g.createIndex()
        d = g.loadRes(copy.deepcopy(dets))
        E = COCOeval(g, d, "bbox")
        if max_dets:
            E.params.maxDets = max_dets
        E.evaluate()
        E.accumulate()
        E.summarize()
    return E, out.getvalue()


def per_category(E):
    """AP, AP50, AP75 (area all, last maxDets) and AR (area all, last maxDets) per category, as np.mean of the
    entries > -1 (-1 when there are none): the way detectron2 and mmdetection compute per-class AP."""
    p, r = E.eval["precision"], E.eval["recall"]
    out = []

    def mean(s):
        s = s[s > -1]
        return float(np.mean(s)) if s.size else -1.0

    for k, cid in enumerate(E.params.catIds):
        out.append({"id": int(cid), "ap": mean(p[:, :, k, 0, -1]), "ap50": mean(p[0, :, k, 0, -1]),
                    "ap75": mean(p[5, :, k, 0, -1]), "ar": mean(r[:, k, 0, -1])})
    return out


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f8").tobytes()).hexdigest()


def golden(E, printed, options, keep_precision):
    g = {"options": options, "stats": [float(v) for v in E.stats], "perCategory": per_category(E),
         "catIds": [int(c) for c in E.params.catIds], "recall": [float(v) for v in E.eval["recall"].ravel()],
         "precisionShape": list(E.eval["precision"].shape), "precisionSHA256": digest(E.eval["precision"]),
         "summary": [line for line in printed.splitlines() if line.startswith(" Average")]}
    if keep_precision:
        g["precision"] = [float(v) for v in E.eval["precision"].ravel()]
    return g


def img(i, w=640, h=480):
    return {"id": i, "file_name": f"{i:06d}.jpg", "width": w, "height": h}


def ann(aid, iid, cid, box, area=None, crowd=0, **extra):
    a = {"id": aid, "image_id": iid, "category_id": cid, "bbox": [float(v) for v in box],
         "area": float(box[2] * box[3]) if area is None else area, "iscrowd": crowd}
    a.update(extra)
    return a


def det(iid, cid, box, score):
    return {"image_id": iid, "category_id": cid, "bbox": [float(v) for v in box], "score": score}


def cats(*ids):
    return [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in ids]


def case_basic():
    gt = {"images": [img(1), img(2), img(3)], "categories": cats(1, 2), "annotations": [
        ann(1, 1, 1, [10, 10, 100, 80]), ann(2, 1, 1, [200, 50, 60, 60]), ann(3, 1, 2, [300, 300, 40, 30]),
        ann(4, 2, 1, [0, 0, 50, 50]), ann(5, 3, 2, [100, 100, 200, 150])]}
    dets = [det(1, 1, [12, 11, 98, 80], 0.9), det(1, 1, [205, 48, 60, 65], 0.8), det(1, 1, [400, 400, 30, 30], 0.7),
            det(1, 2, [298, 302, 40, 28], 0.6), det(2, 1, [5, 5, 50, 50], 0.95), det(2, 2, [0, 0, 10, 10], 0.3),
            det(3, 2, [110, 100, 190, 160], 0.5), det(3, 2, [100, 100, 200, 150], 0.4)]
    return gt, dets


def case_linspace_thresholds():
    # A detection inside a 100x100 GT with the same height: IoU = w / 100, right at and around every threshold.
    # 0.5 + 0.05k differs from numpy.linspace in the last bit for some k; the match rule is IoU >= threshold.
    images, anns, dets = [], [], []
    aid = 1
    widths = []
    for t in np.linspace(0.5, 0.95, 10):
        w = float(t * 100)
        widths += [w, np.nextafter(w, 0), np.nextafter(w, 200), (0.5 + 0.05 * round((t - 0.5) / 0.05)) * 100]
    for k, w in enumerate(widths):
        iid = k + 1
        images.append(img(iid))
        anns.append(ann(aid, iid, 1, [0, 0, 100, 100]))
        aid += 1
        dets.append(det(iid, 1, [0, 0, w, 100], 0.5 + k / 1000))
    return {"images": images, "categories": cats(1), "annotations": anns}, dets


def case_score_ties():
    # Equal scores across images and within an image: the stable sort keeps image order (sorted ids) and, within
    # an image, file order. True and false positives alternate among the ties, so any other order changes AP.
    images = [img(i) for i in (5, 3, 9)]
    anns = [ann(1, 5, 1, [0, 0, 50, 50]), ann(2, 3, 1, [100, 100, 50, 50]), ann(3, 9, 1, [200, 200, 50, 50]),
            ann(4, 9, 1, [300, 300, 40, 40])]
    dets = [det(9, 1, [400, 400, 30, 30], 0.5), det(9, 1, [200, 200, 50, 50], 0.5), det(3, 1, [0, 0, 20, 20], 0.5),
            det(5, 1, [0, 0, 50, 50], 0.5), det(3, 1, [100, 100, 50, 50], 0.5), det(5, 1, [300, 0, 20, 20], 0.5),
            det(9, 1, [300, 300, 40, 40], 0.7), det(5, 1, [1, 1, 50, 50], 0.7)]
    return {"images": images, "categories": cats(1), "annotations": anns}, dets


def case_max_dets():
    # 130 detections of one category on one image (only the 100 best count), with the true positives spread over
    # the score order; a second category on the same image has its own cap; maxDets 1 and 10 matter for AR.
    rng = np.random.default_rng(4)
    anns, dets = [], []
    for k in range(12):
        x, y = 50 * (k % 6), 60 * (k // 6)
        anns.append(ann(k + 1, 1, 1, [x, y, 40, 50]))
        anns.append(ann(100 + k, 1, 2, [x + 300, y + 200, 30, 30]))
    for k in range(130):
        g = anns[2 * (k % 12)]["bbox"]
        jitter = rng.normal(0, 4, 4) if k % 3 else rng.normal(0, 30, 4)
        b = np.array(g) + jitter
        b[2:] = np.maximum(b[2:], 1)
        dets.append(det(1, 1, np.round(b, 2), round(float(rng.random()), 3)))
    for k in range(110):
        g = anns[2 * (k % 12) + 1]["bbox"]
        dets.append(det(1, 2, np.round(np.array(g) + rng.normal(0, 3, 4), 2), round(float(rng.random()), 3)))
    gt = {"images": [img(1), img(2)], "categories": cats(1, 2), "annotations": anns}
    dets.append(det(2, 1, [0, 0, 10, 10], 0.99))
    return gt, dets


def case_crowd():
    # A crowd region absorbs several detections (IoU = intersection / detection area); a regular GT inside it is
    # matched first; a detection matched to the crowd is ignored; crowd GT listed first in the file.
    gt = {"images": [img(1), img(2)], "categories": cats(1), "annotations": [
        ann(1, 1, 1, [0, 0, 300, 200], crowd=1), ann(2, 1, 1, [20, 20, 60, 60]), ann(3, 1, 1, [400, 300, 50, 50]),
        ann(4, 2, 1, [100, 100, 100, 100], crowd=1)]}
    dets = [det(1, 1, [22, 18, 60, 62], 0.9), det(1, 1, [21, 20, 58, 60], 0.85), det(1, 1, [150, 100, 40, 40], 0.8),
            det(1, 1, [250, 150, 100, 100], 0.75), det(1, 1, [400, 300, 50, 50], 0.7), det(1, 1, [0, 0, 300, 200], 0.6),
            det(2, 1, [120, 120, 30, 30], 0.95), det(2, 1, [90, 90, 40, 40], 0.5), det(2, 1, [300, 300, 20, 20], 0.4)]
    return gt, dets


def case_area_ranges():
    # Areas exactly at 32^2 and 96^2 (bounds are inclusive), the `area` field disagreeing with bbox w*h (the
    # field decides the range), unmatched detections outside a range ignored, matched ones kept.
    anns = [ann(1, 1, 1, [0, 0, 32, 32]), ann(2, 1, 1, [100, 0, 96, 96]), ann(3, 1, 1, [300, 0, 20, 20], area=5000.0),
            ann(4, 1, 1, [400, 100, 150, 150], area=500.0), ann(5, 1, 1, [0, 200, 31, 33]),
            ann(6, 2, 1, [10, 10, 8, 8]), ann(7, 2, 1, [50, 50, 200, 200])]
    dets = [det(1, 1, [0, 0, 32, 32], 0.9), det(1, 1, [100, 0, 96, 96], 0.8), det(1, 1, [300, 0, 20, 20], 0.7),
            det(1, 1, [400, 100, 150, 150], 0.6), det(1, 1, [0, 200, 31, 33], 0.55), det(1, 1, [500, 400, 5, 5], 0.5),
            det(1, 1, [500, 300, 100, 100], 0.45), det(1, 1, [600, 0, 40, 40], 0.4), det(2, 1, [10, 10, 8, 8], 0.3),
            det(2, 1, [52, 50, 200, 199], 0.2), det(2, 1, [0, 300, 200, 100], 0.1)]
    return {"images": [img(1), img(2)], "categories": cats(1), "annotations": anns}, dets


def case_ignore_flags():
    # pycocotools overwrites `ignore` with `iscrowd`: ignore=1 without iscrowd is NOT ignored, and iscrowd=1 is
    # ignored whatever `ignore` says.
    anns = [ann(1, 1, 1, [0, 0, 50, 50], ignore=1), ann(2, 1, 1, [100, 100, 50, 50], crowd=1, ignore=0),
            ann(3, 1, 1, [300, 300, 50, 50], ignore=1)]
    dets = [det(1, 1, [0, 0, 50, 50], 0.9), det(1, 1, [110, 110, 30, 30], 0.8)]
    return {"images": [img(1)], "categories": cats(1), "annotations": anns}, dets


def case_categories():
    # Category 2 has no GT (precision and recall -1, left out of the means); category 3 has GT but no
    # detections; category 7 is in no annotation at all; detections of category 42 (not in the categories) are
    # ignored as pycocotools ignores them.
    anns = [ann(1, 1, 1, [0, 0, 50, 50]), ann(2, 2, 3, [10, 10, 60, 60]), ann(3, 2, 1, [200, 200, 50, 50])]
    dets = [det(1, 1, [0, 0, 50, 50], 0.9), det(1, 2, [0, 0, 50, 50], 0.8), det(2, 1, [200, 200, 50, 50], 0.7),
            det(2, 42, [10, 10, 60, 60], 0.99), det(2, 2, [300, 300, 10, 10], 0.5)]
    return {"images": [img(1), img(2)], "categories": cats(1, 2, 3, 7), "annotations": anns}, dets


def case_gt_id_zero():
    # pycocotools stores the matched GT's id as "matched": a GT whose id is 0 looks unmatched, so the detection
    # that matched it counts as a false positive (and the GT stays consumed).
    anns = [ann(0, 1, 1, [0, 0, 50, 50]), ann(1, 1, 1, [100, 100, 50, 50]), ann(2, 2, 1, [0, 0, 30, 30])]
    dets = [det(1, 1, [0, 0, 50, 50], 0.9), det(1, 1, [100, 100, 50, 50], 0.8), det(1, 1, [1, 1, 50, 50], 0.7),
            det(2, 1, [0, 0, 30, 30], 0.6)]
    return {"images": [img(1), img(2)], "categories": cats(1), "annotations": anns}, dets


def case_empty_images():
    # Image 2 has detections and no GT (all false positives), image 3 has GT and no detections, image 4 neither.
    anns = [ann(1, 1, 1, [0, 0, 50, 50]), ann(2, 3, 1, [10, 10, 40, 40])]
    dets = [det(1, 1, [0, 0, 50, 50], 0.6), det(2, 1, [0, 0, 50, 50], 0.9), det(2, 1, [60, 0, 50, 50], 0.4)]
    return {"images": [img(i) for i in (1, 2, 3, 4)], "categories": cats(1), "annotations": anns}, dets


def case_match_order():
    # Equal IoU with two GTs: the later GT (in sorted order) wins (the loop keeps ious >= best); a detection
    # already matched to a regular GT stops at the first ignored GT; zero-size boxes; boxes partly outside.
    anns = [ann(1, 1, 1, [0, 0, 20, 20]), ann(2, 1, 1, [20, 0, 20, 20]), ann(3, 1, 1, [60, 0, 40, 40], crowd=1),
            ann(4, 1, 1, [60, 0, 40, 40]), ann(5, 1, 1, [300, 300, 0, 10]), ann(6, 1, 1, [-20, 400, 60, 60])]
    dets = [det(1, 1, [10, 0, 20, 20], 0.9), det(1, 1, [10, 0, 20, 20], 0.85), det(1, 1, [60, 0, 40, 40], 0.8),
            det(1, 1, [62, 0, 40, 40], 0.75), det(1, 1, [300, 300, 0, 10], 0.7), det(1, 1, [-10, 400, 50, 60], 0.65),
            det(1, 1, [0, 0, 0, 0], 0.6)]
    return {"images": [img(1)], "categories": cats(1), "annotations": anns}, dets


def case_random():
    rng = np.random.default_rng(2024)
    cat_ids = [1, 2, 3, 5, 8, 13, 21, 90]
    image_ids = sorted(rng.choice(10**6, 200, replace=False).tolist())
    rng.shuffle(image_ids)
    images = [img(int(i), 640, 480) for i in image_ids]
    anns, dets = [], []
    aid = 1
    for im in images:
        iid = im["id"]
        k = rng.poisson(4)
        for _ in range(k):
            w, h = np.exp(rng.uniform(np.log(4), np.log(400), 2))
            x, y = rng.uniform(-10, 640 - w / 2), rng.uniform(-10, 480 - h / 2)
            c = int(rng.choice(cat_ids[:-1], p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05]))
            box = np.round([x, y, w, h], 2)
            area = float(box[2] * box[3]) if rng.random() < 0.7 else round(float(box[2] * box[3] * rng.uniform(0.4, 1)), 2)
            anns.append(ann(aid, iid, c, box, area=area, crowd=int(rng.random() < 0.05)))
            aid += 1
        n_img_dets = int(rng.choice([0, 5, 30, 150], p=[0.1, 0.4, 0.4, 0.1]))
        mine = [a for a in anns if a["image_id"] == iid]
        for j in range(n_img_dets):
            if mine and rng.random() < 0.6:
                a = mine[j % len(mine)]
                b = np.array(a["bbox"]) + rng.normal(0, 0.06, 4) * (a["bbox"][2:] * 2)
                b[2:] = np.maximum(b[2:], 0.5)
                c = a["category_id"] if rng.random() < 0.85 else int(rng.choice(cat_ids))
            else:
                w, h = np.exp(rng.uniform(np.log(4), np.log(300), 2))
                b = [rng.uniform(0, 600), rng.uniform(0, 440), w, h]
                c = int(rng.choice(cat_ids + [99]))
            dets.append(det(iid, c, np.round(b, 2), round(float(rng.random()), 2)))
    gt = {"info": {"description": "random golden case", "year": 2026}, "licenses": [], "images": images,
          "annotations": anns, "categories": cats(*cat_ids)}
    return gt, dets


def renumber_id_zero(gt):
    gt = copy.deepcopy(gt)
    top = max(a["id"] for a in gt["annotations"])
    for a in gt["annotations"]:
        if a["id"] == 0:
            a["id"] = top + 1
    return gt


def coco_goldens():
    cases = {
        "basic": case_basic(), "linspace_thresholds": case_linspace_thresholds(), "score_ties": case_score_ties(),
        "max_dets": case_max_dets(), "crowd": case_crowd(), "area_ranges": case_area_ranges(),
        "ignore_flags": case_ignore_flags(), "categories": case_categories(), "gt_id_zero": case_gt_id_zero(),
        "empty_images": case_empty_images(), "match_order": case_match_order(), "random": case_random(),
    }
    out = {}
    for name, (gt, dets) in cases.items():
        d = os.path.join(ROOT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "gt.json"), "w") as f:
            json.dump(gt, f)
        with open(os.path.join(d, "dets.json"), "w") as f:
            json.dump(dets, f)
        small = len(gt["categories"]) <= 4
        E, printed = run_coco(gt, dets)
        out[name] = golden(E, printed, {}, small)
    # The GT-id-0 bug, fixed: what pycocotools gives when the id-0 GT is renumbered.
    gt, dets = cases["gt_id_zero"]
    E, printed = run_coco(renumber_id_zero(gt), dets)
    out["gt_id_zero_fixed"] = dict(golden(E, printed, {"fixGTIDZero": True}, True), case="gt_id_zero")
    # stats[0] always uses maxDets=100: with maxDets [1, 10, 300] it finds no column and reports -1. Fixed, it
    # uses the last maxDets, like stats[1]...[5].
    gt, dets = cases["max_dets"]
    E, printed = run_coco(gt, dets, max_dets=[1, 10, 300])
    out["max_dets_300"] = dict(golden(E, printed, {"maxDets": [1, 10, 300]}, True), case="max_dets")
    fixed = golden(E, printed, {"maxDets": [1, 10, 300], "fixStats0MaxDets": True}, True)
    s = E.eval["precision"][:, :, :, 0, 2]
    fixed["stats"][0] = float(np.mean(s[s > -1])) if (s > -1).any() else -1.0
    fixed["summary"] = None
    out["max_dets_300_fixed"] = dict(fixed, case="max_dets")
    p = E.params
    return out, {"iouThrs": [float(v) for v in p.iouThrs], "recThrs": [float(v) for v in p.recThrs]}


# ----------------------------------------------------------------------------------------------------------------
# Pascal VOC: the py-faster-rcnn voc_eval algorithm, with a stable sort of scores (mergesort) so ties are
# deterministic, and `plus_one` choosing the devkit's inclusive-pixel arithmetic.


def voc_ap(rec, prec, use_07):
    if use_07:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = np.max(prec[rec >= t]) if np.sum(rec >= t) > 0 else 0
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def voc_eval_class(gt, dets, cid, thresh, use_07, plus_one):
    one = 1.0 if plus_one else 0.0
    recs, npos = {}, 0
    for a in gt["annotations"]:
        if a["category_id"] != cid:
            continue
        r = recs.setdefault(a["image_id"], {"bbox": [], "difficult": [], "det": []})
        x, y, w, h = a["bbox"]
        r["bbox"].append([x, y, x + w, y + h])
        r["difficult"].append(bool(a.get("difficult", 0)))
        r["det"].append(False)
        npos += not a.get("difficult", 0)
    mine = [d for d in dets if d["category_id"] == cid]
    if npos == 0:
        return None
    conf = np.array([d["score"] for d in mine])
    order = np.argsort(-conf, kind="mergesort")
    tp, fp = np.zeros(len(mine)), np.zeros(len(mine))
    for n, k in enumerate(order):
        d = mine[k]
        x, y, w, h = d["bbox"]
        bb = np.array([x, y, x + w, y + h])
        r = recs.get(d["image_id"])
        ovmax = -np.inf
        if r is not None and r["bbox"]:
            g = np.array(r["bbox"])
            iw = np.maximum(np.minimum(g[:, 2], bb[2]) - np.maximum(g[:, 0], bb[0]) + one, 0.0)
            ih = np.maximum(np.minimum(g[:, 3], bb[3]) - np.maximum(g[:, 1], bb[1]) + one, 0.0)
            inter = iw * ih
            uni = (bb[2] - bb[0] + one) * (bb[3] - bb[1] + one) + (g[:, 2] - g[:, 0] + one) * (g[:, 3] - g[:, 1] + one) - inter
            ov = inter / uni
            ovmax, jmax = np.max(ov), int(np.argmax(ov))
        if ovmax > thresh:
            if not r["difficult"][jmax]:
                if not r["det"][jmax]:
                    tp[n] = 1.0
                    r["det"][jmax] = True
                else:
                    fp[n] = 1.0
        else:
            fp[n] = 1.0
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return float(voc_ap(rec, prec, use_07)), [float(v) for v in rec], [float(v) for v in prec]


def voc_case(seed):
    rng = np.random.default_rng(seed)
    cat_ids = [1, 2, 3]
    images, anns, dets = [], [], []
    aid = 1
    for iid in range(1, 41):
        images.append({"id": iid, "file_name": f"{iid:06d}.jpg", "width": 500, "height": 375})
        for _ in range(rng.integers(0, 5)):
            w, h = rng.integers(3, 60, 2)
            x, y = rng.integers(1, 480, 2)
            a = ann(aid, iid, int(rng.choice(cat_ids)), [float(x), float(y), float(w), float(h)])
            if rng.random() < 0.15:
                a["difficult"] = 1
            anns.append(a)
            aid += 1
        mine = [a for a in anns if a["image_id"] == iid]
        for j in range(rng.integers(0, 8)):
            if mine and rng.random() < 0.7:
                a = mine[j % len(mine)]
                b = np.round(np.array(a["bbox"]) + rng.normal(0, 2, 4), 0)
                b[2:] = np.maximum(b[2:], 1)
                c = a["category_id"]
            else:
                b = [float(v) for v in rng.integers(1, 400, 4)]
                c = int(rng.choice(cat_ids))
            dets.append(det(iid, c, b, round(float(rng.random()), 2)))
    return {"images": images, "categories": cats(*cat_ids), "annotations": anns}, dets


def voc_goldens():
    out = {}
    for name, seed in [("voc_random", 7), ("voc_random2", 8)]:
        gt, dets = voc_case(seed)
        d = os.path.join(ROOT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "gt.json"), "w") as f:
            json.dump(gt, f)
        with open(os.path.join(d, "dets.json"), "w") as f:
            json.dump(dets, f)
        for metric, use07 in [("voc07", True), ("voc12", False)]:
            for plus_one in [True, False]:
                for thresh in [0.5, 0.7]:
                    per = {}
                    for c in gt["categories"]:
                        r = voc_eval_class(gt, dets, c["id"], thresh, use07, plus_one)
                        per[str(c["id"])] = None if r is None else {"ap": r[0], "recall": r[1], "precision": r[2]}
                    key = f"{name}/{metric}/{'plus1' if plus_one else 'continuous'}/{thresh}"
                    aps = [v["ap"] for v in per.values() if v is not None]
                    out[key] = {"case": name, "metric": metric, "plusOne": plus_one, "iou": thresh, "perClass": per,
                                "map": float(np.mean(aps))}
    return out


def main():
    import pycocotools
    from importlib.metadata import version
    coco, params = coco_goldens()
    voc = voc_goldens()
    with open(os.path.join(ROOT, "goldens.json"), "w") as f:
        json.dump({"generator": "tools/make_eval_goldens.py", "pycocotools": version("pycocotools"),
                   "numpy": np.__version__, "params": params, "coco": coco, "voc": voc}, f, separators=(",", ":"))
    print(f"wrote {len(coco)} COCO and {len(voc)} VOC goldens to {ROOT}")


if __name__ == "__main__":
    main()
