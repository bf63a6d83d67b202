// Direct depthwise 3×3 convolution (MobileNet's), where im2col + GEMM would move nine copies of each plane
// to do nine multiply-adds per output. Each output row sums three input rows; the columns whose window lies
// inside the image run as a straight vectorisable loop, the one or two border columns with bounds checks.
// target_clones compiles the plane kernel for AVX-512, FMA (AVX) and baseline x86-64 and picks one at load
// time (on other CPUs there is just the portable build).
#include <stdlib.h>

#include "kestrel_kernels.h"
#include "epilogue.h"

#if defined(__x86_64__) && defined(__clang__)
#define KK_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define KK_CLONES
#endif

static inline long dw_min(long a, long b) { return a < b ? a : b; }
static inline long dw_max(long a, long b) { return a > b ? a : b; }

typedef float dw_v16 __attribute__((vector_size(64), aligned(4)));  // 16 floats, unaligned loads allowed

/// One output element: Σ over the valid input rows of the three taps (columns checked).
static inline float dw_point(const float *const *rows, const float (*taps)[3], long nrows, long ix0,
                             long wd) {
  float acc = 0;
  for (long t = 0; t < nrows; t++) {
    float row = 0;
    for (long j = 0; j < 3; j++) {
      const long ix = ix0 + j;
      if (ix >= 0 && ix < wd) row += taps[t][j] * rows[t][ix];
    }
    acc += row;
  }
  return acc;
}

/// Stride 1, one plane, through a zero-padded copy: in the padded plane P (hp × wp), output (oy, ox) is
/// Σ k[i][j]·P[(oy + i)·wp + ox + j], so all oh·wp "padded-grid" outputs q are one flat vector loop over
/// P[q + i·wp + j] with no bounds checks (the wp − ow extra columns per row are computed and dropped).
/// `scratch` holds hp·wp + oh·wp + 64 floats.
KK_CLONES static void dw_plane_flat(const float *restrict x, long h, long wd, const float *restrict k, float es,
                                    float et, KKActivation act, float *restrict y, long oh, long ow, long pad,
                                    float *restrict scratch) {
  const long hp = h + 2 * pad, wp = wd + 2 * pad, nq = oh * wp;
  float *restrict P = scratch, *restrict O = scratch + hp * wp + 32;
  for (long t = 0; t < pad * wp; t++) P[t] = 0;
  for (long r = 0; r < h; r++) {
    float *row = P + (pad + r) * wp;
    for (long t = 0; t < pad; t++) row[t] = row[pad + wd + t] = 0;
    for (long t = 0; t < wd; t++) row[pad + t] = x[r * wd + t];
  }
  for (long t = (pad + h) * wp; t < hp * wp + 32; t++) P[t] = 0;  // bottom padding and the vector overrun
  const float k00 = k[0], k01 = k[1], k02 = k[2], k10 = k[3], k11 = k[4], k12 = k[5], k20 = k[6], k21 = k[7],
              k22 = k[8];
  for (long q = 0; q < nq; q += 16) {
    const float *p0 = P + q, *p1 = p0 + wp, *p2 = p1 + wp;
    dw_v16 acc = (dw_v16){0};
    acc += k00 * *(const dw_v16 *)p0 + k01 * *(const dw_v16 *)(p0 + 1) + k02 * *(const dw_v16 *)(p0 + 2);
    acc += k10 * *(const dw_v16 *)p1 + k11 * *(const dw_v16 *)(p1 + 1) + k12 * *(const dw_v16 *)(p1 + 2);
    acc += k20 * *(const dw_v16 *)p2 + k21 * *(const dw_v16 *)(p2 + 1) + k22 * *(const dw_v16 *)(p2 + 2);
    *(dw_v16 *)(O + q) = acc;
  }
  for (long oy = 0; oy < oh; oy++)
    for (long ox = 0; ox < ow; ox++) y[oy * ow + ox] = kk_epilogue_apply(act, O[oy * wp + ox], es, et);
}

