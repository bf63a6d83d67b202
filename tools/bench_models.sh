#!/usr/bin/env bash
# Whole-model inference, Kestrel beside ONNX Runtime on the same architectures in one run (the machine is shared
# and noisy: only same-run ratios mean anything). Needs the anchors' venv (see ../shared/anchors/README.md).
# ../shared/anchors/models_ort.py builds ResNet-18 and MobileNetV1 (batches 1 and 8, 224x224) and ResNet-20 with
# projection shortcuts (batch 128, 32x32); tools/classifiers_ort.py builds MobileNetV2 (batches 1 and 8).
#
#   tools/bench_models.sh [OUTDIR]       THREADS="1 2" REPEATS=5
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/anchors-venv/bin/python}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
THREADS=${THREADS:-"1 2"}
REPEATS=${REPEATS:-5}
OUT=${1:-/tmp/kestrel-bench-models-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
swift build -c release --product kestrel >&2
BIN=.build/release/kestrel
echo "== anchors (ONNX Runtime)" >&2
(cd "$ANCHORS" && "$PY" models_ort.py --threads $THREADS --repeats "$REPEATS") > "$OUT/anchors.jsonl"
ANCHORS_DIR="$ANCHORS" "$PY" tools/classifiers_ort.py --threads $THREADS --repeats "$REPEATS" >> "$OUT/anchors.jsonl"
echo "== kestrel" >&2
$BIN bench infer --model resnet18 mobilenet_v1 mobilenet_v2 --batch-size 1 8 --threads $THREADS \
  --repeats "$REPEATS" --json > "$OUT/kestrel.jsonl"
$BIN bench infer --model resnet20 --projection --batch-size 128 --threads $THREADS --repeats "$REPEATS" --json \
  >> "$OUT/kestrel.jsonl"
python3 tools/compare.py "$OUT"/anchors.jsonl "$OUT"/kestrel.jsonl | tee "$OUT/compare.md"
echo "results in $OUT" >&2
