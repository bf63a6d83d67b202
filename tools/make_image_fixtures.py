#!/usr/bin/env python3
"""Generate the image-decoding fixtures and their goldens for KestrelImageTests.

Writes Tests/Fixtures/images/*.png|jpg and Tests/Fixtures/images/goldens.json.

Every good fixture records what an independent decoder produced from the very file written:
  width, height, channels   of Kestrel's default decode (palette -> RGB/RGBA, tRNS -> alpha, CMYK -> RGB)
  sha256                    SHA-256 of the 8-bit pixels, HWC row-major, as Pillow decodes them
                            (EXIF orientation applied with ImageOps.exif_transpose)
  sha256_raw                the same without applying the orientation (only for files that carry one)
  sha256_16                 SHA-256 of the full-precision 16-bit samples, little-endian, as pypng decodes
                            them (only for 16-bit PNGs)
Bad fixtures record the error kind Kestrel must report.

Pillow -> Kestrel conventions (each is the same thing Pillow or libpng does):
  mode "1"          -> convert("L") (0/255)
  "I;16*" (16-bit gray) -> high byte (libpng's strip_16; Pillow's RGB;16B unpackers do the same for colour)
  "P"               -> convert("RGBA") when the file has tRNS, else convert("RGB")
  gray/RGB + tRNS colour key -> an alpha channel, 0 where the pixel equals the key (computed here with numpy
                       from Pillow's decoded pixels, because Pillow keeps the key in .info)
  16-bit gray+alpha -> Pillow opens it as RGBA with R = G = B; the golden keeps gray and alpha
  "CMYK"            -> convert("RGB") (Pillow's cmyk2rgb). Pillow assumes Adobe-inverted CMYK for every file;
                       Kestrel inverts only when the file has an Adobe APP14 marker (libjpeg's documented rule),
                       so for the one fixture without that marker the golden un-inverts Pillow's samples first.

Needs: Python 3, pip install -r tools/requirements.txt (Pillow, numpy, pypng, scikit-image for the photos),
gcc and libjpeg-dev (tools/fixtures/jpegwriter.c writes the variants Pillow cannot).
Run from the repository root:  python3 tools/make_image_fixtures.py
"""
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import png  # pypng: writes every PNG colour type / bit depth / interlace, and decodes 16-bit exactly
from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "images")
PHOTOS = os.path.join(ROOT, "datasets", "photos")


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def photo(name, w, h):
    """A crop of a real photo, resized with Pillow (odd sizes exercise the edge handling)."""
    im = Image.open(os.path.join(PHOTOS, name)).convert("RGB")
    return np.asarray(im.resize((w, h), Image.BICUBIC))


def gradient16(w, h, planes, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = [(x * 65535 // max(w - 1, 1)), (y * 65535 // max(h - 1, 1)), ((x + y) * 65535 // (w + h - 2))]
    chans = []
    for p in range(planes):
        noise = rng.integers(0, 256, size=(h, w))
        chans.append(((base[p % 3] ^ noise) & 0xFFFF).astype(np.uint16))
    return np.stack(chans, axis=-1)


def write_pypng(path, arr, bitdepth, greyscale, alpha, palette=None, interlace=False, trns=None, chunk_limit=2**20):
    h, w = arr.shape[:2]
    planes = 1 if arr.ndim == 2 else arr.shape[2]
    kw = dict(width=w, height=h, bitdepth=bitdepth, interlace=interlace, chunk_limit=chunk_limit)
    if palette is not None:
        kw["palette"] = palette
    else:
        kw["greyscale"] = greyscale
        kw["alpha"] = alpha
    if trns is not None:
        kw["transparent"] = trns
    with open(path, "wb") as f:
        png.Writer(**kw).write(f, arr.reshape(h, w * planes).tolist())


def pil_decoded(path):
    """Pillow's pixels in Kestrel's channel conventions (see the module docstring); raw = no EXIF transpose."""
    def convert(im):
        info = im.info
        if im.mode == "1":
            return np.asarray(im.convert("L"))
        if im.mode.startswith("I;16"):
            return (np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8)
        if im.mode == "P":
            return np.asarray(im.convert("RGBA" if "transparency" in info else "RGB"))
        if im.mode in ("L", "RGB") and "transparency" in info:
            a = np.asarray(im)
            key = info["transparency"]
            mask = (a == key) if im.mode == "L" else np.all(a == np.array(key, dtype=a.dtype), axis=-1)
            alpha = np.where(mask, 0, 255).astype(np.uint8)
            return np.dstack([a, alpha])
        if im.mode == "CMYK":
            return np.asarray(im.convert("RGB"))
        a = np.asarray(im)
        if im.mode == "RGBA" and ga_png:
            # Pillow widens 16-bit gray+alpha to RGBA (R = G = B = gray); Kestrel keeps gray+alpha.
            assert np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 0], a[..., 2])
            return np.ascontiguousarray(a[..., [0, 3]])
        return a

    with open(path, "rb") as f:
        head = f.read(26)
    ga_png = head.startswith(b"\x89PNG") and head[25] == 4
    with Image.open(path) as im:
        im.load()
        raw = convert(im)
        upright = convert(ImageOps.exif_transpose(im))
    return upright, raw


def record(goldens, name, path, **extra):
    upright, raw = pil_decoded(path)
    h, w = upright.shape[:2]
    entry = dict(file=name, width=int(w), height=int(h), channels=1 if upright.ndim == 2 else int(upright.shape[2]),
                 sha256=sha(upright))
    if not np.array_equal(raw, upright):
        entry["sha256_raw"] = sha(raw)
    entry.update(extra)
    goldens.append(entry)
    return entry


def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_chunks(data):
    """[(tag, payload)] of a PNG."""
    out, i = [], 8
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        out.append((data[i + 4:i + 8], data[i + 8:i + 8 + n]))
        i += 12 + n
    return out


def jpegwriter():
    exe = os.path.join(tempfile.gettempdir(), "kestrel-jpegwriter")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(ROOT, "tools", "fixtures", "jpegwriter.c"), "-ljpeg"],
                   check=True)
    return exe