/// One plane: y[oh × ow] = act(es·(w ⋆ x[h × w]) + et) with the given stride and padding (0 or 1).
KK_CLONES static void dw_plane(const float *restrict x, long h, long wd, const float *restrict k, float es, float et,
                               KKActivation act, float *restrict y, long oh, long ow, long s, long pad) {
  // Output columns [lo, hi) read columns ox·s − pad … ox·s − pad + 2, all inside [0, wd).
  const long lo = dw_min(ow, (pad + s - 1) / s);
  const long last = wd - 3 + pad;  // the largest ox·s that still fits
  const long hi = last < 0 ? lo : dw_max(lo, dw_min(ow, last / s + 1));
  for (long oy = 0; oy < oh; oy++) {
    float *restrict out = y + oy * ow;
    // The input rows this output row reads (rows outside the image are padding: skipped).
    const float *rows[3];
    float taps[3][3];
    long nrows = 0;
    for (long i = 0; i < 3; i++) {
      const long iy = oy * s - pad + i;
      if (iy < 0 || iy >= h) continue;
      rows[nrows] = x + iy * wd;
      for (long j = 0; j < 3; j++) taps[nrows][j] = k[i * 3 + j];
      nrows++;
    }
    long ox = 0;
    for (; ox < lo; ox++) out[ox] = dw_point(rows, (const float (*)[3])taps, nrows, ox * s - pad, wd);
    if (s == 1) {
      for (; ox + 16 <= hi; ox += 16) {
        dw_v16 acc = (dw_v16){0};
        for (long t = 0; t < nrows; t++) {
          const float *r = rows[t] + ox - pad;
          acc += taps[t][0] * *(const dw_v16 *)r + taps[t][1] * *(const dw_v16 *)(r + 1) +
                 taps[t][2] * *(const dw_v16 *)(r + 2);
        }
        *(dw_v16 *)(out + ox) = acc;
      }
    }
    for (; ox < hi; ox++) {
      float acc = 0;
      for (long t = 0; t < nrows; t++) {
        const float *r = rows[t] + ox * s - pad;
        acc += taps[t][0] * r[0] + taps[t][1] * r[1] + taps[t][2] * r[2];
      }
      out[ox] = acc;
    }
    for (; ox < ow; ox++) out[ox] = dw_point(rows, (const float (*)[3])taps, nrows, ox * s - pad, wd);
    for (ox = 0; ox < ow; ox++) out[ox] = kk_epilogue_apply(act, out[ox], es, et);
  }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define DW_AVX512 1

/// Row stride of the even/odd column planes of a stride-2 plane: t ≤ ow, plus a vector of overrun.
static inline long dw_s2_stride(long ow) { return (ow + 1 + 15) / 16 * 16 + 16; }

/// Stride 2 (AVX-512), one plane: the zero-padded plane P split into its even and odd columns, E[r][t] =
/// P[r][2t] and D[r][t] = P[r][2t + 1] (two permutes per 32 inputs), so that output (oy, ox) =
/// Σ_i k[i][0]·E[2oy + i][ox] + k[i][1]·D[2oy + i][ox] + k[i][2]·E[2oy + i][ox + 1]: a vector loop over ox with
/// plain loads, where the generic loop read every other column one at a time. `scratch`: 2·hp·dw_s2_stride(ow)
/// floats.
__attribute__((target("avx512f"))) static void dw_plane_s2_avx512(const float *restrict x, long h, long wd,
                                                                 const float *restrict k, float es, float et,
                                                                 KKActivation act, float *restrict y, long oh, long ow,
                                                                 long pad, float *restrict scratch) {
  const long hp = h + 2 * pad, ws = dw_s2_stride(ow);
  float *E = scratch, *D = scratch + hp * ws;
  const __m512i evenIdx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i oddIdx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (long r = 0; r < hp; r++) {
    float *er = E + r * ws, *dr = D + r * ws;
    const long iy = r - pad;
    if (iy < 0 || iy >= h) {
      for (long t = 0; t < ws; t += 16) {
        _mm512_storeu_ps(er + t, _mm512_setzero_ps());
        _mm512_storeu_ps(dr + t, _mm512_setzero_ps());
      }
      continue;
    }
    const float *row = x + iy * wd;
    __m512 prevOdd = _mm512_setzero_ps();
    for (long t = 0; t < ws; t += 16) {
      // Inputs [2t, 2t + 32) of the row (zero past its end).
      const long at = 2 * t, left = wd - at;
      const __mmask16 ma = left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
      const __mmask16 mb = left >= 32 ? 0xFFFF : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
      const __m512 a = _mm512_maskz_loadu_ps(ma, row + (ma ? at : 0)), b = _mm512_maskz_loadu_ps(mb, row + (mb ? at + 16 : 0));
      const __m512 ev = _mm512_permutex2var_ps(a, evenIdx, b), od = _mm512_permutex2var_ps(a, oddIdx, b);
      if (pad == 0) {
        _mm512_storeu_ps(er + t, ev);  // P[2t] = x[2t]
        _mm512_storeu_ps(dr + t, od);  // P[2t + 1] = x[2t + 1]
      } else {
        // P[2t] = x[2t − 1]: the odd inputs one lane later (lane 0 from the previous chunk, 0 at the left edge).
        _mm512_storeu_ps(er + t, _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(od),
                                                                           _mm512_castps_si512(prevOdd), 15)));
        _mm512_storeu_ps(dr + t, ev);  // P[2t + 1] = x[2t]
        prevOdd = od;
      }
    }
  }
  const __m512 vs = _mm512_set1_ps(es), vt = _mm512_set1_ps(et), zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
  for (long oy = 0; oy < oh; oy++) {
    for (long ox = 0; ox < ow; ox += 16) {
      __m512 acc = _mm512_setzero_ps();
      for (long i = 0; i < 3; i++) {
        const float *er = E + (2 * oy + i) * ws + ox, *dr = D + (2 * oy + i) * ws + ox;
        acc = _mm512_fmadd_ps(_mm512_set1_ps(k[i * 3]), _mm512_loadu_ps(er), acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(k[i * 3 + 1]), _mm512_loadu_ps(dr), acc);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(k[i * 3 + 2]), _mm512_loadu_ps(er + 1), acc);
      }
      acc = _mm512_fmadd_ps(acc, vs, vt);
      if (act != KK_ACT_NONE) acc = _mm512_max_ps(acc, zero);
      if (act == KK_ACT_RELU6) acc = _mm512_min_ps(acc, six);
      const long left = ow - ox;
      _mm512_mask_storeu_ps(y + oy * ow + ox, left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1), acc);
    }
  }
}
#endif

