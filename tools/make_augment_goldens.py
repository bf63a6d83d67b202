#!/usr/bin/env python3
"""Generate the augmentation goldens for KestrelAugmentTests.

Writes Tests/Fixtures/augment/input.png (a 61x47 RGB crop of datasets/photos/astronaut.png, odd sizes so the
vector kernels' 16-pixel blocks leave a tail), one PNG per case, and goldens.json listing for each case its
file, parameters and tolerance:

  tolerance 0   the reference computes Kestrel's documented definition exactly (numpy integer or float32
                arithmetic in the same order: flips, quarter turns, crops, pads, nearest resize, brightness,
                contrast, saturation, hue, gamma, grayscale)
  tolerance 1   the reference is OpenCV with its own fixed-point rounding (warpAffine, resize INTER_LINEAR /
                INTER_AREA, GaussianBlur, float HSV); min_exact says which fraction of samples must match
                exactly, so a systematic half-pixel shift still fails

Conventions mirrored here (see Sources/KestrelAugment): rotation is counter-clockwise about the image centre,
which is ((w-1)/2, (h-1)/2) in OpenCV's pixel-index coordinates; Kestrel's affine forward map in continuous
coordinates A·p + t becomes A·q + (t + A·(1/2, 1/2) - (1/2, 1/2)) in index coordinates.

Needs: the anchors' venv (numpy, opencv-python-headless, Pillow; versions in tools/requirements.txt).
Run from the repository root:  /tmp/anchors-venv/bin/python tools/make_augment_goldens.py
"""
import json
import math
import os

import cv2
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "augment")
F32 = np.float32


def save(name, a):
    Image.fromarray(np.ascontiguousarray(a)).save(os.path.join(OUT, name))


# ----------------------------------------------------------------------------- Kestrel's definitions in numpy

def fixed_linear(alpha, beta):
    a = math.floor(alpha * 65536 + 0.5)
    b = math.floor(beta * 65536 + 0.5) + 32768
    return a, b


def apply_linear(img, alpha, beta):
    a, b = fixed_linear(alpha, beta)
    v = (img.astype(np.int64) * a + b) >> 16
    return np.clip(v, 0, 255).astype(np.uint8)


def mean_luma(img):
    s = img.reshape(-1, 3).astype(np.int64).sum(axis=0)
    return (19595 * float(s[0]) + 38470 * float(s[1]) + 7471 * float(s[2])) / 65536 / (img.shape[0] * img.shape[1])


def brightness(img, f):
    return apply_linear(img, f, 0.0)


def contrast(img, c):
    return apply_linear(img, c, (1 - c) * mean_luma(img))


def brightness_contrast(img, f, c):
    m = 0.0 if c == 1 else mean_luma(img)
    return apply_linear(img, c * f, (1 - c) * f * m)


def gamma(img, g):
    table = np.array([min(255, math.floor(255 * (v / 255) ** g + 0.5)) for v in range(256)], dtype=np.uint8)
    return table[img]


def grayscale(img):
    r, g, b = (img[..., k].astype(np.int64) for k in range(3))
    l = ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16).astype(np.uint8)
    return np.stack([l, l, l], axis=-1)


