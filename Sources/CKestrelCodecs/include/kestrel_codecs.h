// Kestrel's C edge for libpng and libjpeg.
//
// Both libraries report fatal errors by calling a handler that must not return: libjpeg's default
// `error_exit` calls exit(), libpng's calls abort() or longjmp()s. Swift cannot setjmp, so every libpng and
// libjpeg call Kestrel makes goes through this file: each entry point sets its own setjmp, traps the error,
// and returns a status code with the library's message. Nothing here prints or exits.
//
// Decoding is two-phase so the caller can check the pixel limit between the header and the allocation:
//   1. k*_decoder_create + k*_read_header   -> dimensions, no pixel memory allocated
//   2. k*_decode_into(buffer the caller allocated)
// Pixels are interleaved, row-major, `row_stride` bytes apart; 16-bit samples are written in native endianness.

#ifndef KESTREL_CODECS_H
#define KESTREL_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes shared by all entry points.
typedef enum {
    KC_OK = 0,
    KC_ERROR = 1,       ///< the library rejected the data; see the message
    KC_TRUNCATED = 2,   ///< the data ended before the image did
    KC_NOMEM = 3,       ///< an allocation failed
    KC_WARNING = 4,     ///< decoded, but the library reported corrupt data (JPEG); see the message
} kc_status;

enum { KC_MESSAGE_CAPACITY = 256 };

// MARK: - PNG

typedef struct {
    uint32_t width, height;
    int bit_depth;       ///< 1, 2, 4, 8 or 16 as stored
    int color_type;      ///< PNG_COLOR_TYPE_* as stored (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA)
    int interlaced;      ///< 1 for Adam7
    int has_trns;        ///< a tRNS chunk is present (palette alpha or a colour key)
    int out_channels;    ///< channels after expansion: palette -> 3/4, tRNS -> +alpha
    int has_exif;        ///< an eXIf chunk was seen before IDAT
} kc_png_info;

typedef struct kc_png_decoder kc_png_decoder;

kc_png_decoder *kc_png_decoder_create(const uint8_t *data, size_t size);
void kc_png_decoder_destroy(kc_png_decoder *decoder);
/// Reads the signature and every chunk up to the first IDAT.
kc_status kc_png_read_header(kc_png_decoder *decoder, kc_png_info *info);
enum {
    KC_PNG_WANT16 = 1,    ///< keep 16-bit samples (native endianness) for 16-bit files
    KC_PNG_INDICES = 2,   ///< label-map mode: palette indices / gray values unscaled, one 8-bit sample per pixel
};

/// Decodes the image into `pixels`. Default: `info.out_channels` samples per pixel, 8-bit (16-bit sources keep
/// the high byte, as png_set_strip_16 does); KC_PNG_WANT16 keeps 16-bit files' full samples. KC_PNG_INDICES
/// (palette or gray files of up to 8 bits only) writes one byte per pixel: the palette index, or the gray value
/// without scaling low bit depths (a 2-bit gray 3 stays 3).
kc_status kc_png_decode_into(kc_png_decoder *decoder, uint8_t *pixels, size_t row_stride, int flags);
/// The eXIf payload seen by read_header (TIFF structure), or NULL.
const uint8_t *kc_png_exif(kc_png_decoder *decoder, uint32_t *size);
const char *kc_png_message(const kc_png_decoder *decoder);

typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} kc_buffer;

void kc_buffer_free(kc_buffer *buffer);

/// Encodes interleaved pixels (`channels` 1-4, `bit_depth` 8 or 16 native-endian) to a PNG in `out`.
/// `compression` is the zlib level 0-9; `filters` a PNG_FILTER_* mask (0 = libpng's default choice).
/// With `palette` (RGB triplets, `palette_entries` of them, 1-256) a 1-channel 8-bit image is written as a
/// palette PNG whose indices are its samples.
kc_status kc_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride,
                        int channels, int bit_depth, int compression, int filters, int strategy,
                        const uint8_t *palette, int palette_entries,
                        kc_buffer *out, char message[KC_MESSAGE_CAPACITY]);

// MARK: - JPEG

typedef struct {
    uint32_t width, height;
    int components;       ///< in the file: 1, 3 or 4
    int color_space;      ///< J_COLOR_SPACE libjpeg inferred for the file
    int progressive;
    int arithmetic;
    int saw_adobe;        ///< an Adobe APP14 marker is present
    int adobe_transform;  ///< its transform flag (0 none/CMYK, 1 YCbCr, 2 YCCK)
    int restart_interval;
} kc_jpeg_info;

typedef struct kc_jpeg_decoder kc_jpeg_decoder;

kc_jpeg_decoder *kc_jpeg_decoder_create(const uint8_t *data, size_t size);
void kc_jpeg_decoder_destroy(kc_jpeg_decoder *decoder);
kc_status kc_jpeg_read_header(kc_jpeg_decoder *decoder, kc_jpeg_info *info);
/// Decodes into `pixels` with `out_channels` samples per pixel: 1 (gray), 3 (RGB) or 4 (raw CMYK as stored,
/// after YCCK -> CMYK). The IDCT is libjpeg's default (JDCT_ISLOW) with fancy upsampling, as Pillow uses.
/// Returns KC_WARNING when libjpeg reported corrupt data but produced an image (e.g. premature end of file:
/// `truncated` is set); the pixels are valid but partly synthesised.
kc_status kc_jpeg_decode_into(kc_jpeg_decoder *decoder, uint8_t *pixels, size_t row_stride, int out_channels,
                              int *truncated);
const char *kc_jpeg_message(const kc_jpeg_decoder *decoder);
int kc_jpeg_warning_count(const kc_jpeg_decoder *decoder);

typedef struct {
    int quality;          ///< 1-100
    int subsampling;      ///< 444, 422 or 420 (ignored for gray)
    int progressive;
    int optimize_coding;
} kc_jpeg_encode_options;

/// Encodes 8-bit gray (1) or RGB (3) pixels to a baseline or progressive JFIF file in `out`.
kc_status kc_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride, int channels,
                         kc_jpeg_encode_options options, kc_buffer *out, char message[KC_MESSAGE_CAPACITY]);

// MARK: - Colour helpers the decoders need

/// CMYK -> RGB exactly as Pillow's cmyk2rgb (`nk = 255 - k; r = nk - c * nk / 255` rounded as MULDIV255).
/// `inverted` first inverts all four samples (the Adobe convention).
void kc_cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixels, int inverted);

#ifdef __cplusplus
}
#endif

#endif