#ifdef DW_AVX512
/// Stride 1 (AVX-512), planes [c0, c1): dw_plane_flat's padded-grid vector loop without its scalar passes. The
/// padded plane P is zeroed once and each plane's rows copied into its interior with masked vector moves (the
/// border stays zero); each vector of 16 grid positions keeps its output lanes (column < ow) by a compress and
/// stores them as a prefix at the first one's output index, so the grid's extra columns are dropped without an
/// intermediate buffer. The lane masks and output indices are the same for every plane: computed once.
/// On 14×14 and 7×7 planes (MobileNet's last layers) the scalar copy and epilogue had cost more than the FMAs.
__attribute__((target("avx512f"))) static int dw_planes_flat_avx512(const float *x, long h, long wd,
                                                                    const float *w, const KKEpilogue *ep,
                                                                    float *y, long oh, long ow, long pad,
                                                                    long c0, long c1) {
  const long hp = h + 2 * pad, wp = wd + 2 * pad, nq = oh * wp, nv = (nq + 15) / 16;
  // P, then one vector of overrun (the last vector's lanes past nq read up to 2·wp + 17 beyond it); two of
  // them, taken in turn, so that one plane's loads need not wait for the next plane's copy to retire.
  const long pSize = hp * wp + 32;
  float *P = malloc((size_t)(2 * pSize) * sizeof(float));
  __mmask16 *valid = malloc((size_t)nv * sizeof(__mmask16));
  long *first = malloc((size_t)nv * sizeof(long));
  if (!P || !valid || !first) {
    free(P); free(valid); free(first);
    return -1;
  }
  for (long t = 0; t < 2 * pSize; t++) P[t] = 0;
  // Grid position q = row·wp + col, stepped along (a division per lane cost more than the plane's FMAs).
  for (long v = 0, row = 0, col = 0; v < nv; v++) {
    unsigned mask = 0;
    first[v] = -1;
    for (int lane = 0; lane < 16; lane++) {
      if (v * 16 + lane < nq && col < ow) {
        mask |= 1u << lane;
        if (first[v] < 0) first[v] = row * ow + col;
      }
      if (++col == wp) {
        col = 0;
        row++;
      }
    }
    valid[v] = (__mmask16)mask;
    if (first[v] < 0) first[v] = 0;
  }
  const KKActivation act = ep ? ep->activation : KK_ACT_NONE;
  const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
  for (long c = c0; c < c1; c++) {
    const float *xc = x + c * h * wd, *k = w + c * 9;
    float *Pc = P + (c & 1) * pSize;
    for (long r = 0; r < h; r++) {
      const float *src = xc + r * wd;
      float *dst = Pc + (pad + r) * wp + pad;
      for (long t = 0; t < wd; t += 16) {
        const long left = wd - t;
        const __mmask16 m = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        _mm512_mask_storeu_ps(dst + t, m, _mm512_maskz_loadu_ps(m, src + t));
      }
    }
    float es, et;
    kk_epilogue_channel(ep, c, &es, &et);
    const __m512 vs = _mm512_set1_ps(es), vt = _mm512_set1_ps(et);
    const __m512 k00 = _mm512_set1_ps(k[0]), k01 = _mm512_set1_ps(k[1]), k02 = _mm512_set1_ps(k[2]),
                 k10 = _mm512_set1_ps(k[3]), k11 = _mm512_set1_ps(k[4]), k12 = _mm512_set1_ps(k[5]),
                 k20 = _mm512_set1_ps(k[6]), k21 = _mm512_set1_ps(k[7]), k22 = _mm512_set1_ps(k[8]);
    float *yc = y + c * oh * ow;
    for (long v = 0; v < nv; v++) {
      // One chain per window row, added at the end: three dependent FMAs deep instead of nine.
      const float *p0 = Pc + v * 16, *p1 = p0 + wp, *p2 = p1 + wp;
      __m512 a0 = _mm512_mul_ps(k00, _mm512_loadu_ps(p0)), a1 = _mm512_mul_ps(k10, _mm512_loadu_ps(p1)),
             a2 = _mm512_mul_ps(k20, _mm512_loadu_ps(p2));
      a0 = _mm512_fmadd_ps(k01, _mm512_loadu_ps(p0 + 1), a0);
      a1 = _mm512_fmadd_ps(k11, _mm512_loadu_ps(p1 + 1), a1);
      a2 = _mm512_fmadd_ps(k21, _mm512_loadu_ps(p2 + 1), a2);
      a0 = _mm512_fmadd_ps(k02, _mm512_loadu_ps(p0 + 2), a0);
      a1 = _mm512_fmadd_ps(k12, _mm512_loadu_ps(p1 + 2), a1);
      a2 = _mm512_fmadd_ps(k22, _mm512_loadu_ps(p2 + 2), a2);
      __m512 acc = _mm512_add_ps(_mm512_add_ps(a0, a1), a2);
      if (ep) {
        acc = _mm512_fmadd_ps(acc, vs, vt);
        if (act != KK_ACT_NONE) acc = _mm512_max_ps(acc, zero);
        if (act == KK_ACT_RELU6) acc = _mm512_min_ps(acc, six);
      }
      const __mmask16 m = valid[v];
      const __mmask16 prefix = (__mmask16)((1u << __builtin_popcount(m)) - 1);
      _mm512_mask_storeu_ps(yc + first[v], prefix, _mm512_maskz_compress_ps(m, acc));
    }
  }
  free(P); free(valid); free(first);
  return 0;
}
#endif

