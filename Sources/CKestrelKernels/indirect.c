// Convolution by indirect GEMM (the indirection-buffer scheme of XNNPACK / QNNPACK): the register tile is MR
// output positions × NR output channels; each step p of the sum over (c, ki, kj) loads NR packed weights
// W[p, o0 … o0+NR) as vectors and broadcasts the MR input values straight from the zero-padded image through
// one pointer per position, rows[i][offset[p]]. No column matrix and no packed copy of the image exist: the
// image is read in place, and only the (small) weights are repacked. Each output is one FMA chain over the
// whole depth, so results do not depend on the thread split, and both ISAs agree bit for bit.
#include <stdint.h>
#include <string.h>

#include "kestrel_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "transpose.h"
#define KK_X86 1
#endif

static inline long ic_min(long a, long b) { return a < b ? a : b; }

void kk_pad_planes(const float *x, long planes, long height, long width, long padH, long padW, float *xpad) {
  const long hp = height + 2 * padH, wp = width + 2 * padW;
  for (long q = 0; q < planes; q++) {
    float *d = xpad + q * hp * wp;
    const float *s = x + q * height * width;
    memset(d, 0, (size_t)(padH * wp) * sizeof(float));
    for (long r = 0; r < height; r++) {
      float *row = d + (padH + r) * wp;
      for (long t = 0; t < padW; t++) row[t] = 0;
      memcpy(row + padW, s + r * width, (size_t)width * sizeof(float));
      for (long t = padW + width; t < wp; t++) row[t] = 0;
    }
    memset(d + (padH + height) * wp, 0, (size_t)(padH * wp) * sizeof(float));
  }
}

long kk_indirect_tile(KKISA isa, long *mr) {
  *mr = isa == KK_ISA_AVX512 ? 8 : isa == KK_ISA_AVX2 ? 6 : 0;
  return isa == KK_ISA_AVX512 ? 32 : isa == KK_ISA_AVX2 ? 16 : 0;
}

#ifdef KK_X86
/// A full panel of NR (a multiple of 8) channels, eight taps at a time through 8×8 transposes.
__attribute__((target("avx2"))) static long ic_pack_panel_avx2(const float *w, long k, long nr, float *d) {
  // Eight channels at a time across the whole depth: eight sequential read streams (32 rows at once would
  // touch more pages than the TLB holds when k is large).
  const long full = k / 8 * 8;
  for (long j = 0; j < nr; j += 8)
    for (long p = 0; p < full; p += 8) kk_transpose8x8(w + j * k + p, k, d + p * nr + j, nr);
  return full;
}
#endif

void kk_pack_conv_weights(KKISA isa, const float *w, long cout, long k, long panel0, long panel1, float *dst) {
  long mr;
  const long nr = kk_indirect_tile(isa, &mr);
  if (nr == 0) return;
  for (long o0 = panel0 * nr; o0 < cout && o0 < panel1 * nr; o0 += nr) {
    float *d = dst + o0 * k;
    const long valid = ic_min(nr, cout - o0);
    long p0 = 0;
#ifdef KK_X86
    if (valid == nr && kk_cpu_isa() >= KK_ISA_AVX2) p0 = ic_pack_panel_avx2(w + o0 * k, k, nr, d);
#endif
    for (long p = p0; p < k; p++) {
      long j = 0;
      for (; j < valid; j++) d[p * nr + j] = w[(o0 + j) * k + p];
      for (; j < nr; j++) d[p * nr + j] = 0;
    }
  }
}

