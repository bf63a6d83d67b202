#!/usr/bin/env python3
"""Put Kestrel's benchmark records beside the anchor tools' records from the same run, as ratios.

Usage: python3 tools/compare.py FILE.jsonl [FILE.jsonl ...]   (Kestrel's and the anchors' JSON Lines)

Both sides print the anchor keys (suite, tool, work, size, threads, median, unit, ...). Records are matched by
suite, normalised work name, the size label (the part of "size" before " ("), threads and unit. For each
Kestrel record the table shows every other tool measured on the same thing and the ratio
kestrel / tool when higher is better (throughput), tool / kestrel when lower is better (time): above 1 means
Kestrel is faster.
"""
import json
import re
import sys


# Anchor work names that measure the same thing as a Kestrel work name.
ALIASES = {
    "conv3x3 book im2col, float32 col (sgemm)": "conv3x3",
    "conv3x3 book as written (float64 col -> dgemm)": "conv3x3",
}


def norm_work(w):
    w = w.replace(" (OpenCV default)", "").replace(" (Pillow default)", "")
    w = w.replace("pipeline (5 transforms, Compose)", "pipeline (5 transforms)")  # augment.py names it per tool
    w = ALIASES.get(w, w)
    return re.sub(r"^(decode JPEG) q\d+$", r"\1", w)


def norm_size(r):
    # Image sizes carry a description in parentheses ("native (4 photos, ...)"); NMS and mAP sizes are
    # compared whole (the parentheses name the box layout or the crowd count).
    return r["size"] if r["suite"] in ("nms", "map_eval") else r["size"].split(" (")[0]


# ../shared/anchors/models_ort.py names a model bare ("resnet18", size "batch 1 224x224", "ms/batch"); Kestrel
# and tools/classifiers_ort.py say "resnet18 inference", "224x224 batch 1", "ms".
MODEL_NAMES = {"resnet18": "resnet18", "mobilenetv1": "mobilenet_v1", "resnet20": "resnet20"}


def normalise_model_record(r):
    if r["suite"] == "models" and r["work"] in MODEL_NAMES and r["unit"] == "ms/batch":
        batch, side = re.match(r"batch (\d+) (\S+)", r["size"]).groups()
        return dict(r, work=MODEL_NAMES[r["work"]] + " inference", size=f"{side} batch {batch}", unit="ms")
    return r


def key(r):
    return (r["suite"], norm_work(r["work"]), norm_size(r), r["threads"], r["unit"])


def main():
    rows = []
    for path in sys.argv[1:]:
        with open(path) as f:
            rows += [normalise_model_record(json.loads(line)) for line in f if line.startswith("{")]
    ours = [r for r in rows if r["tool"] == "kestrel"]
    others = [r for r in rows if r["tool"] != "kestrel"]
    print("| suite | work | size | threads | Kestrel | other tool | other | Kestrel advantage |")
    print("|---|---|---|---|---|---|---|---|")
    for k in ours:
        matches = [o for o in others if key(o) == key(k)]
        if not matches:
            print(f"| {k['suite']} | {k['work']} | {k['size']} | {k['threads']} | {k['median']:.4g} {k['unit']} | – | – | – |")
        for o in matches:
            higher = k.get("higher_is_better", True)
            ratio = k["median"] / o["median"] if higher else o["median"] / k["median"]
            tool = o["tool"] if o["work"] == k["work"] or norm_work(o["work"]) == o["work"] else f"{o['tool']} ({o['work']})"
            print(f"| {k['suite']} | {k['work']} | {norm_size(k)} | {k['threads']} | "
                  f"{k['median']:.4g} {k['unit']} | {tool} | {o['median']:.4g} | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