#ifdef DW_AVX512
/// 16 rows of 16 floats → their transpose, in registers (four rounds of 16 shuffles).
__attribute__((target("avx512f"))) static inline void dw_transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
      t[8 * i + j + 4] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xDD);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
  }
}

/// Small planes (AVX-512), planes [c0, c1): vectorised over 16 channels instead of positions. A 7×7 plane is
/// 49 outputs, so per-plane work (padding it, the edges of its few vectors, their stores) had cost several
/// times its 441 multiply-adds. Here a block of 16 channels is transposed, 16 positions at a time, into a
/// zero-padded grid of channel vectors T[(row·wp + col)·16 + lane]; each output position is then 9 aligned
/// loads and 9 FMAs with the taps' weight vectors, into O[q·16 + lane], which is transposed back into the 16
/// planes. (Gathers instead of the transposes measured three times slower than the per-plane kernels.)
/// Every output is the same sum in the same order, whichever block its channel falls in.
__attribute__((target("avx512f"))) static int dw_small_avx512(const float *x, long h, long wd, const float *w,
                                                              const KKEpilogue *ep, float *y, long oh, long ow,
                                                              long stride, long pad, long c0, long c1) {
  const long hp = h + 2 * pad, wp = wd + 2 * pad, hw = h * wd, ohw = oh * ow, chunks = (ohw + 15) / 16;
  float *T = aligned_alloc(64, (size_t)(hp * wp * 16) * sizeof(float));
  float *O = aligned_alloc(64, (size_t)(chunks * 16 * 16 + 9 * 16) * sizeof(float));
  if (!T || !O) {
    free(T); free(O);
    return -1;
  }
  float *K = O + chunks * 16 * 16;  // the taps' weights, [9][16]
  for (long t = 0; t < hp * wp * 16; t++) T[t] = 0;  // the border stays zero; the interior is rewritten
  for (long t = 0; t < chunks * 16 * 16; t++) O[t] = 0;  // positions past ohw are transposed, never stored
  const KKActivation act = ep ? ep->activation : KK_ACT_NONE;
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1), six = _mm512_set1_ps(6);
  for (long cb = c0; cb < c1; cb += 16) {
    const long nc = dw_min(16, c1 - cb);
    const __mmask16 cm = nc == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1);
    const float *xb = x + cb * hw;
    __m512 r[16];
    for (long p0 = 0, iy = 0, ix = 0; p0 < hw; p0 += 16) {
      const long count = dw_min(16, hw - p0);
      const __mmask16 pm = count == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
      for (long c = 0; c < 16; c++) r[c] = c < nc ? _mm512_maskz_loadu_ps(pm, xb + c * hw + p0) : zero;
      dw_transpose16(r);
      for (long j = 0; j < count; j++) {
        _mm512_store_ps(T + ((iy + pad) * wp + ix + pad) * 16, r[j]);
        if (++ix == wd) { ix = 0; iy++; }
      }
    }
    for (long c = 0; c < 16; c++)
      for (int t = 0; t < 9; t++) K[t * 16 + c] = c < nc ? w[(cb + c) * 9 + t] : 0;
    __m512 k[9];
    for (int t = 0; t < 9; t++) k[t] = _mm512_load_ps(K + t * 16);
    const __m512 vs = ep && ep->scale ? _mm512_maskz_loadu_ps(cm, ep->scale + cb) : one;
    const __m512 vt = ep && ep->shift ? _mm512_maskz_loadu_ps(cm, ep->shift + cb) : zero;
    for (long oy = 0; oy < oh; oy++)
      for (long ox = 0; ox < ow; ox++) {
        const float *t0 = T + ((oy * stride) * wp + ox * stride) * 16, *t1 = t0 + wp * 16, *t2 = t1 + wp * 16;
        __m512 acc = _mm512_mul_ps(k[0], _mm512_load_ps(t0));
        acc = _mm512_fmadd_ps(k[1], _mm512_load_ps(t0 + 16), acc);
        acc = _mm512_fmadd_ps(k[2], _mm512_load_ps(t0 + 32), acc);
        acc = _mm512_fmadd_ps(k[3], _mm512_load_ps(t1), acc);
        acc = _mm512_fmadd_ps(k[4], _mm512_load_ps(t1 + 16), acc);
        acc = _mm512_fmadd_ps(k[5], _mm512_load_ps(t1 + 32), acc);
        acc = _mm512_fmadd_ps(k[6], _mm512_load_ps(t2), acc);
        acc = _mm512_fmadd_ps(k[7], _mm512_load_ps(t2 + 16), acc);
        acc = _mm512_fmadd_ps(k[8], _mm512_load_ps(t2 + 32), acc);
        if (ep) {
          acc = _mm512_fmadd_ps(acc, vs, vt);
          if (act != KK_ACT_NONE) acc = _mm512_max_ps(acc, zero);
          if (act == KK_ACT_RELU6) acc = _mm512_min_ps(acc, six);
        }
        _mm512_store_ps(O + (oy * ow + ox) * 16, acc);
      }
    // The part chunk first: its whole-vector stores run into the next channel's plane (at most 15 floats: inside
    // that plane's whole chunks when it has one), which are stored afterwards. Only the block's last channel,
    // followed by planes this block does not write, takes a masked store (slow on AMD's cores, and a 7×7 plane
    // ends in one); planes under 16 outputs take them throughout.
    for (long i = 0, q0 = ohw % 16 ? ohw / 16 * 16 : 0; i < chunks; i++, q0 = (i - (ohw % 16 ? 1 : 0)) * 16) {
      for (long j = 0; j < 16; j++) r[j] = _mm512_load_ps(O + (q0 + j) * 16);
      dw_transpose16(r);
      const long left = ohw - q0;
      for (long c = 0; c < nc; c++) {
        if (left >= 16 || (c + 1 < nc && ohw >= 16)) _mm512_storeu_ps(y + (cb + c) * ohw + q0, r[c]);
        else _mm512_mask_storeu_ps(y + (cb + c) * ohw + q0, (__mmask16)((1u << left) - 1), r[c]);
      }
    }
  }
  free(T); free(O);
  return 0;
}
#endif

