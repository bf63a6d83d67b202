// Convolution by indirect GEMM (the indirection-buffer scheme of XNNPACK / QNNPACK): the register tile is MR
// output positions × NR output channels; each step p of the sum over (c, ki, kj) loads NR packed weights
// W[p, o0 … o0+NR) as vectors and broadcasts the MR input values straight from the zero-padded image through
// one pointer per position, rows[i][offset[p]]. No column matrix and no packed copy of the image exist: the
// image is read in place, and only the (small) weights are repacked. Each output is one FMA chain over the
// whole depth, so results do not depend on the thread split, and both ISAs agree bit for bit.
#include <stdint.h>
#include <string.h>

#include "kestrel_kernels.h"
#include "epilogue.h"
#include "rows.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "transpose.h"
#define KK_X86 1
#endif

static inline long ic_min(long a, long b) { return a < b ? a : b; }
static inline long ic_max(long a, long b) { return a > b ? a : b; }

__attribute__((always_inline)) static inline void kk_pad_planes_rows(const float *x, long planes, long height,
                                                                     long width, long padH, long padW, float *xpad,
                                                                     int avx512) {
  const long hp = height + 2 * padH, wp = width + 2 * padW;
  const float *end = xpad + planes * hp * wp;
  for (long q = 0; q < planes; q++) {
    float *d = xpad + q * hp * wp;
    const float *s = x + q * height * width;
    kk_row(avx512, d, NULL, 0, 0, padH * wp, end);
    for (long r = 0; r < height; r++) kk_row(avx512, d + (padH + r) * wp, s + r * width, padW, width, wp, end);
    kk_row(avx512, d + (padH + height) * wp, NULL, 0, 0, padH * wp, end);
  }
}

KK_ROWS_DISPATCH(kk_pad_planes, (const float *x, long planes, long height, long width, long padH, long padW, float *xpad),
                 x, planes, height, width, padH, padW, xpad)

/// Positions per tile of the 16-channel AVX-512 tile (12 accumulators; 10, 14 and 16 measured no better), and of
/// its row-aligned form: 16 consecutive positions of one output row at stride 1, addressed from one pointer.
#define KK_NARROW_MR 12
#define KK_ROW_MR 16