def exif_with_orientation(o):
    im = Image.new("RGB", (1, 1))
    exif = im.getexif()
    exif[0x0112] = o
    return exif.tobytes()


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    goldens, bad = [], []
    p = lambda name: os.path.join(OUT, name)

    rgb = photo("coffee.png", 37, 29)          # odd sizes on purpose
    rgb_b = photo("astronaut.png", 45, 31)
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    alpha = np.tile(np.linspace(0, 255, 37).astype(np.uint8), (29, 1))

    # --- PNG: every colour type and bit depth --------------------------------------------------------------
    for depth in (1, 2, 4, 8):
        g = (gray.astype(np.int32) >> (8 - depth)).astype(np.uint8)
        write_pypng(p(f"png_gray{depth}.png"), g, depth, True, False)
        record(goldens, f"png_gray{depth}.png", p(f"png_gray{depth}.png"))
        write_pypng(p(f"png_gray{depth}_interlaced.png"), g, depth, True, False, interlace=True)
        record(goldens, f"png_gray{depth}_interlaced.png", p(f"png_gray{depth}_interlaced.png"))
    write_pypng(p("png_gray8_trns.png"), gray, 8, True, False, trns=int(gray[3, 5]))
    record(goldens, "png_gray8_trns.png", p("png_gray8_trns.png"))
    write_pypng(p("png_ga8.png"), np.dstack([gray, alpha]), 8, True, True)
    record(goldens, "png_ga8.png", p("png_ga8.png"))
    write_pypng(p("png_rgb8.png"), rgb, 8, False, False)
    record(goldens, "png_rgb8.png", p("png_rgb8.png"))
    write_pypng(p("png_rgb8_trns.png"), rgb, 8, False, False, trns=tuple(int(v) for v in rgb[10, 10]))
    record(goldens, "png_rgb8_trns.png", p("png_rgb8_trns.png"))
    write_pypng(p("png_rgba8.png"), np.dstack([rgb, alpha]), 8, False, True)
    record(goldens, "png_rgba8.png", p("png_rgba8.png"))
    write_pypng(p("png_rgb8_interlaced.png"), rgb_b, 8, False, False, interlace=True)
    record(goldens, "png_rgb8_interlaced.png", p("png_rgb8_interlaced.png"))
    # The same zlib stream split over many IDAT chunks of 97 bytes each.
    write_pypng(p("png_rgb8_multi_idat.png"), rgb_b, 8, False, False)
    parts = png_chunks(open(p("png_rgb8_multi_idat.png"), "rb").read())
    stream = b"".join(d for t, d in parts if t == b"IDAT")
    split = [chunk(b"IDAT", stream[i:i + 97]) for i in range(0, len(stream), 97)]
    with open(p("png_rgb8_multi_idat.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", parts[0][1]) + b"".join(split) + chunk(b"IEND", b""))
    n_idat = len(split)
    assert n_idat > 10, n_idat
    record(goldens, "png_rgb8_multi_idat.png", p("png_rgb8_multi_idat.png"), idat_chunks=n_idat)

    # 16-bit: the 8-bit golden from Pillow (high byte), the 16-bit golden from pypng's decoder.
    for name, planes, grey, has_alpha, interlace in [
        ("png_gray16.png", 1, True, False, False), ("png_ga16.png", 2, True, True, False),
        ("png_rgb16.png", 3, False, False, False), ("png_rgba16.png", 4, False, True, False),
        ("png_rgba16_interlaced.png", 4, False, True, True)]:
        src = gradient16(23, 17, planes, seed=planes)
        write_pypng(p(name), src if planes > 1 else src[:, :, 0], 16, grey, has_alpha, interlace=interlace)
        w, h, rows, info = png.Reader(filename=p(name)).asDirect()
        full = np.array([list(r) for r in rows], dtype="<u2").reshape(h, w, info["planes"])
        assert np.array_equal(full, src), name
        record(goldens, name, p(name), sha256_16=sha(full.astype("<u2")))

    # Palette, 1/2/4/8 bits, with and without tRNS.
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        pal_img = Image.fromarray(rgb).quantize(colors=n, method=Image.Quantize.MEDIANCUT)
        idx = np.asarray(pal_img)
        pal = np.array(pal_img.getpalette()[:3 * n]).reshape(-1, 3)
        palette = [tuple(int(v) for v in pal[i]) for i in range(n)]
        write_pypng(p(f"png_pal{depth}.png"), idx, depth, False, False, palette=palette)
        record(goldens, f"png_pal{depth}.png", p(f"png_pal{depth}.png"))
        palette_a = [c + (int(255 * i / max(n - 1, 1)),) for i, c in enumerate(palette)]
        write_pypng(p(f"png_pal{depth}_trns.png"), idx, depth, False, False, palette=palette_a,
                    interlace=(depth == 4))
        record(goldens, f"png_pal{depth}_trns.png", p(f"png_pal{depth}_trns.png"))

    # Tiny and thin images.
    write_pypng(p("png_1x1.png"), rgb[:1, :1], 8, False, False)
    record(goldens, "png_1x1.png", p("png_1x1.png"))
    write_pypng(p("png_row.png"), np.tile(rgb[:1], (1, 9, 1)).reshape(1, -1, 3)[:, :301], 8, False, False)
    record(goldens, "png_row.png", p("png_row.png"))

    # PNG with an eXIf chunk saying "rotate 90° clockwise".
    Image.fromarray(rgb_b).save(p("png_exif_orient6.png"), exif=exif_with_orientation(6))
    record(goldens, "png_exif_orient6.png", p("png_exif_orient6.png"), orientation=6)

    # --- JPEG ---------------------------------------------------------------------------------------------
    jpg = lambda name, arr, **kw: Image.fromarray(arr).save(p(name), "JPEG", **kw)
    rgb_j = photo("chelsea.png", 67, 45)
    jpg("jpeg_420.jpg", rgb_j, quality=90)
    jpg("jpeg_422.jpg", rgb_j, quality=90, subsampling=1)
    jpg("jpeg_444.jpg", rgb_j, quality=95, subsampling=0)
    jpg("jpeg_progressive.jpg", rgb_j, quality=85, progressive=True)
    jpg("jpeg_optimized.jpg", rgb_j, quality=75, optimize=True)
    jpg("jpeg_gray.jpg", np.asarray(Image.fromarray(rgb_j).convert("L")), quality=90)
    jpg("jpeg_gray_progressive.jpg", np.asarray(Image.fromarray(rgb_j).convert("L")), quality=90, progressive=True)
    jpg("jpeg_1x1.jpg", rgb_j[:1, :1], quality=90)
    for name in ("jpeg_420.jpg", "jpeg_422.jpg", "jpeg_444.jpg", "jpeg_progressive.jpg", "jpeg_optimized.jpg",
                 "jpeg_gray.jpg", "jpeg_gray_progressive.jpg", "jpeg_1x1.jpg"):
        record(goldens, name, p(name))
    # CMYK through Pillow: libjpeg writes an Adobe marker and Pillow stores Adobe-inverted samples.
    cmyk = Image.fromarray(rgb_j).convert("CMYK")
    cmyk.save(p("jpeg_cmyk_adobe.jpg"), "JPEG", quality=90)
    record(goldens, "jpeg_cmyk_adobe.jpg", p("jpeg_cmyk_adobe.jpg"))
    # Variants Pillow cannot write.
    exe = jpegwriter()
    def jw(name, arr, comps, quality, *opts):
        h, w = arr.shape[:2]
        subprocess.run([exe, p(name), str(w), str(h), str(comps), str(quality), *opts],
                       input=np.ascontiguousarray(arr).tobytes(), check=True)
    jw("jpeg_restart.jpg", rgb_j, 3, 90, "--restart", "1")
    jw("jpeg_restart_progressive.jpg", rgb_j, 3, 90, "--restart", "2", "--progressive")
    jw("jpeg_arithmetic.jpg", rgb_j, 3, 90, "--arith")
    inverted_cmyk = 255 - np.asarray(cmyk)  # what Adobe's convention stores
    jw("jpeg_ycck.jpg", inverted_cmyk, 4, 90, "--ycck")
    for name in ("jpeg_restart.jpg", "jpeg_restart_progressive.jpg", "jpeg_arithmetic.jpg", "jpeg_ycck.jpg"):
        record(goldens, name, p(name))
    # CMYK without an Adobe marker: plain (non-inverted) samples. Pillow would invert them anyway.
    jw("jpeg_cmyk_noadobe.jpg", np.asarray(cmyk), 4, 90, "--no-adobe")
    with Image.open(p("jpeg_cmyk_noadobe.jpg")) as im:
        assert "adobe" not in im.info
        stored = 255 - np.asarray(im).astype(np.int32)  # undo Pillow's unconditional inversion
    nk = 255 - stored[..., 3:4]
    t = stored[..., :3] * nk + 128
    expect = (nk - (((t >> 8) + t) >> 8)).astype(np.uint8)  # Pillow's cmyk2rgb on the stored samples
    goldens.append(dict(file="jpeg_cmyk_noadobe.jpg", width=int(expect.shape[1]), height=int(expect.shape[0]),
                        channels=3, sha256=sha(expect),
                        note="differs from Pillow on purpose: no Adobe marker, so the samples are not inverted"))

    # EXIF orientation 1..8 on the same pixels.
    for o in range(1, 9):
        name = f"jpeg_exif_orient{o}.jpg"
        jpg(name, rgb_j, quality=90, exif=exif_with_orientation(o))
        record(goldens, name, p(name), orientation=o)

    # --- Bad files ----------------------------------------------------------------------------------------
    good_png = open(p("png_rgb8.png"), "rb").read()
    good_jpg = open(p("jpeg_420.jpg"), "rb").read()
    def bad_file(name, data, kind):
        open(p(name), "wb").write(data)
        bad.append(dict(file=name, error=kind))
    bad_file("bad_empty.png", b"", "empty")
    bad_file("bad_text.png", b"This is not an image, just text saved with a .png name.\n", "unknownFormat")
    bad_file("bad_gif_named.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "unknownFormat")
    bad_file("bad_truncated.png", good_png[: len(good_png) * 2 // 3], "truncated")
    bad_file("bad_signature_only.png", good_png[:8], "truncated")
    # Flip one byte inside the IDAT payload, keep the old CRC -> CRC error.
    chunks = png_chunks(good_png)
    idat_at = good_png.index(b"IDAT") + 4 + 20
    crc_bad = bytearray(good_png)
    crc_bad[idat_at] ^= 0x55
    bad_file("bad_crc.png", bytes(crc_bad), "corrupt")
    # Damage the zlib stream but give the chunk a correct CRC -> zlib error.
    body = b"".join(chunk(t, d) for t, d in chunks if t == b"IHDR")
    idat = b"".join(d for t, d in chunks if t == b"IDAT")
    broken = idat[:2] + bytes([0xFF] * 40) + idat[42:]
    bad_file("bad_zlib.png", good_png[:8] + body + chunk(b"IDAT", broken) + chunk(b"IEND", b""), "corrupt")
    # Headers that claim enormous images, with a tiny valid-CRC body.
    def huge_png(w, h):
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    bad_file("bad_huge_100000.png", huge_png(100000, 100000), "tooLarge")
    bad_file("bad_huge_60000.png", huge_png(60000, 60000), "tooLarge")
    sof = good_jpg.index(b"\xff\xc0")
    huge_jpg = bytearray(good_jpg)
    huge_jpg[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width
    bad_file("bad_huge_60000.jpg", bytes(huge_jpg), "tooLarge")
    bad_file("bad_truncated.jpg", good_jpg[: len(good_jpg) * 3 // 5], "truncated")
    bad_file("bad_truncated_header.jpg", good_jpg[:sof + 4], "truncated")
    bad_file("bad_garbage.jpg", b"\xff\xd8\xff" + bytes(np.random.default_rng(7).integers(0, 256, 300, dtype=np.uint8)),
             "corrupt")

    with open(os.path.join(OUT, "goldens.json"), "w") as f:
        json.dump(dict(generator="tools/make_image_fixtures.py",
                       pillow=Image.__version__ if hasattr(Image, "__version__") else __import__("PIL").__version__,
                       pypng=png.__version__, numpy=np.__version__, good=goldens, bad=bad), f, indent=1)
    print(f"{len(goldens)} good and {len(bad)} bad fixtures in {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