def hue_saturation(img, degrees, saturation):
    """Kestrel's Float32 definitions (Kernels+Colour.swift), operation for operation."""
    r, g, b = (img[..., k].astype(np.int32) for k in range(3))
    s6 = F32(degrees / 60.0) if degrees is not None else F32(0)
    s6 = np.fmod(s6, F32(6))
    if s6 < 0:
        s6 = F32(s6 + F32(6))
    if s6 != 0:
        mx = np.maximum(np.maximum(r, g), b)
        mn = np.minimum(np.minimum(r, g), b)
        delta = mx - mn
        num = r - g
        base = np.full_like(r, 4)
        num = np.where(mx == g, b - r, num)
        base = np.where(mx == g, 2, base)
        num = np.where(mx == r, g - b, num)
        base = np.where(mx == r, 0, base)
        gray = delta == 0
        safe = np.where(gray, 1, delta)
        inverse = F32(1) / safe.astype(F32)
        h = base.astype(F32) + num.astype(F32) * inverse
        h = h + s6
        h = np.where(h < 0, h + F32(6), h)
        h = np.where(h >= 6, h - F32(6), h)
        h = np.where(h >= 6, F32(0), h)
        sector = np.floor(h).astype(np.int32)
        t = safe.astype(F32) * (h - sector.astype(F32))
        rising = np.rint(mn.astype(F32) + t).astype(np.int32)
        falling = np.rint(mx.astype(F32) - t).astype(np.int32)
        table = {
            0: (mx, rising, mn), 1: (falling, mx, mn), 2: (mn, mx, rising),
            3: (mn, falling, mx), 4: (rising, mn, mx), 5: (mx, mn, falling),
        }
        nr, ng, nb = np.zeros_like(r), np.zeros_like(r), np.zeros_like(r)
        for k, (a, bb, c) in table.items():
            nr = np.where(sector == k, a, nr)
            ng = np.where(sector == k, bb, ng)
            nb = np.where(sector == k, c, nb)
        r, g, b = np.where(gray, r, nr), np.where(gray, g, ng), np.where(gray, b, nb)
    if saturation is not None:
        k = F32(saturation)
        l = ((r.astype(F32) * F32(19595) + g.astype(F32) * F32(38470)) + b.astype(F32) * F32(7471)) * F32(2.0 ** -16)

        def blend(v):
            y = l + k * (v.astype(F32) - l)
            return np.rint(np.clip(y, F32(0), F32(255))).astype(np.int32)

        r, g, b = blend(r), blend(g), blend(b)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def hue_opencv(img, degrees):
    """An independent reference: OpenCV's float HSV (H in degrees), shifted, back to RGB."""
    hsv = cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = np.mod(hsv[..., 0] + degrees, 360)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- geometry references

def index_matrix(a, b, c, d, e, f):
    """Kestrel's forward map in continuous coordinates -> OpenCV's matrix in pixel-index coordinates."""
    return np.array([[a, b, c + 0.5 * a + 0.5 * b - 0.5], [d, e, f + 0.5 * d + 0.5 * e - 0.5]])


def rotate(img, angle, border, expand=False):
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    ow, oh = w, h
    if expand:
        t = math.radians(angle)
        cs, sn = math.cos(t), math.sin(t)
        xs = [cs * (x - w / 2) + sn * (y - h / 2) for x, y in [(0, 0), (w, 0), (0, h), (w, h)]]
        ys = [-sn * (x - w / 2) + cs * (y - h / 2) for x, y in [(0, 0), (w, 0), (0, h), (w, h)]]
        ow = max(1, math.ceil(max(xs) - min(xs) - 1e-6))
        oh = max(1, math.ceil(max(ys) - min(ys) - 1e-6))
        m[0, 2] += (ow - w) / 2
        m[1, 2] += (oh - h) / 2
    return cv2.warpAffine(img, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=(0, 0, 0))