#ifdef KK_X86
__attribute__((target("avx512f"))) static void ic_kernel_avx512(long k, const float *const *rows, const long *off,
                                                                const float *restrict B, float *restrict tile) {
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  const float *r4 = rows[4], *r5 = rows[5], *r6 = rows[6], *r7 = rows[7];
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  for (long p = 0; p < k; p++) {
    const long o = off[p];
    const __m512 b0 = _mm512_loadu_ps(B), b1 = _mm512_loadu_ps(B + 16);
    __m512 a;
    a = _mm512_set1_ps(r0[o]); c00 = _mm512_fmadd_ps(a, b0, c00); c01 = _mm512_fmadd_ps(a, b1, c01);
    a = _mm512_set1_ps(r1[o]); c10 = _mm512_fmadd_ps(a, b0, c10); c11 = _mm512_fmadd_ps(a, b1, c11);
    a = _mm512_set1_ps(r2[o]); c20 = _mm512_fmadd_ps(a, b0, c20); c21 = _mm512_fmadd_ps(a, b1, c21);
    a = _mm512_set1_ps(r3[o]); c30 = _mm512_fmadd_ps(a, b0, c30); c31 = _mm512_fmadd_ps(a, b1, c31);
    a = _mm512_set1_ps(r4[o]); c40 = _mm512_fmadd_ps(a, b0, c40); c41 = _mm512_fmadd_ps(a, b1, c41);
    a = _mm512_set1_ps(r5[o]); c50 = _mm512_fmadd_ps(a, b0, c50); c51 = _mm512_fmadd_ps(a, b1, c51);
    a = _mm512_set1_ps(r6[o]); c60 = _mm512_fmadd_ps(a, b0, c60); c61 = _mm512_fmadd_ps(a, b1, c61);
    a = _mm512_set1_ps(r7[o]); c70 = _mm512_fmadd_ps(a, b0, c70); c71 = _mm512_fmadd_ps(a, b1, c71);
    B += 32;
  }
  _mm512_storeu_ps(tile + 0, c00); _mm512_storeu_ps(tile + 16, c01);
  _mm512_storeu_ps(tile + 32, c10); _mm512_storeu_ps(tile + 48, c11);
  _mm512_storeu_ps(tile + 64, c20); _mm512_storeu_ps(tile + 80, c21);
  _mm512_storeu_ps(tile + 96, c30); _mm512_storeu_ps(tile + 112, c31);
  _mm512_storeu_ps(tile + 128, c40); _mm512_storeu_ps(tile + 144, c41);
  _mm512_storeu_ps(tile + 160, c50); _mm512_storeu_ps(tile + 176, c51);
  _mm512_storeu_ps(tile + 192, c60); _mm512_storeu_ps(tile + 208, c61);
  _mm512_storeu_ps(tile + 224, c70); _mm512_storeu_ps(tile + 240, c71);
}

__attribute__((target("avx2,fma"))) static void ic_kernel_avx2(long k, const float *const *rows, const long *off,
                                                               const float *restrict B, float *restrict tile) {
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3], *r4 = rows[4], *r5 = rows[5];
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long p = 0; p < k; p++) {
    const long o = off[p];
    const __m256 b0 = _mm256_loadu_ps(B), b1 = _mm256_loadu_ps(B + 8);
    __m256 a;
    a = _mm256_broadcast_ss(r0 + o); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(r1 + o); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(r2 + o); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(r3 + o); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(r4 + o); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(r5 + o); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    B += 16;
  }
  _mm256_storeu_ps(tile + 0, c00); _mm256_storeu_ps(tile + 8, c01);
  _mm256_storeu_ps(tile + 16, c10); _mm256_storeu_ps(tile + 24, c11);
  _mm256_storeu_ps(tile + 32, c20); _mm256_storeu_ps(tile + 40, c21);
  _mm256_storeu_ps(tile + 48, c30); _mm256_storeu_ps(tile + 56, c31);
  _mm256_storeu_ps(tile + 64, c40); _mm256_storeu_ps(tile + 72, c41);
  _mm256_storeu_ps(tile + 80, c50); _mm256_storeu_ps(tile + 88, c51);
}

