// libjpeg behind setjmp: see kestrel_codecs.h for the contract.

#include "kestrel_codecs.h"

#include <stdio.h>  // jpeglib.h needs FILE and size_t declared first
#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int warnings;
    int truncated;  // libjpeg warned JWRN_JPEG_EOF: the data ended and it padded the image
    char message[KC_MESSAGE_CAPACITY];
} kc_jpeg_error;

struct kc_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    kc_jpeg_error err;
    const uint8_t *data;
    size_t size;
    int header_read;
};

static void kc_jpeg_error_exit(j_common_ptr cinfo) {
    kc_jpeg_error *e = (kc_jpeg_error *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    strncpy(e->message, buffer, KC_MESSAGE_CAPACITY - 1);
    e->message[KC_MESSAGE_CAPACITY - 1] = 0;
    longjmp(e->jump, 1);
}

// Level -1 is a warning about corrupt data; levels >= 0 are trace messages. Keep the first warning's text and
// count them all; print nothing.
static void kc_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    kc_jpeg_error *e = (kc_jpeg_error *)cinfo->err;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) e->truncated = 1;
    if (e->warnings++ == 0 || (cinfo->err->msg_code == JWRN_JPEG_EOF)) {
        char buffer[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, buffer);
        strncpy(e->message, buffer, KC_MESSAGE_CAPACITY - 1);
        e->message[KC_MESSAGE_CAPACITY - 1] = 0;
    }
    cinfo->err->num_warnings++;
}

static void kc_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void kc_jpeg_install_errors(kc_jpeg_error *e, j_common_ptr cinfo) {
    memset(e, 0, sizeof *e);
    cinfo->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = kc_jpeg_error_exit;
    e->pub.emit_message = kc_jpeg_emit_message;
    e->pub.output_message = kc_jpeg_output_message;
}

kc_jpeg_decoder *kc_jpeg_decoder_create(const uint8_t *data, size_t size) {
    kc_jpeg_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->data = data;
    d->size = size;
    kc_jpeg_install_errors(&d->err, (j_common_ptr)&d->cinfo);
    if (setjmp(d->err.jump)) {
        free(d);
        return NULL;
    }
    jpeg_create_decompress(&d->cinfo);
    return d;
}

void kc_jpeg_decoder_destroy(kc_jpeg_decoder *d) {
    if (!d) return;
    // jpeg_destroy_decompress cannot fail, but guard it like every other call.
    if (!setjmp(d->err.jump)) jpeg_destroy_decompress(&d->cinfo);
    free(d);
}

const char *kc_jpeg_message(const kc_jpeg_decoder *d) { return d->err.message; }
int kc_jpeg_warning_count(const kc_jpeg_decoder *d) { return d->err.warnings; }

kc_status kc_jpeg_read_header(kc_jpeg_decoder *d, kc_jpeg_info *out) {
    memset(out, 0, sizeof *out);
    // An error after libjpeg hit the end of the data (it then feeds a fake EOI marker) is a truncation.
    if (setjmp(d->err.jump)) return d->err.truncated ? KC_TRUNCATED : KC_ERROR;
    jpeg_mem_src(&d->cinfo, d->data, (unsigned long)d->size);
    // An EOF inside the header is an error, not a warning with padding: there is no image to pad.
    int r = jpeg_read_header(&d->cinfo, TRUE);
    if (r != JPEG_HEADER_OK || d->err.truncated) {
        if (!d->err.message[0] || d->err.truncated)
            strncpy(d->err.message, "file ends inside the JPEG header", KC_MESSAGE_CAPACITY - 1);
        return KC_TRUNCATED;
    }
    d->header_read = 1;
    struct jpeg_decompress_struct *c = &d->cinfo;
    out->width = c->image_width;
    out->height = c->image_height;
    out->components = c->num_components;
    out->color_space = c->jpeg_color_space;
    out->progressive = c->progressive_mode;
    out->arithmetic = c->arith_code;
    out->saw_adobe = c->saw_Adobe_marker;
    out->adobe_transform = c->Adobe_transform;
    out->restart_interval = (int)c->restart_interval;
    return KC_OK;
}