def affine(img, angle, tx, ty, scale, shear_x, shear_y):
    """Kestrel's Affine.matrix: T(c + t) · R(θ) · Sh(φx, φy) · S(s) · T(−c), continuous coordinates."""
    h, w = img.shape[:2]
    cx, cy = w / 2, h / 2

    def mat(a, b, c, d, e, f):
        return np.array([[a, b, c], [d, e, f], [0, 0, 1]], dtype=np.float64)

    t = math.radians(angle)
    m = (mat(1, 0, cx + tx, 0, 1, cy + ty) @ mat(math.cos(t), math.sin(t), 0, -math.sin(t), math.cos(t), 0)
         @ mat(1, math.tan(math.radians(shear_x)), 0, math.tan(math.radians(shear_y)), 1, 0)
         @ mat(scale, 0, 0, 0, scale, 0) @ mat(1, 0, -cx, 0, 1, -cy))
    mi = index_matrix(*m[0], *m[1])
    return cv2.warpAffine(img, mi, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def main():
    os.makedirs(OUT, exist_ok=True)
    photo = np.asarray(Image.open(os.path.join(ROOT, "datasets", "photos", "astronaut.png")).convert("RGB"))
    img = cv2.resize(photo[40:300, 120:460], (61, 47), interpolation=cv2.INTER_AREA)
    save("input.png", img)
    cases = []

    def case(name, out, tolerance=0, min_exact=1.0, **params):
        save(name + ".png", out)
        cases.append({"name": name, "file": name + ".png", "tolerance": tolerance, "min_exact": min_exact,
                      "width": int(out.shape[1]), "height": int(out.shape[0]), "params": params})

    case("hflip", img[:, ::-1])
    case("vflip", img[::-1])
    for k in (1, 2, 3):
        case(f"rot90_k{k}", np.rot90(img, k), k=k)
    case("rotate30_constant", rotate(img, 30, cv2.BORDER_CONSTANT), 1, 0.9, degrees=30, border="constant")
    case("rotate-47_reflect", rotate(img, -47, cv2.BORDER_REFLECT_101), 1, 0.9, degrees=-47, border="reflect")
    case("rotate30_replicate", rotate(img, 30, cv2.BORDER_REPLICATE), 1, 0.9, degrees=30, border="replicate")
    case("rotate30_symmetric", rotate(img, 30, cv2.BORDER_REFLECT), 1, 0.9, degrees=30, border="symmetric")
    case("rotate30_expand", rotate(img, 30, cv2.BORDER_CONSTANT, expand=True), 1, 0.9, degrees=30,
         border="constant", expand=True)
    case("affine", affine(img, 12, 3.5, -2.25, 0.85, 10, -5), 1, 0.9,
         degrees=12, tx=3.5, ty=-2.25, scale=0.85, shear_x=10, shear_y=-5)
    case("resize_nearest_down", cv2.resize(img, (40, 30), interpolation=cv2.INTER_NEAREST_EXACT),
         width=40, height=30, interpolation="nearest")
    case("resize_nearest_up", cv2.resize(img, (97, 71), interpolation=cv2.INTER_NEAREST_EXACT),
         width=97, height=71, interpolation="nearest")
    case("resize_bilinear_down", cv2.resize(img, (40, 30), interpolation=cv2.INTER_LINEAR), 1, 0.8,
         width=40, height=30, interpolation="bilinear")
    case("resize_bilinear_up", cv2.resize(img, (97, 71), interpolation=cv2.INTER_LINEAR), 1, 0.8,
         width=97, height=71, interpolation="bilinear")
    case("resize_area_down", cv2.resize(img, (40, 30), interpolation=cv2.INTER_AREA), 1, 0.9,
         width=40, height=30, interpolation="area")
    case("resize_area_half", cv2.resize(img[:46, :60], (30, 23), interpolation=cv2.INTER_AREA), 1, 0.95,
         crop=[0, 0, 60, 46], width=30, height=23, interpolation="area")
    case("resize_area_up", cv2.resize(img, (97, 71), interpolation=cv2.INTER_AREA), 1, 0.9,
         width=97, height=71, interpolation="area")
    case("crop", img[7:27, 5:35], x=5, y=7, width=30, height=20)
    beyond = np.pad(img, ((0, 10), (0, 10), (0, 0)))[34:54, 40:70]
    case("crop_beyond", beyond, x=40, y=34, width=30, height=20)
    for mode, np_mode in (("constant", "constant"), ("reflect", "reflect"), ("symmetric", "symmetric"),
                          ("replicate", "edge")):
        case(f"pad_{mode}", np.pad(img, ((3, 5), (7, 2), (0, 0)), mode=np_mode), top=3, bottom=5, left=7,
             right=2, border=mode)
    case("brightness_1.3", brightness(img, 1.3), factor=1.3)
    case("brightness_0.55", brightness(img, 0.55), factor=0.55)
    case("contrast_0.6", contrast(img, 0.6), factor=0.6)
    case("contrast_1.5", contrast(img, 1.5), factor=1.5)
    case("brightness_contrast", brightness_contrast(img, 1.15, 0.7), brightness=1.15, contrast=0.7)
    case("saturation_0.4", hue_saturation(img, None, 0.4), factor=0.4)
    case("saturation_1.7", hue_saturation(img, None, 1.7), factor=1.7)
    case("hue_30", hue_saturation(img, 30, None), degrees=30)
    case("hue_-75", hue_saturation(img, -75, None), degrees=-75)
    case("hue_30_opencv", hue_opencv(img, 30), 1, 0.9, degrees=30)
    case("hue_saturation", hue_saturation(img, -20, 1.3), hue=-20, saturation=1.3)
    case("gamma_0.7", gamma(img, 0.7), gamma=0.7)
    case("grayscale", grayscale(img))
    case("blur_5_1.2", cv2.GaussianBlur(img, (5, 5), 1.2, borderType=cv2.BORDER_REFLECT_101), 1, 0.9,
         kernel=5, sigma=1.2)
    case("blur_auto_0.8", cv2.GaussianBlur(img, (0, 0), 0.8, borderType=cv2.BORDER_REFLECT_101), 1, 0.9,
         kernel=0, sigma=0.8)

    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump({"generator": "tools/make_augment_goldens.py", "opencv": cv2.__version__, "numpy": np.__version__,
                   "input": "input.png", "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