long kk_indirect_shape(KKISA isa, long positions, long cout, long ow, long sw, long *mr) {
  if (isa == KK_ISA_AVX2) {
    *mr = 6;
    return 16;
  }
  if (isa != KK_ISA_AVX512) {
    *mr = 0;
    return 0;
  }
  if (cout <= 16) {
    *mr = sw == 1 && ow > 0 && ow % KK_ROW_MR == 0 ? KK_ROW_MR : KK_NARROW_MR;
    return 16;
  }
  const long pad8 = (positions + 7) / 8 * 8 - positions, pad7 = (positions + 6) / 7 * 7 - positions;
  *mr = positions > 0 && pad7 < pad8 ? 7 : 8;
  return 32;
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

void kk_pack_conv_weights(const float *w, long cout, long k, long nr, long panel0, long panel1, float *dst) {
  if (nr <= 0) return;
  for (long o0 = panel0 * nr; o0 < cout && o0 < panel1 * nr; o0 += nr) {
    float *d = dst + o0 * k;
    const long valid = ic_min(nr, cout - o0);
    long p0 = 0;
#ifdef KK_X86
    if (valid == nr && nr % 8 == 0 && kk_cpu_isa() >= KK_ISA_AVX2) p0 = ic_pack_panel_avx2(w + o0 * k, k, nr, d);
#endif
    for (long p = p0; p < k; p++) {
      long j = 0;
      for (; j < valid; j++) d[p * nr + j] = w[(o0 + j) * k + p];
      for (; j < nr; j++) d[p * nr + j] = 0;
    }
  }
}

#ifdef KK_X86
/// A panel's epilogue constants as vectors (NR floats each, 1 and 0 past the panel's channels), applied to the
/// accumulators when the depth is complete, before they are stored: the per-channel work is then two vector
/// operations per tile row instead of a scalar lookup and a broadcast per stored channel.
typedef struct {
  float scale[32], shift[32];
  KKActivation activation;
} ICPanelEpilogue;

static void ic_panel_epilogue(const KKEpilogue *ep, long o0, long channels, ICPanelEpilogue *pe) {
  for (long j = 0; j < 32; j++) {
    pe->scale[j] = 1;
    pe->shift[j] = 0;
    if (j < channels) kk_epilogue_channel(ep, o0 + j, &pe->scale[j], &pe->shift[j]);
  }
  pe->activation = ep->activation;
}

/// MR positions × NV·16 channels over k steps of the depth (the tile's rows NV·16 floats apart). ACC: the sums
/// start from `tile` (a previous stretch of the depth) instead of 0 — the same FMA chain, so splitting the
/// depth changes no bits. PF: one step of the next stretch of B is prefetched into L2 per step (from `pf`).
/// `pe`, when not NULL, is applied to the sums before they are stored (the depth's last stretch), with the same
/// operations as kk_epilogue_apply. MR, NV, ACC and PF are constants after inlining, and the accumulator arrays
/// become registers.
__attribute__((target("avx512f"), always_inline)) static inline void ic_kernel_avx512_rows(
    long k, const float *const *rows, const long *off, const float *restrict B, float *restrict tile, const int MR,
    const int NV, const int ACC, const int PF, const float *pf, const ICPanelEpilogue *pe) {
  const float *r[16];
  __m512 c[16][2];
  for (int i = 0; i < MR; i++) {
    r[i] = rows[i];
    for (int v = 0; v < NV; v++) c[i][v] = ACC ? _mm512_loadu_ps(tile + NV * 16 * i + 16 * v) : _mm512_setzero_ps();
  }
  for (long p = 0; p < k; p++) {
    const long o = off[p];
    if (PF) {
      for (int v = 0; v < NV; v++) _mm_prefetch((const char *)(pf + 16 * v), _MM_HINT_T1);
      pf += NV * 16;
    }
    __m512 b[2];
    for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(B + 16 * v);
    for (int i = 0; i < MR; i++) {
      const __m512 a = _mm512_set1_ps(r[i][o]);
      for (int v = 0; v < NV; v++) c[i][v] = _mm512_fmadd_ps(a, b[v], c[i][v]);
    }
    B += NV * 16;
  }
  if (pe) {
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
    for (int v = 0; v < NV; v++) {
      const __m512 sc = _mm512_loadu_ps(pe->scale + 16 * v), sh = _mm512_loadu_ps(pe->shift + 16 * v);
      for (int i = 0; i < MR; i++) {
        __m512 y = _mm512_fmadd_ps(c[i][v], sc, sh);
        if (pe->activation != KK_ACT_NONE) y = _mm512_max_ps(y, zero);
        if (pe->activation == KK_ACT_RELU6) y = _mm512_min_ps(y, six);
        c[i][v] = y;
      }
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) _mm512_storeu_ps(tile + NV * 16 * i + 16 * v, c[i][v]);
}

/// 16 positions of one output row (stride 1) × 16 channels: the rows kk_tile_rows gives are rows[0] + i, so
/// every broadcast is addressed from one pointer (the 12-row tile keeps 12 pointers, three of them spilled).
/// Otherwise as ic_kernel_avx512_rows.
__attribute__((target("avx512f"), always_inline)) static inline void ic_kernel_avx512_row16(
    long k, const float *r0, const long *off, const float *restrict B, float *restrict tile, const int ACC,
    const ICPanelEpilogue *pe) {
  __m512 c[16];
  for (int i = 0; i < 16; i++) c[i] = ACC ? _mm512_loadu_ps(tile + 16 * i) : _mm512_setzero_ps();
  for (long p = 0; p < k; p++) {
    const float *x = r0 + off[p];
    const __m512 b = _mm512_loadu_ps(B);
    for (int i = 0; i < 16; i++) c[i] = _mm512_fmadd_ps(_mm512_set1_ps(x[i]), b, c[i]);
    B += 16;
  }
  if (pe) {
    const __m512 sc = _mm512_loadu_ps(pe->scale), sh = _mm512_loadu_ps(pe->shift);
    const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
    for (int i = 0; i < 16; i++) {
      __m512 y = _mm512_fmadd_ps(c[i], sc, sh);
      if (pe->activation != KK_ACT_NONE) y = _mm512_max_ps(y, zero);
      if (pe->activation == KK_ACT_RELU6) y = _mm512_min_ps(y, six);
      c[i] = y;
    }
  }
  for (int i = 0; i < 16; i++) _mm512_storeu_ps(tile + 16 * i, c[i]);
}

/// The AVX-512 tiles kk_indirect_shape chooses — mr = 8 or 7 positions × 32 channels, or 12 × 16 (nr = 16) —
/// starting from 0 or from `tile` (accumulate), prefetching from `pf` when not NULL, and applying `pe` when not
/// NULL.
__attribute__((target("avx512f"))) static void ic_kernel_avx512(long k, const float *const *rows, const long *off,
                                                                const float *restrict B, float *restrict tile,
                                                                long mr, long nr, int accumulate, const float *pf,
                                                                const ICPanelEpilogue *pe) {
#define IC_K(MR, NV, ACC, PF) ic_kernel_avx512_rows(k, rows, off, B, tile, MR, NV, ACC, PF, pf, pe)
#define IC_K4(MR, NV) \
  do { \
    if (accumulate) { if (pf) IC_K(MR, NV, 1, 1); else IC_K(MR, NV, 1, 0); } \
    else { if (pf) IC_K(MR, NV, 0, 1); else IC_K(MR, NV, 0, 0); } \
  } while (0)
  if (nr == 16 && mr == KK_ROW_MR) {
    // No prefetching variant: the 16-channel panels are at most 16·k floats.
    if (accumulate) ic_kernel_avx512_row16(k, rows[0], off, B, tile, 1, pe);
    else ic_kernel_avx512_row16(k, rows[0], off, B, tile, 0, pe);
  } else if (nr == 16) IC_K4(KK_NARROW_MR, 1);
  else if (mr == 7) IC_K4(7, 2);
  else IC_K4(8, 2);
#undef IC_K4
#undef IC_K
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

/// The first `count` (< 8) floats of v → y, by 4-, 2- and 1-float stores. Masked stores (AVX2's vmaskmovps, and
/// AVX-512's) are slow on AMD's cores, and the last 4 rows of every 12-row tile end here.
__attribute__((target("avx2"))) static inline void ic_store_part(float *y, __m256 v, long count) {
  __m128 part = _mm256_castps256_ps128(v);
  if (count >= 4) {
    _mm_storeu_ps(y, part);
    part = _mm256_extractf128_ps(v, 1);
    y += 4;
    count -= 4;
  }
  if (count >= 2) {
    _mm_storel_pi((__m64 *)y, part);
    part = _mm_movehl_ps(part, part);
    y += 2;
    count -= 2;
  }
  if (count) _mm_store_ss(y, part);
}

/// 8 rows of a tile (positions; rows `ts` floats apart, `channels` ≤ ts of them) → y, channel-major: the first
/// `count` (≤ 8) positions, consecutive in one image, per channel, through the epilogue (`ep` NULL: stored as they are; channel j of the tile is epilogue
/// channel o0 + j). Rows past `count` are read (the tile always has 8) but not stored.
__attribute__((target("avx2,fma"))) static void ic_store8(const float *tile, long ts, float *y, long l, long channels,
                                                         long count, const KKEpilogue *ep, long o0) {
  for (long jb = 0; jb < channels; jb += 8) {
    const __m256 r0 = _mm256_loadu_ps(tile + jb), r1 = _mm256_loadu_ps(tile + ts + jb),
                 r2 = _mm256_loadu_ps(tile + 2 * ts + jb), r3 = _mm256_loadu_ps(tile + 3 * ts + jb),
                 r4 = _mm256_loadu_ps(tile + 4 * ts + jb), r5 = _mm256_loadu_ps(tile + 5 * ts + jb),
                 r6 = _mm256_loadu_ps(tile + 6 * ts + jb), r7 = _mm256_loadu_ps(tile + 7 * ts + jb);
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
    if (ep) {
      const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6);
      for (long j = 0; j < n; j++) {
        float sc, sh;
        kk_epilogue_channel(ep, o0 + jb + j, &sc, &sh);
        __m256 v = _mm256_fmadd_ps(o[j], _mm256_set1_ps(sc), _mm256_set1_ps(sh));
        if (ep->activation != KK_ACT_NONE) v = _mm256_max_ps(v, zero);
        if (ep->activation == KK_ACT_RELU6) v = _mm256_min_ps(v, six);
        o[j] = v;
      }
    }
    if (count == 8)
      for (long j = 0; j < n; j++) _mm256_storeu_ps(y + (jb + j) * l, o[j]);
    else
      for (long j = 0; j < n; j++) ic_store_part(y + (jb + j) * l, o[j], count);
  }
}

/// Where the mr positions of the tile at t0 read their windows (positions past pos1 repeat the last one). One
/// division for the first position, then stepping along the rows and images: with a shallow depth (1×1
/// convolutions over 32 channels) a division per position cost as much as the tile's FMAs.
static void ic_tile_rows(const KKIndirectConv *cv, long t0, long pos1, long mr, long l, const float **rows) {
  const long count = ic_min(mr, pos1 - t0);
  long img = t0 / l, at = t0 % l, oy = at / cv->ow, ox = at % cv->ow;
  const float *row = cv->xpad + img * cv->xpadImageStride + oy * cv->sh * cv->wp;
  for (long i = 0; i < count; i++) {
    rows[i] = row + ox * cv->sw;
    if (++ox == cv->ow) {
      ox = 0;
      if (++oy == cv->oh) {
        oy = 0;
        img++;
      }
      row = cv->xpad + img * cv->xpadImageStride + oy * cv->sh * cv->wp;
    }
  }
  for (long i = count; i < mr; i++) rows[i] = rows[count - 1];
}

/// tile [mr positions × nr channels] → y for the tile at t0 (channels o0 … o0 + channels), through `ep` (NULL:
/// stored as they are, the epilogue applied already or the identity).
static void ic_store_tile(const KKIndirectConv *cv, const float *tile, long t0, long pos1, long mr, long nr, long l,
                          long o0, long channels, KKISA isa, const KKEpilogue *ep) {
  const long count = ic_min(mr, pos1 - t0), img0 = t0 / l, l0 = t0 % l;
  if (isa == KK_ISA_AVX512 && l0 + count <= l) {
    // Eight rows at a time (a 12-row tile: rows 8-15, of which 12-15 are zero and never stored).
    for (long r = 0; r < count; r += 8)
      ic_store8(tile + r * nr, nr, cv->y + img0 * cv->yImageStride + o0 * l + l0 + r, l, channels, ic_min(8, count - r),
                ep, o0);
    return;
  }
  for (long i = 0; i < count; i++) {
    const long pos = t0 + i, img = pos / l, at = pos % l;
    float *yp = cv->y + img * cv->yImageStride + o0 * l + at;
    if (!ep) {
      for (long j = 0; j < channels; j++) yp[j * l] = tile[i * nr + j];
      continue;
    }
    for (long j = 0; j < channels; j++) {
      float sc, sh;
      kk_epilogue_channel(ep, o0 + j, &sc, &sh);
      yp[j * l] = kk_epilogue_apply(ep->activation, tile[i * nr + j], sc, sh);
    }
  }
}
#endif

int kk_conv_indirect(const KKIndirectConv *cv, KKISA isa, long pos0, long pos1, long out0, long out1, long *offsets,
                     float *panel) {
#ifdef KK_X86
  if (isa == KK_ISA_NONE || isa > kk_cpu_isa()) return -1;
  long mr;
  const long nr = kk_indirect_shape(isa, 0, cv->cout, cv->ow, cv->sw, &mr);
  if (cv->tileRows > 0 && cv->tileRows != mr) {
    if (isa != KK_ISA_AVX512 || nr != 32 || cv->tileRows != 7) return -1;
    mr = cv->tileRows;
  }
  // Row-aligned tiles must start on a row: every range is a whole number of them.
  if (mr == KK_ROW_MR && nr == 16 && (pos0 % mr != 0 || pos1 % mr != 0)) return -1;
  const long l = cv->oh * cv->ow, k = cv->channels * cv->kh * cv->kw, plane = cv->hp * cv->wp;
  // offsets[p] for p = (c·kh + ki)·kw + kj: where tap p reads, relative to a position's window corner.
  for (long c = 0, p = 0; c < cv->channels; c++)
    for (long ki = 0; ki < cv->kh; ki++)
      for (long kj = 0; kj < cv->kw; kj++) offsets[p++] = c * plane + ki * cv->dh * cv->wp + kj * cv->dw;
  // Tiles of mr × nr floats in buffers of 256 (8 × 32 or 16 × 16): the rows past mr are zero, read by the
  // 8-row transposes of the stores but never stored.
  enum { IC_TILE = 256 };
  float tile[IC_TILE] = {0};
  const float *rows[16];
  if (out0 % nr != 0) return -1;
  // Few tiles per panel (7×7 maps at batch 1): the panel is read by so few tiles that streaming it from memory
  // for the first one stalls the FMAs. The depth is then taken in stretches of IC_STRETCH steps, every tile
  // runs each stretch in turn (its sums parked in `sums`), and the first tile prefetches the next stretch.
  enum { IC_STRETCH = 256, IC_FEW_TILES = 16 };
  const long tiles = (pos1 - pos0 + mr - 1) / mr;
  const int stretched = isa == KK_ISA_AVX512 && tiles <= IC_FEW_TILES && k > IC_STRETCH;
  float sums[IC_FEW_TILES][IC_TILE];
  if (stretched)
    for (long t = 0; t < tiles; t++) memset(sums[t] + mr * nr, 0, (size_t)(IC_TILE - mr * nr) * sizeof(float));
  const float *tileRows[IC_FEW_TILES][16];
  const long oEnd = ic_min(out1, cv->cout), panelsHere = (oEnd - out0 + nr - 1) / nr;
  // With every panel at hand (packed, or all of them fitting in `panel`), positions go in blocks of output rows
  // whose input rows (channels × rows × wp floats) fit in 256 KiB, each block past every panel: large images
  // are read once, not once per panel. Otherwise one block of all positions, each panel packed in turn and
  // swept past them while it is hot in L2.
  const int allPanels = cv->packed || cv->panelCapacity >= panelsHere * nr * k;
  long block = pos1 - pos0;
  if (allPanels && !stretched) {
    const long rowsIn = 65536 / ic_max(1, cv->channels * cv->wp);
    const long outRows = ic_max(1, (rowsIn - (cv->kh - 1) * cv->dh) / cv->sh);
    block = ic_max(mr, (outRows * cv->ow + mr - 1) / mr * mr);
  }
  if (allPanels && !cv->packed)
    for (long o0 = out0; o0 < oEnd; o0 += nr)
      kk_pack_conv_weights(cv->weights + o0 * k, ic_min(nr, cv->cout - o0), k, nr, 0, 1, panel + (o0 - out0) * k);
  for (long b0 = pos0; b0 < pos1; b0 += block) {
    const long b1 = ic_min(pos1, b0 + block);
    for (long o0 = out0; o0 < oEnd; o0 += nr) {
      const float *wpanel = cv->packed ? cv->packed + o0 * k : allPanels ? panel + (o0 - out0) * k : panel;
      if (!allPanels) kk_pack_conv_weights(cv->weights + o0 * k, ic_min(nr, cv->cout - o0), k, nr, 0, 1, panel);
      const long channels = ic_min(nr, oEnd - o0);
      // AVX-512 applies the epilogue to the accumulators; AVX2 as it stores.
      ICPanelEpilogue panelEpilogue;
      const ICPanelEpilogue *pe = NULL;
      const KKEpilogue *storeEpilogue = kk_epilogue_is_identity(&cv->epilogue) ? NULL : &cv->epilogue;
      if (storeEpilogue && isa == KK_ISA_AVX512) {
        ic_panel_epilogue(storeEpilogue, o0, channels, &panelEpilogue);
        pe = &panelEpilogue;
        storeEpilogue = NULL;
      }
      if (stretched) {
        for (long t = 0; t < tiles; t++) ic_tile_rows(cv, pos0 + t * mr, pos1, mr, l, tileRows[t]);
        for (long p0 = 0; p0 < k; p0 += IC_STRETCH) {
          const long kc = ic_min(IC_STRETCH, k - p0);
          const float *next = p0 + IC_STRETCH < k ? wpanel + (p0 + IC_STRETCH) * nr : NULL;
          for (long t = 0; t < tiles; t++)
            ic_kernel_avx512(kc, tileRows[t], offsets + p0, wpanel + p0 * nr, sums[t], mr, nr, p0 > 0,
                             t == 0 ? next : NULL, p0 + kc == k ? pe : NULL);
        }
        for (long t = 0; t < tiles; t++)
          ic_store_tile(cv, sums[t], pos0 + t * mr, pos1, mr, nr, l, o0, channels, isa, storeEpilogue);
        continue;
      }
      for (long t0 = b0; t0 < b1; t0 += mr) {
        ic_tile_rows(cv, t0, b1, mr, l, rows);
        if (isa == KK_ISA_AVX512) ic_kernel_avx512(k, rows, offsets, wpanel, tile, mr, nr, 0, NULL, pe);
        else ic_kernel_avx2(k, rows, offsets, wpanel, tile);
        ic_store_tile(cv, tile, t0, b1, mr, nr, l, o0, channels, isa, storeEpilogue);
      }
    }
  }
  return 0;
#else
  (void)cv; (void)isa; (void)pos0; (void)pos1; (void)out0; (void)out1; (void)offsets; (void)panel;
  return -1;
#endif
}
