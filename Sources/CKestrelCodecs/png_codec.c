// libpng behind setjmp: see kestrel_codecs.h for the contract.

#include "kestrel_codecs.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct kc_png_decoder {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t offset;
    int hit_eof;        // our read callback ran out of bytes
    int header_read;
    uint8_t *exif;      // copy of the eXIf payload, if any
    uint32_t exif_size;
    char message[KC_MESSAGE_CAPACITY];
};

static void kc_copy_message(char *dst, const char *src) {
    if (!src) src = "unknown error";
    strncpy(dst, src, KC_MESSAGE_CAPACITY - 1);
    dst[KC_MESSAGE_CAPACITY - 1] = 0;
}

static void kc_png_error(png_structp png, png_const_charp message) {
    kc_png_decoder *d = (kc_png_decoder *)png_get_error_ptr(png);
    if (d) kc_copy_message(d->message, message);
    png_longjmp(png, 1);
}

// Warnings (bad ancillary CRC, unknown chunk trouble) do not stop the decode; libpng has already dropped the
// offending ancillary chunk. They are not printed: library code does not write to the user's terminal.
static void kc_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void kc_png_read(png_structp png, png_bytep out, size_t length) {
    kc_png_decoder *d = (kc_png_decoder *)png_get_io_ptr(png);
    if (length > d->size - d->offset) {
        d->hit_eof = 1;
        png_error(png, "file ends before the image does");
    }
    memcpy(out, d->data + d->offset, length);
    d->offset += length;
}

kc_png_decoder *kc_png_decoder_create(const uint8_t *data, size_t size) {
    kc_png_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->data = data;
    d->size = size;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, kc_png_error, kc_png_warning);
    if (!d->png) {
        free(d);
        return NULL;
    }
    d->info = png_create_info_struct(d->png);
    if (!d->info) {
        png_destroy_read_struct(&d->png, NULL, NULL);
        free(d);
        return NULL;
    }
    png_set_read_fn(d->png, d, kc_png_read);
    // The caller enforces its own pixel limit after the header; libpng's default 1,000,000 x 1,000,000 cap
    // stays as a second line of defence. Ancillary chunks are capped at 8 MB (libpng's default) so a huge
    // iCCP or zTXt cannot balloon memory.
    png_set_chunk_malloc_max(d->png, 8u << 20);
    return d;
}

void kc_png_decoder_destroy(kc_png_decoder *d) {
    if (!d) return;
    png_destroy_read_struct(&d->png, &d->info, NULL);
    free(d->exif);
    free(d);
}

const char *kc_png_message(const kc_png_decoder *d) { return d->message; }

const uint8_t *kc_png_exif(kc_png_decoder *d, uint32_t *size) {
    *size = d->exif_size;
    return d->exif;
}

static kc_status kc_png_failure(kc_png_decoder *d) { return d->hit_eof ? KC_TRUNCATED : KC_ERROR; }

kc_status kc_png_read_header(kc_png_decoder *d, kc_png_info *out) {
    memset(out, 0, sizeof *out);
    if (setjmp(png_jmpbuf(d->png))) return kc_png_failure(d);
    png_read_info(d->png, d->info);
    d->header_read = 1;
    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(d->png, d->info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    out->width = w;
    out->height = h;
    out->bit_depth = depth;
    out->color_type = color;
    out->interlaced = interlace == PNG_INTERLACE_ADAM7;
    out->has_trns = png_get_valid(d->png, d->info, PNG_INFO_tRNS) != 0;
    int channels;
    switch (color) {
    case PNG_COLOR_TYPE_GRAY: channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
    case PNG_COLOR_TYPE_RGB: channels = 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
    case PNG_COLOR_TYPE_PALETTE: channels = 3; break;
    default: kc_copy_message(d->message, "unknown PNG colour type"); return KC_ERROR;
    }
    if (out->has_trns && (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_RGB ||
                          color == PNG_COLOR_TYPE_PALETTE))
        channels += 1;
    out->out_channels = channels;
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 exif_size = 0;
    if (png_get_eXIf_1(d->png, d->info, &exif_size, &exif) && exif && exif_size > 0) {
        d->exif = malloc(exif_size);
        if (d->exif) {
            memcpy(d->exif, exif, exif_size);
            d->exif_size = exif_size;
            out->has_exif = 1;
        }
    }
#endif
    return KC_OK;
}

kc_status kc_png_decode_into(kc_png_decoder *d, uint8_t *pixels, size_t row_stride, int flags) {
    const int want16 = (flags & KC_PNG_WANT16) != 0;
    const int indices = (flags & KC_PNG_INDICES) != 0;
    if (!d->header_read) {
        kc_copy_message(d->message, "read_header must run first");
        return KC_ERROR;
    }
    png_bytep *rows = NULL;
    // `rows` is written after setjmp; volatile keeps its value visible after a longjmp so it can be freed.
    png_bytep *volatile rows_v = NULL;
    if (setjmp(png_jmpbuf(d->png))) {
        free(rows_v);
        return kc_png_failure(d);
    }
    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(d->png, d->info, &w, &h, &depth, &color, &interlace, NULL, NULL);

    if (indices) {
        if (!(color == PNG_COLOR_TYPE_PALETTE || (color == PNG_COLOR_TYPE_GRAY && depth <= 8))) {
            kc_copy_message(d->message, "a label map must be a palette or gray PNG of at most 8 bits");
            return KC_ERROR;
        }
        png_set_packing(d->png);  // 1/2/4-bit samples to one byte each, values unchanged
    } else {
        // Palette -> RGB, gray 1/2/4 -> 8 (bit replication: 2-bit 1 -> 0x55), tRNS -> alpha channel.
        png_set_expand(d->png);
    }
    if (depth == 16) {
        if (want16) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            png_set_swap(d->png);
#endif
        } else {
            png_set_strip_16(d->png);  // keep the high byte, as Pillow does
        }
    }
    if (interlace == PNG_INTERLACE_ADAM7) png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);

    rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (!rows) {
        kc_copy_message(d->message, "out of memory for row pointers");
        return KC_NOMEM;
    }
    rows_v = rows;
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * row_stride;
    png_read_image(d->png, rows);
    // Read to IEND so a bad CRC or truncation after the last IDAT is still noticed.
    png_read_end(d->png, NULL);
    free(rows);
    rows_v = NULL;
    return KC_OK;
}

