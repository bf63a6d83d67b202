#!/usr/bin/env bash
# Image I/O speed, Kestrel beside Pillow and OpenCV on the same files in one run (the machine is shared and
# noisy: only same-run ratios mean anything). Needs the anchors' venv (see ../shared/anchors/README.md).
#
#   tools/bench_image_io.sh [OUTDIR]          SIZES="native 1920x1080 4000x3000" to choose sizes
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/anchors-venv/bin/python}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
DATA=${DATA:-/tmp/anchors-data/images}
SIZES=${SIZES:-"native 1920x1080"}
REPEATS=${REPEATS:-5}
OUT=${1:-/tmp/kestrel-bench-image-io-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
swift build -c release --product kestrel >&2
BIN=.build/release/kestrel
for size in $SIZES; do
  echo "== $size: anchors (Pillow, OpenCV)" >&2
  (cd "$ANCHORS" && "$PY" image_io.py --data "$DATA" --sizes "$size" --repeats "$REPEATS") >> "$OUT/anchors.jsonl"
  echo "== $size: kestrel" >&2
  pngs=("$DATA"/*_"$size".png)
  jpgs=("$DATA"/*_"$size".jpg)
  $BIN bench decode "${pngs[@]}" "${jpgs[@]}" --label "$size" --repeats "$REPEATS" --json >> "$OUT/kestrel.jsonl"
  $BIN bench encode "${pngs[@]}" --label "$size" --repeats "$REPEATS" --json | grep -v 'encode JPEG' >> "$OUT/kestrel.jsonl"
  $BIN bench encode "${jpgs[@]}" --label "$size" --repeats "$REPEATS" --json | grep 'encode JPEG' >> "$OUT/kestrel.jsonl"
done
python3 tools/compare.py "$OUT"/anchors.jsonl "$OUT"/kestrel.jsonl | tee "$OUT/compare.md"
echo "results in $OUT" >&2
