#!/usr/bin/env python3
"""Export scikit-learn's copy of the UCI handwritten digits (1,797 8x8 images, values 0..16) to an ImageFolder:
datasets/digits/<digit>/<index>.png, 8-bit gray, value v -> round(v * 255 / 16). Deterministic (no randomness).

Source: "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak, UCI Machine Learning
Repository (https://archive.ics.uci.edu/dataset/80), licence CC BY 4.0; the copy shipped inside scikit-learn
(sklearn.datasets.load_digits) is the UCI test set.

Needs: pip install scikit-learn pillow numpy.   Run from the repository root: python3 tools/export_digits.py
"""
import os
import shutil

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "datasets", "digits")


def main():
    digits = load_digits()
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for c in range(10):
        os.makedirs(os.path.join(OUT, str(c)))
    pixels = np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)
    for i, (img, label) in enumerate(zip(pixels, digits.target)):
        Image.fromarray(img, mode="L").save(os.path.join(OUT, str(label), f"{i:04d}.png"), optimize=True)
    print(f"wrote {len(pixels)} images to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