// MARK: - Encoding

void kc_buffer_free(kc_buffer *b) {
    free(b->data);
    b->data = NULL;
    b->size = b->capacity = 0;
}

static int kc_buffer_append(kc_buffer *b, const uint8_t *bytes, size_t n) {
    if (b->size + n > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 65536;
        while (cap < b->size + n) cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) return 0;
        b->data = p;
        b->capacity = cap;
    }
    memcpy(b->data + b->size, bytes, n);
    b->size += n;
    return 1;
}

typedef struct {
    kc_buffer *out;
    char *message;
} kc_png_writer;

static void kc_png_write_error(png_structp png, png_const_charp message) {
    kc_png_writer *w = (kc_png_writer *)png_get_error_ptr(png);
    if (w) kc_copy_message(w->message, message);
    png_longjmp(png, 1);
}

static void kc_png_write(png_structp png, png_bytep data, size_t length) {
    kc_png_writer *w = (kc_png_writer *)png_get_io_ptr(png);
    if (!kc_buffer_append(w->out, data, length)) png_error(png, "out of memory for the encoded PNG");
}

static void kc_png_flush(png_structp png) { (void)png; }

kc_status kc_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride, int channels,
                        int bit_depth, int compression, int filters, int strategy, const uint8_t *palette,
                        int palette_entries, kc_buffer *out, char message[KC_MESSAGE_CAPACITY]) {
    message[0] = 0;
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                 PNG_COLOR_TYPE_RGB_ALPHA};
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16)) {
        kc_copy_message(message, "PNG encoding needs 1-4 channels of 8 or 16 bits");
        return KC_ERROR;
    }
    if (palette && (channels != 1 || bit_depth != 8 || palette_entries < 1 || palette_entries > 256)) {
        kc_copy_message(message, "a palette PNG needs 1 channel of 8 bits and 1-256 palette entries");
        return KC_ERROR;
    }
    kc_png_writer writer = {out, message};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, kc_png_write_error, kc_png_warning);
    if (!png) return KC_NOMEM;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return KC_NOMEM;
    }
    png_bytep *volatile rows_v = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows_v);
        png_destroy_write_struct(&png, &info);
        return KC_ERROR;
    }
    png_set_write_fn(png, &writer, kc_png_write, kc_png_flush);
    png_set_IHDR(png, info, width, height, bit_depth, palette ? PNG_COLOR_TYPE_PALETTE : types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette) {
        png_color colors[256];
        for (int i = 0; i < palette_entries; i++) {
            colors[i].red = palette[3 * i];
            colors[i].green = palette[3 * i + 1];
            colors[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, palette_entries);
    }
    png_set_compression_level(png, compression);
    if (strategy >= 0) png_set_compression_strategy(png, strategy);
    if (filters) png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_write_info(png, info);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bit_depth == 16) png_set_swap(png);
#endif
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)(height ? height : 1));
    if (!rows) {
        png_destroy_write_struct(&png, &info);
        return KC_NOMEM;
    }
    rows_v = rows;
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)(pixels + (size_t)y * row_stride);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    rows_v = NULL;
    png_destroy_write_struct(&png, &info);
    return KC_OK;
}

// MARK: - Colour

void kc_cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixels, int inverted) {
    const uint8_t flip = inverted ? 0xFF : 0;
    for (size_t i = 0; i < pixels; i++) {
        int c = cmyk[0] ^ flip, m = cmyk[1] ^ flip, y = cmyk[2] ^ flip, k = cmyk[3] ^ flip;
        int nk = 255 - k, t;
        // MULDIV255(a, b) = round(a * b / 255) computed as Pillow does: t = a*b + 128; ((t >> 8) + t) >> 8
        t = c * nk + 128; rgb[0] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
        t = m * nk + 128; rgb[1] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
        t = y * nk + 128; rgb[2] = (uint8_t)(nk - (((t >> 8) + t) >> 8));
        cmyk += 4;
        rgb += 3;
    }
}
