// The weight gradient of a convolution (one group) as correlations on a grid (AVX-512):
//   dW[o, t] = Σ_images Σ_q dy[o, q] · x[offset(t) + q].
// The caller lays both operands out so that every tap t of the kernel is a constant shift of the other: dy on a
// grid of output positions whose rows are as wide as the input's (the columns past the output zero), and the
// input zero-padded and, for stride s, split into s×s phase planes (kk_phase_planes), so tap (c, ki, kj) reads
// phase plane (c, ki·d mod s, kj·d mod s) shifted by (ki·d / s) rows and kj·d / s columns. Stride-1 "same"
// convolutions need no layout (kk_weight_grad_dense): within an image's plane each tap already is a constant
// shift, and the lanes it carries out of the image are masked off. The sum is then vectorised over positions:
// the register tile is 4 output channels × 6 taps (24 accumulators), and each step loads 16 positions of the 4
// dy rows and of the 6 shifted input rows (10 loads, 24 FMAs, no broadcasts), where the GEMM over an im2col
// matrix spends narrow layers' time packing and a broadcast kernel is capped by its broadcasts. Each lane sums
// its positions in order in chains of at most 32 steps (512 positions), which are added to the totals in order;
// the 16 lanes are added at the end. Threads split tiles, never positions, so results do not depend on the
// thread count.
#include <string.h>

#include "kestrel_kernels.h"
#include "rows.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WG_X86 1
#endif

#define WG_OUT 4
#define WG_TAPS 6
/// Vector steps (of 16 positions) per accumulator chain before it is added to the totals.
#define WG_CHAIN 32

long kk_weight_grad_grid_tiles(long cout, long taps) {
  return (cout + WG_OUT - 1) / WG_OUT * ((taps + WG_TAPS - 1) / WG_TAPS);
}

void kk_phase_planes(const float *x, long planes, long height, long width, long padH, long padW, long stride,
                     long hq, long wq, float *out) {
  if (stride == 1 && hq == height + 2 * padH && wq == width + 2 * padW) {
    kk_pad_planes(x, planes, height, width, padH, padW, out);  // the one phase plane is the padded plane
    return;
  }
  const long phasePlane = hq * wq;
  for (long p = 0; p < planes; p++) {
    const float *s = x + p * height * width;
    for (long ph = 0; ph < stride; ph++)
      for (long pw = 0; pw < stride; pw++) {
        float *d = out + ((p * stride + ph) * stride + pw) * phasePlane;
        for (long i = 0; i < hq; i++) {
          float *row = d + i * wq;
          const long r = i * stride + ph - padH;  // the source row, in unpadded coordinates
          if (r < 0 || r >= height) {
            kk_row_portable(row, NULL, 0, 0, wq);
            continue;
          }
          const float *src = s + r * width;
          for (long j = 0; j < wq; j++) {
            const long col = j * stride + pw - padW;
            row[j] = col >= 0 && col < width ? src[col] : 0;
          }
        }
      }
  }
}

__attribute__((always_inline)) static inline void kk_grid_rows_rows(const float *dy, long planes, long oh, long ow,
                                                                    long wq, float *out, int avx512) {
  const float *end = out + planes * oh * wq;
  for (long r = 0; r < planes * oh; r++) kk_row(avx512, out + r * wq, dy + r * ow, 0, ow, wq, end);
}

KK_ROWS_DISPATCH(kk_grid_rows, (const float *dy, long planes, long oh, long ow, long wq, float *out), dy, planes, oh,
                 ow, wq, out)