int kk_depthwise3x3(const float *x, long height, long width, const float *w, const KKEpilogue *ep, float *y,
                    long stride, long pad, long c0, long c1) {
  const KKActivation act = ep ? ep->activation : KK_ACT_NONE;
  if ((stride != 1 && stride != 2) || (pad != 0 && pad != 1)) return -1;
  if (height + 2 * pad < 3 || width + 2 * pad < 3) return -1;  // no window fits (the division below truncates)
  const long oh = (height + 2 * pad - 3) / stride + 1, ow = (width + 2 * pad - 3) / stride + 1;
  if (oh <= 0 || ow <= 0) return -1;
#ifdef DW_AVX512
  // Small planes by channel vectors: measured on one core, 7×7 planes went from 23 to 27 GFLOP/s and 14×14 at
  // stride 2 from 7 to 17; at 14×14, stride 1, the per-plane kernel was as fast, and at 28×28 faster.
  if ((stride == 2 ? height * width <= 196 : height * width <= 144) && kk_cpu_isa() == KK_ISA_AVX512 &&
      dw_small_avx512(x, height, width, w, ep, y, oh, ow, stride, pad, c0, c1) == 0)
    return 0;
  if (stride == 1 && kk_cpu_isa() == KK_ISA_AVX512 &&
      dw_planes_flat_avx512(x, height, width, w, ep, y, oh, ow, pad, c0, c1) == 0)
    return 0;
#endif
  if (stride == 1) {
    const long hp = height + 2 * pad, wp = width + 2 * pad;
    float *scratch = malloc((size_t)(hp * wp + oh * wp + 64) * sizeof(float));
    if (scratch) {
      for (long c = c0; c < c1; c++) {
        float es, et;
        kk_epilogue_channel(ep, c, &es, &et);
        dw_plane_flat(x + c * height * width, height, width, w + c * 9, es, et, act, y + c * oh * ow, oh, ow, pad,
                      scratch);
      }
      free(scratch);
      return 0;
    }
  }
#ifdef DW_AVX512
  if (stride == 2 && kk_cpu_isa() == KK_ISA_AVX512) {
    float *scratch = malloc((size_t)(2 * (height + 2 * pad) * dw_s2_stride(ow)) * sizeof(float));
    if (scratch) {
      for (long c = c0; c < c1; c++) {
        float es, et;
        kk_epilogue_channel(ep, c, &es, &et);
        dw_plane_s2_avx512(x + c * height * width, height, width, w + c * 9, es, et, act, y + c * oh * ow, oh, ow,
                           pad, scratch);
      }
      free(scratch);
      return 0;
    }
  }
#endif
  for (long c = c0; c < c1; c++) {
    float es, et;
    kk_epilogue_channel(ep, c, &es, &et);
    dw_plane(x + c * height * width, height, width, w + c * 9, es, et, act, y + c * oh * ow, oh, ow, stride, pad);
  }
  return 0;
}

