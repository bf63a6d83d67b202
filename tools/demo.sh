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

step "kestrel convert: every sample photo to the other format, into $OUT/converted/"
mkdir -p "$OUT/converted"
for f in datasets/photos/*; do
  name=$(basename "${f%.*}")
  case "$f" in
    *.png) out="$OUT/converted/$name.jpg"; $BIN convert "$f" "$out" --quality 90 --force ;;
    *) out="$OUT/converted/$name.png"; $BIN convert "$f" "$out" --force ;;
  esac
  echo "  $f -> $out"
done
$BIN info --verify --json "$OUT"/converted/*

step "kestrel bench decode (1 thread, release build)"
$BIN bench decode datasets/photos/* --label native --repeats 3 --min-time 0.1

step "kestrel train: SimpleConvNet on datasets/digits (1,797 real 8x8 handwritten digits, 20% held out)"
rm -rf "$OUT/digits-run"
$BIN train --data datasets/digits --model simple_convnet --input-size 8 --epochs 15 --batch-size 32 \
  --optimizer adam --lr 0.003 --weight-decay 0 --seed 0 --out "$OUT/digits-run"

step "kestrel classify: three digits with the trained model"
$BIN classify --model "$OUT/digits-run" datasets/digits/3/0003.png datasets/digits/7/0007.png datasets/digits/9/0009.png

step "kestrel test: the whole digits set (training images included, so this is not a held-out score)"
$BIN test --model "$OUT/digits-run" --data datasets/digits > "$OUT/digits-test.txt"
head -3 "$OUT/digits-test.txt"
step "kestrel eval: COCO mAP (equal to pycocotools) on datasets/detection, PR curves into $OUT/plots"
$BIN eval --gt datasets/detection/gt.json --dets datasets/detection/dets.json --plots "$OUT/plots"

step "kestrel eval --metric voc07: Pascal VOC 11-point AP on the same files"
$BIN eval --gt datasets/detection/gt.json --dets datasets/detection/dets.json --metric voc07

step "kestrel convert-annotations: COCO -> Pascal VOC XML and YOLO labels, into $OUT/"
$BIN convert-annotations datasets/detection/gt.json "$OUT/detection-voc" --from coco --to voc --force
$BIN convert-annotations datasets/detection/gt.json "$OUT/detection-yolo" --from coco --to yolo --force

step "kestrel bench nms (greedy NMS, 10,000 random boxes, 1 thread)"
$BIN bench nms --boxes 10000 --repeats 3 --min-time 0.1

step "kestrel augment: 4 copies of every sample photo and its boxes (datasets/detection) through a pipeline using every transform; a COCO file for the copies and a contact sheet (originals in the first column)"
rm -rf "$OUT/augmented"
$BIN augment --pipeline datasets/pipelines/every_transform.json --input datasets/photos \
  --annotations datasets/detection/gt.json --output "$OUT/augmented" --copies 4 --seed 1 \
  --preview "$OUT/augment-preview.png"

step "kestrel bench augment (1 thread, 224x224, release build)"
$BIN bench augment --size 224 --repeats 3 --min-time 0.1 --only pipeline

step "kestrel train --task detect: a small SSD (ssd_tiny) on datasets/shapes (200 synthetic images, 4 classes), validated on its 50 held-out images each epoch"
rm -rf "$OUT/shapes-ssd"
$BIN train --task detect --data datasets/shapes/train/annotations.json --images datasets/shapes/train/images \
  --val-data datasets/shapes/val/annotations.json --val-images datasets/shapes/val/images \
  --model ssd_tiny --input-size 128 --epochs 30 --batch-size 16 --optimizer adam --lr 0.003 --warmup 1 --seed 0 \
  --out "$OUT/shapes-ssd"

step "kestrel detect: the trained SSD on two validation images, drawn into $OUT/detections/"
$BIN detect --model "$OUT/shapes-ssd" datasets/shapes/val/images/000000.jpg datasets/shapes/val/images/000001.jpg \
  --draw "$OUT/detections"

step "kestrel detect --json | kestrel eval: COCO results for the validation set, scored like pycocotools"
$BIN detect --model "$OUT/shapes-ssd" --data datasets/shapes/val/annotations.json --images datasets/shapes/val/images \
  --json > "$OUT/shapes-dets.json" 2>/dev/null
$BIN eval --gt datasets/shapes/val/annotations.json --dets "$OUT/shapes-dets.json"

step "kestrel train --task segment: FCN-2s on a small backbone (fcn2s_small) over datasets/shapes (200 training, 50 validation images; a short demo run, see docs/segmentation.md for the recipe)"
rm -rf "$OUT/shapes-seg-run"
$BIN train --task segment --images datasets/shapes/train/images --masks datasets/shapes/train/masks \
  --val-images datasets/shapes/val/images --val-masks datasets/shapes/val/masks \
  --class-names background,circle,square,triangle,star --model fcn2s_small --input-size 128 --epochs 15 \
  --batch-size 8 --optimizer adam --lr 0.002 --warmup 1 --weight-decay 0 --hflip --workers 2 --seed 0 --out "$OUT/shapes-seg-run"

step "kestrel segment: label maps and overlays for four validation images, into $OUT/segmented/"
rm -rf "$OUT/segmented"
$BIN segment --model "$OUT/shapes-seg-run" --out "$OUT/segmented" --overlay datasets/shapes/val/images/00000[0-3].jpg

step "kestrel eval --task segment: the four FCN metrics and per-class IoU of those four label maps"
mkdir -p "$OUT/segmented-gt"
cp datasets/shapes/val/masks/00000[0-3].png "$OUT/segmented-gt/"
$BIN eval --task segment --gt "$OUT/segmented-gt" --pred "$OUT/segmented" \
  --class-names background,circle,square,triangle,star
