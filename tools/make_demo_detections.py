#!/usr/bin/env python3
"""Write datasets/detection/gt.json and dets.json: a small COCO-format detection set on the four photos in
datasets/photos, for `make demo`.

Ground truth: boxes drawn by hand (by a Kestrel developer, looking at the photos) for 8 classes, one region of
several launch-pad lights marked iscrowd. Detections: synthetic, from a seeded generator: for each object a
jittered copy (score rising with overlap), some duplicates, some wrong classes and a few false positives, the way
a mediocre detector behaves. Plain Python (no numpy), deterministic.

    python3 tools/make_demo_detections.py
"""
import json
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "datasets", "detection")
CLASSES = ["person", "helmet", "rocket", "cat", "cup", "plate", "spoon", "tower", "light"]
IMAGES = [("astronaut.png", 512, 512), ("chelsea.png", 451, 300), ("coffee.png", 600, 400), ("rocket.jpg", 640, 427)]
# (image index, class, [x, y, w, h], iscrowd), pixels, drawn by hand.
OBJECTS = [
    (0, "person", [20, 15, 345, 497], 0), (0, "helmet", [278, 343, 234, 169], 0),
    (0, "rocket", [355, 0, 115, 290], 0),
    (1, "cat", [0, 0, 400, 300], 0),
    (2, "cup", [172, 18, 238, 290], 0), (2, "plate", [75, 70, 405, 318], 0), (2, "spoon", [325, 65, 100, 262], 0),
    (3, "rocket", [305, 125, 32, 285], 0), (3, "tower", [0, 0, 90, 427], 0), (3, "tower", [168, 122, 40, 305], 0),
    (3, "tower", [436, 122, 45, 305], 0), (3, "tower", [558, 0, 82, 427], 0),
    (3, "light", [60, 330, 420, 97], 1),
]


def main():
    rng = random.Random(7)
    images = [{"id": i + 1, "file_name": n, "width": w, "height": h} for i, (n, w, h) in enumerate(IMAGES)]
    cats = [{"id": i + 1, "name": n, "supercategory": "thing"} for i, n in enumerate(CLASSES)]
    cid = {n: i + 1 for i, n in enumerate(CLASSES)}
    anns, dets = [], []
    for k, (im, cls, box, crowd) in enumerate(OBJECTS):
        anns.append({"id": k + 1, "image_id": im + 1, "category_id": cid[cls], "bbox": box,
                     "area": box[2] * box[3], "iscrowd": crowd})
        W, H = IMAGES[im][1], IMAGES[im][2]
        for copy in range(1 + (rng.random() < 0.4)):
            if rng.random() < 0.1 and copy == 0:
                continue  # missed
            j = rng.uniform(0.02, 0.25)
            x, y, w, h = box
            nx = min(max(0.0, x + rng.gauss(0, j) * w), W - 2)
            ny = min(max(0.0, y + rng.gauss(0, j) * h), H - 2)
            nw = min(max(2.0, w * (1 + rng.gauss(0, j))), W - nx)
            nh = min(max(2.0, h * (1 + rng.gauss(0, j))), H - ny)
            score = max(0.01, min(0.99, 0.95 - 2 * j - 0.3 * copy + rng.uniform(-0.1, 0.1)))
            c = cid[cls] if rng.random() < 0.85 else rng.randint(1, len(CLASSES))
            dets.append({"image_id": im + 1, "category_id": c, "bbox": [round(v, 1) for v in (nx, ny, nw, nh)],
                         "score": round(score, 3)})
    for im, (_, W, H) in enumerate(IMAGES):
        for _ in range(3):
            w, h = rng.uniform(20, W / 2), rng.uniform(20, H / 2)
            x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
            dets.append({"image_id": im + 1, "category_id": rng.randint(1, len(CLASSES)),
                         "bbox": [round(v, 1) for v in (x, y, w, h)], "score": round(rng.uniform(0.01, 0.4), 3)})
    os.makedirs(ROOT, exist_ok=True)
    with open(os.path.join(ROOT, "gt.json"), "w") as f:
        json.dump({"info": {"description": "Kestrel demo detection set: hand-drawn boxes on datasets/photos"},
                   "images": images, "annotations": anns, "categories": cats}, f, indent=1)
    with open(os.path.join(ROOT, "dets.json"), "w") as f:
        json.dump(dets, f)
    print(f"wrote {len(anns)} objects and {len(dets)} detections to {ROOT}")


if __name__ == "__main__":
    main()
