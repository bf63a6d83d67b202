#!/usr/bin/env python3
"""Same-run ratios for COCO evaluation: Kestrel's `bench eval` records beside map_eval.py's (pycocotools,
faster-coco-eval), and whether the 12 stats agree.

Usage: eval_ratios.py ANCHORS.jsonl KESTREL.jsonl [EXACT.json KESTREL_EVAL.json]
The anchors time evaluate+accumulate+summarize on already-loaded data and loadRes separately (json.load of the
files is not timed at all); Kestrel's headline record includes reading and parsing both files. Ratios are
other / kestrel (above 1: Kestrel is faster).
"""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def main():
    anchors, ours = load(sys.argv[1]), load(sys.argv[2])
    tools = {}
    for r in anchors:
        if r["suite"] != "map_eval" or r["unit"] != "s":
            continue
        name = r["tool"]
        tools.setdefault(name, {})["load" if r["work"].startswith("loadRes") else "eval"] = r
    print("| Kestrel record | threads | Kestrel s | tool | tool eval s | tool eval+loadRes s | ratio (eval) | ratio (eval+loadRes) |")
    print("|---|---|---|---|---|---|---|---|")
    for k in ours:
        for name, t in tools.items():
            e = t["eval"]["median"]
            el = e + t.get("load", {"median": 0})["median"]
            print(f"| {k['work']} | {k['threads']} | {k['median']:.3f} | {name} | {e:.3f} | {el:.3f} | "
                  f"{e / k['median']:.1f}× | {el / k['median']:.1f}× |")
    py = next((t["eval"] for n, t in tools.items() if n.startswith("pycocotools")), None)
    if py and ours:
        a, b = py["extra"]["stats"], ours[0]["extra"]["stats"]
        print(f"\n12 stats, rounded to 6 digits, pycocotools vs kestrel: {'identical' if a == b else 'DIFFERENT'}")
        if a != b:
            print("  pycocotools", a, "\n  kestrel    ", b)
    if len(sys.argv) > 4:
        exact = json.load(open(sys.argv[3]))["stats"]
        mine = json.load(open(sys.argv[4]))["stats"]
        print(f"12 stats, exact (pycocotools repr vs kestrel eval --json): {'identical' if exact == mine else 'DIFFERENT'}")
        if exact != mine:
            print("  pycocotools", exact, "\n  kestrel    ", mine)


if __name__ == "__main__":
    main()