#ifdef WG_X86
// The 24 accumulators as named variables (a[o][t] arrays were kept in memory by the compiler).
#define WG_ROW(M, o) M(o, 0) M(o, 1) M(o, 2) M(o, 3) M(o, 4) M(o, 5)
#define WG_ALL(M) WG_ROW(M, 0) WG_ROW(M, 1) WG_ROW(M, 2) WG_ROW(M, 3)
#define WG_DECLARE(o, t) __m512 a##o##t = _mm512_setzero_ps();
#define WG_FMA(o, t) a##o##t = _mm512_fmadd_ps(d##o, x##t, a##o##t);
#define WG_FLUSH(o, t)                                                                                          \
  _mm512_store_ps(total[o][t], _mm512_add_ps(_mm512_load_ps(total[o][t]), a##o##t));                           \
  a##o##t = _mm512_setzero_ps();
#define WG_STEP(LOAD)                                                                                           \
  do {                                                                                                          \
    const __m512 d0 = LOAD(dp0 + p), d1 = LOAD(dp1 + p), d2 = LOAD(dp2 + p), d3 = LOAD(dp3 + p);              \
    const __m512 x0 = LOAD(xp0 + p), x1 = LOAD(xp1 + p), x2 = LOAD(xp2 + p);                                   \
    const __m512 x3 = LOAD(xp3 + p), x4 = LOAD(xp4 + p), x5 = LOAD(xp5 + p);                                   \
    WG_ALL(WG_FMA)                                                                                              \
  } while (0)
#define WG_FULL(ptr) _mm512_loadu_ps(ptr)
#define WG_TAIL(ptr) _mm512_maskz_loadu_ps(tail, ptr)

/// A tile's totals, each lane's sums added up, into dw[o0 ..< o0 + 4][t0 ..< t0 + 6] (those that exist): written,
/// or added to when `accumulate` is non-zero.
__attribute__((target("avx512f"))) static inline void wg_store(float total[WG_OUT][WG_TAPS][16], long o0, long t0,
                                                              long cout, long ntaps, float *dw, int accumulate) {
  const long outs = cout - o0 < WG_OUT ? cout - o0 : WG_OUT, taps = ntaps - t0 < WG_TAPS ? ntaps - t0 : WG_TAPS;
  for (long o = 0; o < outs; o++) {
    float *dst = dw + (o0 + o) * ntaps + t0;
    for (long t = 0; t < taps; t++) {
      const float sum = _mm512_reduce_add_ps(_mm512_load_ps(total[o][t]));
      dst[t] = accumulate ? dst[t] + sum : sum;
    }
  }
}

/// One tile: output channels o0 ..< o0 + 4 × taps t0 ..< t0 + 6. Rows past cout and taps past ntaps repeat the
/// last one; their sums are not written.
__attribute__((target("avx512f"))) static void wg_tile(const KKWeightGradGrid *g, long o0, long t0) {
  const long q = g->positions, full = q / 16;
  const __mmask16 tail = (__mmask16)((1u << (q % 16)) - 1);
  float total[WG_OUT][WG_TAPS][16] __attribute__((aligned(64)));
  memset(total, 0, sizeof(total));
  long row[WG_OUT], tap[WG_TAPS];
  for (int o = 0; o < WG_OUT; o++) row[o] = (o0 + o < g->cout ? o0 + o : g->cout - 1) * q;
  for (int t = 0; t < WG_TAPS; t++) tap[t] = g->taps[t0 + t < g->ntaps ? t0 + t : g->ntaps - 1];
  WG_ALL(WG_DECLARE)
  long pending = 0;  // vector steps summed in the registers since they were last added to `total`
  for (long img = 0; img < g->images; img++) {
    const float *dyImage = g->dy + img * g->dyImageStride, *xImage = g->x + img * g->xImageStride;
    const float *dp0 = dyImage + row[0], *dp1 = dyImage + row[1], *dp2 = dyImage + row[2], *dp3 = dyImage + row[3];
    const float *xp0 = xImage + tap[0], *xp1 = xImage + tap[1], *xp2 = xImage + tap[2];
    const float *xp3 = xImage + tap[3], *xp4 = xImage + tap[4], *xp5 = xImage + tap[5];
    for (long v = 0; v < full;) {
      const long run = full - v < WG_CHAIN - pending ? full - v : WG_CHAIN - pending;
      for (long p = v * 16, end = (v + run) * 16; p < end; p += 16) WG_STEP(WG_FULL);
      v += run;
      if ((pending += run) == WG_CHAIN) {
        WG_ALL(WG_FLUSH)
        pending = 0;
      }
    }
    if (tail) {
      const long p = full * 16;
      WG_STEP(WG_TAIL);
      if (++pending == WG_CHAIN) {
        WG_ALL(WG_FLUSH)
        pending = 0;
      }
    }
  }
  WG_ALL(WG_FLUSH)
  wg_store(total, o0, t0, g->cout, g->ntaps, g->dw, g->accumulate);
}

/// One tile of kk_weight_grad_dense: as wg_tile, over each image's own positions in steps of 16, every load
/// masked — each tap by the positions whose shifted read falls in the image, dy by the positions the step has.
__attribute__((target("avx512f"))) static void wg_dense_tile(const KKWeightGradDense *g, long o0, long t0) {
  const long l = g->positions, steps = (l + 15) / 16;
  float total[WG_OUT][WG_TAPS][16] __attribute__((aligned(64)));
  memset(total, 0, sizeof(total));
  long row[WG_OUT], tap[WG_TAPS];
  for (int o = 0; o < WG_OUT; o++) row[o] = (o0 + o < g->cout ? o0 + o : g->cout - 1) * l;
  for (int t = 0; t < WG_TAPS; t++) tap[t] = g->taps[t0 + t < g->ntaps ? t0 + t : g->ntaps - 1];
  const unsigned short *masks = g->masks + g->patterns[t0 / WG_TAPS] * steps * 8;
  WG_ALL(WG_DECLARE)
  long pending = 0;
  for (long img = 0; img < g->images; img++) {
    const float *dyImage = g->dy + img * g->dyImageStride, *xImage = g->x + img * g->xImageStride;
    const float *dp0 = dyImage + row[0], *dp1 = dyImage + row[1], *dp2 = dyImage + row[2], *dp3 = dyImage + row[3];
    const float *xp0 = xImage + tap[0], *xp1 = xImage + tap[1], *xp2 = xImage + tap[2];
    const float *xp3 = xImage + tap[3], *xp4 = xImage + tap[4], *xp5 = xImage + tap[5];
    const unsigned short *m = masks;
    for (long p = 0, end = steps * 16; p < end; p += 16, m += 8) {
      const __m512 d0 = _mm512_maskz_loadu_ps(m[6], dp0 + p), d1 = _mm512_maskz_loadu_ps(m[6], dp1 + p);
      const __m512 d2 = _mm512_maskz_loadu_ps(m[6], dp2 + p), d3 = _mm512_maskz_loadu_ps(m[6], dp3 + p);
      const __m512 x0 = _mm512_maskz_loadu_ps(m[0], xp0 + p), x1 = _mm512_maskz_loadu_ps(m[1], xp1 + p);
      const __m512 x2 = _mm512_maskz_loadu_ps(m[2], xp2 + p), x3 = _mm512_maskz_loadu_ps(m[3], xp3 + p);
      const __m512 x4 = _mm512_maskz_loadu_ps(m[4], xp4 + p), x5 = _mm512_maskz_loadu_ps(m[5], xp5 + p);
      WG_ALL(WG_FMA)
      if (++pending == WG_CHAIN) {
        WG_ALL(WG_FLUSH)
        pending = 0;
      }
    }
  }
  WG_ALL(WG_FLUSH)
  wg_store(total, o0, t0, g->cout, g->ntaps, g->dw, g->accumulate);
}

__attribute__((target("avx512f"))) static void wg_dense_tiles_avx512(const KKWeightGradDense *g, long tile0,
                                                                     long tile1) {
  const long groups = (g->ntaps + WG_TAPS - 1) / WG_TAPS;
  for (long tile = tile0; tile < tile1; tile++) wg_dense_tile(g, tile / groups * WG_OUT, tile % groups * WG_TAPS);
}

__attribute__((target("avx512f"))) static void wg_tiles_avx512(const KKWeightGradGrid *g, long tile0, long tile1) {
  const long groups = (g->ntaps + WG_TAPS - 1) / WG_TAPS;
  for (long tile = tile0; tile < tile1; tile++) wg_tile(g, tile / groups * WG_OUT, tile % groups * WG_TAPS);
}
#endif

int kk_weight_grad_grid(const KKWeightGradGrid *g, KKISA isa, long tile0, long tile1) {
#ifdef WG_X86
  if (isa == KK_ISA_AVX512 && kk_cpu_isa() == KK_ISA_AVX512) {
    wg_tiles_avx512(g, tile0, tile1);
    return 0;
  }
#endif
  (void)g; (void)isa; (void)tile0; (void)tile1;
  return -1;
}

int kk_weight_grad_dense(const KKWeightGradDense *g, KKISA isa, long tile0, long tile1) {
#ifdef WG_X86
  if (isa == KK_ISA_AVX512 && kk_cpu_isa() == KK_ISA_AVX512) {
    wg_dense_tiles_avx512(g, tile0, tile1);
    return 0;
  }
#endif
  (void)g; (void)isa; (void)tile0; (void)tile1;
  return -1;
}
