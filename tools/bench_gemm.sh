#!/usr/bin/env bash
# SGEMM speed: Kestrel's FastGEMM beside OpenBLAS (../shared/anchors/sgemm_openblas.c, in C, and through
# Kestrel's BLASGEMM), same shapes, one run, with the FMA peak measured in the same run.
# OpenBLAS runs twice: with the environment as it is, and pinned to OPENBLAS_CORETYPE=Haswell (what the
# project's environment sets; AVX2 kernels). Needs gcc and libopenblas-dev.
#   tools/bench_gemm.sh [OUTDIR]     THREADS="1 2" REPEATS=5 to change
set -euo pipefail
cd "$(dirname "$0")/.."
ANCHORS=${ANCHORS:-$(cd .. && pwd)/shared/anchors}
THREADS=${THREADS:-"1 2"}
REPEATS=${REPEATS:-5}
OUT=${1:-/tmp/kestrel-bench-gemm-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
swift build -c release --product kestrel >&2
gcc -O2 -I"$ANCHORS" -o "$OUT/sgemm_openblas" "$ANCHORS/sgemm_openblas.c" -lopenblas
gcc -O2 -mavx2 -mfma -mavx512f -pthread -I"$ANCHORS" -o "$OUT/limits" "$ANCHORS/limits.c"
echo "== limits (FMA peak, bandwidth)" >&2
"$OUT/limits" > "$OUT/limits.jsonl"
echo "== OpenBLAS (environment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})" >&2
"$OUT/sgemm_openblas" $THREADS | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); r["tool"] = "openblas " + r["extra"]["corename"]; print(json.dumps(r))' > "$OUT/openblas.jsonl"
echo "== OpenBLAS pinned to Haswell" >&2
OPENBLAS_CORETYPE=Haswell "$OUT/sgemm_openblas" $THREADS | python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l); r["tool"] = "openblas " + r["extra"]["corename"] + " (pinned)"; print(json.dumps(r))' \
    > "$OUT/openblas-haswell.jsonl"
echo "== kestrel" >&2
.build/release/kestrel bench gemm --threads $THREADS --repeats "$REPEATS" --json > "$OUT/kestrel.jsonl"
python3 tools/compare.py "$OUT"/kestrel.jsonl "$OUT"/openblas.jsonl "$OUT"/openblas-haswell.jsonl | tee "$OUT/compare.md"
python3 - "$OUT/kestrel.jsonl" "$OUT/limits.jsonl" <<'PY' | tee -a "$OUT/compare.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
limits = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
print("\n| FMA peak (limits.c) | threads | GFLOP/s |\n|---|---|---|")
for r in limits:
    if "FMA" in r["work"]:
        print(f"| {r['work']} | {r['threads']} | {r['median']:.1f} |")
print("\n| work | size | threads | Kestrel GFLOP/s | % of FMA peak (same run) |\n|---|---|---|---|---|")
for r in rows:
    if r["suite"] == "gemm":
        print(f"| {r['work']} | {r['size']} | {r['threads']} | {r['gflops']:.1f} | {r['peak_percent']:.0f}% |")
PY
echo "results in $OUT" >&2
