#!/usr/bin/env bash
# Augmentation speed, Kestrel beside albumentations and plain OpenCV in one run (the machine is shared and
# noisy: only same-run ratios mean anything). Needs the anchors' venv (see ../shared/anchors/README.md).
#
#   tools/bench_augment.sh [OUTDIR]          SIZES="224 512" REPEATS=5 to choose
#
# For each size: ../shared/anchors/augment.py, then `kestrel bench augment`, then tools/compare.py's table
# (ratio > 1: Kestrel is faster). Single thread, RGB 8-bit, the astronaut photo area-resized to SIZE×SIZE.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/anchors-venv/bin/python}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
SIZES=${SIZES:-"224 512"}
REPEATS=${REPEATS:-5}
OUT=${1:-/tmp/kestrel-bench-augment-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
swift build -c release --product kestrel >&2
BIN=.build/release/kestrel
for size in $SIZES; do
  echo "== $size: anchors (albumentations, OpenCV)" >&2
  (cd "$ANCHORS" && "$PY" augment.py --sizes "$size" --repeats "$REPEATS") >> "$OUT/anchors.jsonl"
  echo "== $size: kestrel" >&2
  $BIN bench augment --size "$size" --repeats "$REPEATS" --json >> "$OUT/kestrel.jsonl"
done
python3 tools/compare.py "$OUT"/anchors.jsonl "$OUT"/kestrel.jsonl | tee "$OUT/compare.md"
echo "results in $OUT" >&2
