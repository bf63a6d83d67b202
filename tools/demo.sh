#!/usr/bin/env bash
# The `make demo` script: runs Kestrel's jobs on the data in datasets/. Expects a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/kestrel
OUT=demo-out
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "kestrel info datasets/photos/*"
$BIN info datasets/photos/*

step "kestrel convert: every sample photo to the other format, into $OUT/"
for f in datasets/photos/*; do
  name=$(basename "${f%.*}")
  case "$f" in
    *.png) out="$OUT/$name.jpg"; $BIN convert "$f" "$out" --quality 90 --force ;;
    *) out="$OUT/$name.png"; $BIN convert "$f" "$out" --force ;;
  esac
  echo "  $f -> $out"
done
$BIN info --verify --json "$OUT"/*

step "kestrel bench decode (1 thread, release build)"
$BIN bench decode datasets/photos/* --label native --repeats 3 --min-time 0.1

step "kestrel augment: 4 copies of every sample photo through a pipeline using every transform, + a contact sheet (originals in the first column)"
rm -rf "$OUT/augmented"
$BIN augment --pipeline datasets/pipelines/every_transform.json --input datasets/photos --output "$OUT/augmented" \
  --copies 4 --seed 1 --preview "$OUT/augment-preview.png"

step "kestrel bench augment (1 thread, 224x224, release build)"
$BIN bench augment --size 224 --repeats 3 --min-time 0.1 --only pipeline