kc_status kc_jpeg_decode_into(kc_jpeg_decoder *d, uint8_t *pixels, size_t row_stride, int out_channels,
                              int *truncated) {
    *truncated = 0;
    if (!d->header_read) {
        strncpy(d->err.message, "read_header must run first", KC_MESSAGE_CAPACITY - 1);
        return KC_ERROR;
    }
    if (setjmp(d->err.jump)) return d->err.truncated ? KC_TRUNCATED : KC_ERROR;
    struct jpeg_decompress_struct *c = &d->cinfo;
    switch (out_channels) {
    case 1: c->out_color_space = JCS_GRAYSCALE; break;
    case 3: c->out_color_space = JCS_RGB; break;
    case 4: c->out_color_space = JCS_CMYK; break;
    default: strncpy(d->err.message, "unsupported output channel count", KC_MESSAGE_CAPACITY - 1); return KC_ERROR;
    }
    // Pillow's settings: accurate integer IDCT, fancy (triangular) upsampling, no block smoothing surprises.
    c->dct_method = JDCT_ISLOW;
    c->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(c);
    while (c->output_scanline < c->output_height) {
        JSAMPROW rows[4];
        JDIMENSION n = 0;
        for (; n < 4 && c->output_scanline + n < c->output_height; n++)
            rows[n] = pixels + (size_t)(c->output_scanline + n) * row_stride;
        jpeg_read_scanlines(c, rows, n);
    }
    jpeg_finish_decompress(c);
    *truncated = d->err.truncated;
    return d->err.warnings ? KC_WARNING : KC_OK;
}

// MARK: - Encoding

typedef struct {
    struct jpeg_compress_struct cinfo;
    kc_jpeg_error err;
    unsigned char *buffer;  // owned by us once jpeg_mem_dest has allocated it
    unsigned long size;
} kc_jpeg_encoder;

kc_status kc_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, size_t row_stride, int channels,
                         kc_jpeg_encode_options options, kc_buffer *out, char message[KC_MESSAGE_CAPACITY]) {
    message[0] = 0;
    if (channels != 1 && channels != 3) {
        strncpy(message, "JPEG encoding needs 1 (gray) or 3 (RGB) channels", KC_MESSAGE_CAPACITY - 1);
        return KC_ERROR;
    }
    // Everything libjpeg touches lives on the heap behind a pointer that does not change after setjmp, so its
    // state is well defined after a longjmp.
    kc_jpeg_encoder *const e = calloc(1, sizeof *e);
    if (!e) return KC_NOMEM;
    kc_jpeg_install_errors(&e->err, (j_common_ptr)&e->cinfo);
    if (setjmp(e->err.jump)) {
        strncpy(message, e->err.message, KC_MESSAGE_CAPACITY - 1);
        message[KC_MESSAGE_CAPACITY - 1] = 0;
        jpeg_destroy_compress(&e->cinfo);
        free(e->buffer);
        free(e);
        return KC_ERROR;
    }
    jpeg_create_compress(&e->cinfo);
    struct jpeg_compress_struct *c = &e->cinfo;
    jpeg_mem_dest(c, &e->buffer, &e->size);
    c->image_width = width;
    c->image_height = height;
    c->input_components = channels;
    c->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, options.quality, TRUE);
    if (channels == 3) {
        int h = 2, v = 2;  // 4:2:0
        if (options.subsampling == 444) h = v = 1;
        else if (options.subsampling == 422) v = 1;
        c->comp_info[0].h_samp_factor = h;
        c->comp_info[0].v_samp_factor = v;
        c->comp_info[1].h_samp_factor = c->comp_info[1].v_samp_factor = 1;
        c->comp_info[2].h_samp_factor = c->comp_info[2].v_samp_factor = 1;
    }
    c->optimize_coding = options.optimize_coding ? TRUE : FALSE;
    if (options.progressive) jpeg_simple_progression(c);
    jpeg_start_compress(c, TRUE);
    while (c->next_scanline < c->image_height) {
        JSAMPROW rows[16];
        JDIMENSION n = 0;
        for (; n < 16 && c->next_scanline + n < c->image_height; n++)
            rows[n] = (JSAMPROW)(pixels + (size_t)(c->next_scanline + n) * row_stride);
        jpeg_write_scanlines(c, rows, n);
    }
    jpeg_finish_compress(c);
    jpeg_destroy_compress(c);
    // Hand the caller a kc_buffer it frees with kc_buffer_free (both sides use malloc/free).
    out->data = e->buffer;
    out->size = out->capacity = (size_t)e->size;
    free(e);
    return KC_OK;
}