/// dW contribution of one plane (stride 1): in the padded plane P and dy laid out on the padded grid
/// (D[oy·wp + ox] = dy[oy][ox], 0 for ox ≥ ow), dW[i][j] = Σ_q D[q]·P[q + i·wp + j] — nine flat dot products.
/// `scratch` holds hp·wp + oh·wp + 64 floats. Adds into dw[9] (sums in a fixed order: deterministic).
KK_CLONES static void dw_weight_plane(const float *restrict x, long h, long wd, const float *restrict dy, long oh,
                                      long ow, long pad, float *restrict dw, float *restrict scratch) {
  const long hp = h + 2 * pad, wp = wd + 2 * pad, nq = oh * wp, nv = (nq + 15) / 16 * 16;
  float *restrict P = scratch, *restrict D = scratch + hp * wp + 32;
  for (long t = 0; t < pad * wp; t++) P[t] = 0;
  for (long r = 0; r < h; r++) {
    float *row = P + (pad + r) * wp;
    for (long t = 0; t < pad; t++) row[t] = row[pad + wd + t] = 0;
    for (long t = 0; t < wd; t++) row[pad + t] = x[r * wd + t];
  }
  for (long t = (pad + h) * wp; t < hp * wp + 32; t++) P[t] = 0;
  for (long oy = 0; oy < oh; oy++) {
    for (long ox = 0; ox < ow; ox++) D[oy * wp + ox] = dy[oy * ow + ox];
    for (long ox = ow; ox < wp; ox++) D[oy * wp + ox] = 0;
  }
  for (long q = nq; q < nv; q++) D[q] = 0;
  dw_v16 s[9];
  for (long t = 0; t < 9; t++) s[t] = (dw_v16){0};
  for (long q = 0; q < nv; q += 16) {
    const dw_v16 d = *(const dw_v16 *)(D + q);
    for (long i = 0; i < 3; i++)
      for (long j = 0; j < 3; j++) s[i * 3 + j] += d * *(const dw_v16 *)(P + q + i * wp + j);
  }
  for (long t = 0; t < 9; t++) {
    float acc = 0;
    for (long e = 0; e < 16; e++) acc += s[t][e];
    dw[t] += acc;
  }
}

int kk_depthwise3x3_weight_grad(const float *x, long height, long width, const float *dy, long stride, long pad,
                                long c0, long c1, float *dw) {
  if (stride != 1 || (pad != 0 && pad != 1)) return -1;
  const long oh = height + 2 * pad - 2, ow = width + 2 * pad - 2;
  if (oh <= 0 || ow <= 0) return -1;
  const long hp = height + 2 * pad, wp = width + 2 * pad;
  float *scratch = malloc((size_t)(hp * wp + oh * wp + 64) * sizeof(float));
  if (!scratch) return -1;
  for (long c = c0; c < c1; c++)
    dw_weight_plane(x + c * height * width, height, width, dy + c * oh * ow, oh, ow, pad, dw + c * 9, scratch);
  free(scratch);
  return 0;
}
