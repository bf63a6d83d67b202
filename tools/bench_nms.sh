#!/usr/bin/env bash
# Greedy NMS speed, Kestrel beside OpenCV, numpy and ONNX Runtime on the same boxes in one run (the machine is
# shared and noisy: only same-run ratios mean anything). Needs the anchors' venv (see ../shared/anchors/README.md).
#
#   tools/bench_nms.sh [OUTDIR]          SIZES="1000 10000 50000" REPEATS=7
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/anchors-venv/bin/python}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
SIZES=${SIZES:-"1000 10000 50000"}
REPEATS=${REPEATS:-7}
OUT=${1:-/tmp/kestrel-bench-nms-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
swift build -c release --product kestrel >&2
BIN=.build/release/kestrel
echo "== anchors (OpenCV, numpy, ONNX Runtime)" >&2
(cd "$ANCHORS" && "$PY" nms.py --sizes $SIZES --repeats "$REPEATS") > "$OUT/anchors.jsonl"
echo "== the same boxes for kestrel" >&2
PYTHONPATH="$ANCHORS" "$PY" tools/nms_boxes.py "$OUT/boxes" $SIZES
echo "== kestrel" >&2
for layout in random clustered; do
  for n in $SIZES; do
    $BIN bench nms --from "$OUT/boxes/boxes_${layout}_$n.f32" --expect "$OUT/boxes/kept_${layout}_$n.i64" \
      --boxes "$n" --layout "$layout" --repeats "$REPEATS" --json >> "$OUT/kestrel.jsonl"
  done
done
python3 tools/compare.py "$OUT"/anchors.jsonl "$OUT"/kestrel.jsonl | tee "$OUT/compare.md"
grep -h -o '"same_kept": [a-z]*' "$OUT"/kestrel.jsonl | sort | uniq -c >&2
echo "results in $OUT" >&2
