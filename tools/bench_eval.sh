#!/usr/bin/env bash
# COCO mAP evaluation speed, Kestrel beside pycocotools and faster-coco-eval on the same files in one run (the
# machine is shared and noisy: only same-run ratios mean anything). Needs the anchors' venv
# (see ../shared/anchors/README.md). Takes a few minutes: pycocotools needs ~45 s per round.
#
#   tools/bench_eval.sh [OUTDIR]          REPEATS=3 IMAGES=5000 EXACT=1 (EXACT=0 skips the exact-stats run)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/anchors-venv/bin/python}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
REPEATS=${REPEATS:-3}
IMAGES=${IMAGES:-5000}
EXACT=${EXACT:-1}
OUT=${1:-/tmp/kestrel-bench-eval-$(date +%Y%m%d-%H%M%S)}
DATA="$OUT/coco"
mkdir -p "$DATA"
swift build -c release --product kestrel >&2
BIN=.build/release/kestrel
echo "== anchors (pycocotools, faster-coco-eval); writes $DATA/gt.json and dets.json" >&2
(cd "$ANCHORS" && "$PY" map_eval.py --images "$IMAGES" --repeats "$REPEATS" --data "$DATA") > "$OUT/anchors.jsonl"
echo "== kestrel, both cores and one" >&2
$BIN bench eval --gt "$DATA/gt.json" --dets "$DATA/dets.json" --repeats "$REPEATS" --json > "$OUT/kestrel.jsonl"
$BIN bench eval --gt "$DATA/gt.json" --dets "$DATA/dets.json" --repeats "$REPEATS" --threads 1 --json >> "$OUT/kestrel.jsonl"
extra=()
if [ "$EXACT" = 1 ]; then
  echo "== exact stats: pycocotools once more, and kestrel eval --json" >&2
  "$PY" tools/coco_stats.py "$DATA/gt.json" "$DATA/dets.json" > "$OUT/pycocotools_stats.json"
  $BIN eval --gt "$DATA/gt.json" --dets "$DATA/dets.json" --json > "$OUT/kestrel_eval.json"
  extra=("$OUT/pycocotools_stats.json" "$OUT/kestrel_eval.json")
fi
python3 tools/eval_ratios.py "$OUT/anchors.jsonl" "$OUT/kestrel.jsonl" "${extra[@]}" | tee "$OUT/compare.md"
echo "results in $OUT" >&2
