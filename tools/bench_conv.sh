#!/usr/bin/env bash
# Convolution speed: Kestrel beside ONNX Runtime and the curriculum's numpy im2col, same shapes, one run.
# Needs the anchors' venv (see ../shared/anchors/README.md).
#   tools/bench_conv.sh [OUTDIR]     THREADS="1 2" BATCHES="1 8" to narrow, SKIP_NUMPY=1 to skip the numpy
#                                    im2col (slow), OPS="conv3x3 depthwise" DIRECTIONS=forward for Kestrel
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/tmp/anchors-venv/bin/python}
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
THREADS=${THREADS:-"1 2"}
BATCHES=${BATCHES:-"1 8"}
REPEATS=${REPEATS:-5}
OPS=${OPS:-"conv3x3 depthwise convtranspose"}
DIRECTIONS=${DIRECTIONS:-"forward backward"}
NUMPY_FLAG=${SKIP_NUMPY:+--skip-numpy}
OUT=${1:-/tmp/kestrel-bench-conv-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
swift build -c release --product kestrel >&2
echo "== anchors (ONNX Runtime, numpy im2col)" >&2
(cd "$ANCHORS" && "$PY" conv_bench.py --threads $THREADS --batches $BATCHES --repeats "$REPEATS" $NUMPY_FLAG) > "$OUT/anchors.jsonl"
echo "== kestrel" >&2
.build/release/kestrel bench conv --threads $THREADS --batches $BATCHES --repeats "$REPEATS" --ops $OPS \
    --directions $DIRECTIONS --json > "$OUT/kestrel.jsonl"
python3 tools/compare.py "$OUT"/anchors.jsonl "$OUT"/kestrel.jsonl | tee "$OUT/compare.md"
python3 - "$OUT/kestrel.jsonl" <<'PY' | tee -a "$OUT/compare.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| op | direction | size | threads | conv GFLOP/s | bare GEMM GFLOP/s | conv / GEMM |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['op']} | {r['direction']} | {r['size']} | {r['threads']} | {r['gflops']:.1f} | {r['gemm_gflops']:.1f} | {r['gflops'] / r['gemm_gflops']:.2f} |")
PY
echo "results in $OUT" >&2