/// tile [8 positions × 32 channels] → y, channel-major: eight consecutive positions of one image per channel.
__attribute__((target("avx2"))) static void ic_store8x32(const float *tile, float *y, long l, long channels) {
  for (long jb = 0; jb < 32 && jb < channels; jb += 8) {
    const __m256 r0 = _mm256_loadu_ps(tile + jb), r1 = _mm256_loadu_ps(tile + 32 + jb),
                 r2 = _mm256_loadu_ps(tile + 64 + jb), r3 = _mm256_loadu_ps(tile + 96 + jb),
                 r4 = _mm256_loadu_ps(tile + 128 + jb), r5 = _mm256_loadu_ps(tile + 160 + jb),
                 r6 = _mm256_loadu_ps(tile + 192 + jb), r7 = _mm256_loadu_ps(tile + 224 + jb);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    __m256 o[8];
    o[0] = _mm256_permute2f128_ps(u0, u4, 0x20); o[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    o[2] = _mm256_permute2f128_ps(u2, u6, 0x20); o[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    o[4] = _mm256_permute2f128_ps(u0, u4, 0x31); o[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    o[6] = _mm256_permute2f128_ps(u2, u6, 0x31); o[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    const long n = ic_min(8, channels - jb);
    for (long j = 0; j < n; j++) _mm256_storeu_ps(y + (jb + j) * l, o[j]);
  }
}
#endif

int kk_conv_indirect(const KKIndirectConv *cv, KKISA isa, long pos0, long pos1, long out0, long out1, long *offsets,
                     float *panel) {
#ifdef KK_X86
  if (isa == KK_ISA_NONE || isa > kk_cpu_isa()) return -1;
  long mr;
  const long nr = kk_indirect_tile(isa, &mr);
  const long l = cv->oh * cv->ow, k = cv->channels * cv->kh * cv->kw, plane = cv->hp * cv->wp;
  // offsets[p] for p = (c·kh + ki)·kw + kj: where tap p reads, relative to a position's window corner.
  for (long c = 0, p = 0; c < cv->channels; c++)
    for (long ki = 0; ki < cv->kh; ki++)
      for (long kj = 0; kj < cv->kw; kj++) offsets[p++] = c * plane + ki * cv->dh * cv->wp + kj * cv->dw;
  float tile[8 * 32];
  const float *rows[8];
  if (out0 % nr != 0) return -1;
  for (long o0 = out0; o0 < ic_min(out1, cv->cout); o0 += nr) {
    // Pack this panel of weights, then sweep every position tile past it while it is hot in L2.
    kk_pack_conv_weights(isa, cv->weights + o0 * k, ic_min(nr, cv->cout - o0), k, 0, 1, panel);
    const float *wpanel = panel;
    const long channels = ic_min(nr, ic_min(out1, cv->cout) - o0);
    for (long t0 = pos0; t0 < pos1; t0 += mr) {
      const long count = ic_min(mr, pos1 - t0);
      long img0 = 0, l0 = 0;
      for (long i = 0; i < mr; i++) {
        const long pos = t0 + ic_min(i, count - 1), img = pos / l, at = pos % l;
        const long oy = at / cv->ow, ox = at % cv->ow;
        rows[i] = cv->xpad + img * cv->xpadImageStride + oy * cv->sh * cv->wp + ox * cv->sw;
        if (i == 0) { img0 = img; l0 = at; }
      }
      if (isa == KK_ISA_AVX512) ic_kernel_avx512(k, rows, offsets, wpanel, tile);
      else ic_kernel_avx2(k, rows, offsets, wpanel, tile);
      float *ybase = cv->y + img0 * cv->yImageStride + o0 * l + l0;
      if (isa == KK_ISA_AVX512 && count == 8 && l0 + 8 <= l) {
        ic_store8x32(tile, ybase, l, channels);
      } else {
        for (long i = 0; i < count; i++) {
          const long pos = t0 + i, img = pos / l, at = pos % l;
          float *yp = cv->y + img * cv->yImageStride + o0 * l + at;
          for (long j = 0; j < channels; j++) yp[j * l] = tile[i * nr + j];
        }
      }
    }
  }
  return 0;
#else
  (void)cv; (void)isa; (void)pos0; (void)pos1; (void)out0; (void)out1; (void)offsets; (void)panel;
  return -1;
#endif
}
