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

step "kestrel eval: COCO mAP (equal to pycocotools) on datasets/detection, PR curves into $OUT/plots"
$BIN eval --gt datasets/detection/gt.json --dets datasets/detection/dets.json --plots "$OUT/plots"

step "kestrel eval --metric voc07: Pascal VOC 11-point AP on the same files"
$BIN eval --gt datasets/detection/gt.json --dets datasets/detection/dets.json --metric voc07

step "kestrel convert-annotations: COCO -> Pascal VOC XML and YOLO labels, into $OUT/"
$BIN convert-annotations datasets/detection/gt.json "$OUT/detection-voc" --from coco --to voc --force
$BIN convert-annotations datasets/detection/gt.json "$OUT/detection-yolo" --from coco --to yolo --force

step "kestrel bench nms (greedy NMS, 10,000 random boxes, 1 thread)"
$BIN bench nms --boxes 10000 --repeats 3 --min-time 0.1
