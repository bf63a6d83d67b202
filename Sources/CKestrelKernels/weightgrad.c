// The weight gradient of 3×3, stride-1, undilated convolutions by a direct kernel (AVX-512):
//   dW[o, c, ki, kj] = Σ_images Σ_(y, x) dy[o, y, x] · xpad[c, y + ki, x + kj].
// The register tile is 16 output channels (one vector) × the 27 taps of 3 input channels (27 accumulators). Each
// output position loads dy's 16 channels there (dy is first made position-major) and broadcasts the 27 input
// values straight from the zero-padded image — three rows per channel, the kj taps at fixed offsets 0, 1, 2 —
// so neither operand is repacked per tap, and narrow layers (16–64 channels), where a GEMM over an im2col matrix
// spends its time packing, run near the FMA peak. Positions are summed in order, in FMA chains of about 512
// (whole output rows) added to the totals in order; threads split tiles, never positions, so results do not
// depend on the thread count.
#include <string.h>

#include "kestrel_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "transpose.h"
#define WG_X86 1
#endif

long kk_weight_grad3x3_tiles(long cout, long channels) { return (cout + 15) / 16 * ((channels + 2) / 3); }

#ifdef WG_X86
__attribute__((target("avx2"))) static void wg_position_major_avx2(const float *dy, long cout, long l, long ld, float *out) {
  const long o8 = cout / 8 * 8, p8 = l / 8 * 8;
  for (long p = 0; p < p8; p += 8)
    for (long o = 0; o < o8; o += 8) kk_transpose8x8(dy + o * l + p, l, out + p * ld + o, ld);
  for (long p = 0; p < l; p++) {
    long o = p < p8 ? o8 : 0;
    for (; o < cout; o++) out[p * ld + o] = dy[o * l + p];
    for (; o < ld; o++) out[p * ld + o] = 0;
  }
}
#endif

void kk_position_major(const float *dy, long images, long cout, long l, long ld, float *out) {
  for (long img = 0; img < images; img++) {
    const float *s = dy + img * cout * l;
    float *d = out + img * l * ld;
#ifdef WG_X86
    if (__builtin_cpu_supports("avx2")) {
      wg_position_major_avx2(s, cout, l, ld, d);
      continue;
    }
#endif
    for (long p = 0; p < l; p++) {
      long o = 0;
      for (; o < cout; o++) d[p * ld + o] = s[o * l + p];
      for (; o < ld; o++) d[p * ld + o] = 0;
    }
  }
}

#ifdef WG_X86
/// One tile: output channels [o0, o0 + 16) × input channels [c0, c0 + cg), cg = 1, 2 or 3 (a constant after
/// inlining, so the tap loops unroll and the accumulators live in registers).
__attribute__((target("avx512f"), always_inline)) static inline void wg_tile(const KKWeightGrad3x3 *g, long o0, long c0,
                                                                            const int cg) {
  const long l = g->oh * g->ow, plane = g->hp * g->wp, ld = g->ldDyT;
  float total[27][16] __attribute__((aligned(64)));
  memset(total, 0, sizeof(total));
  __m512 acc[27];
  for (int k = 0; k < 27; k++) acc[k] = _mm512_setzero_ps();
  long pending = 0;  // positions summed in the registers since they were last added to `total`
  for (long img = 0; img < g->images; img++) {
    const float *dyImage = g->dyT + img * l * ld + o0;
    const float *xImage = g->xpad + img * g->xpadImageStride + c0 * plane;
    for (long y = 0; y < g->oh; y++) {
      const float *r[9];
      for (int c = 0; c < cg; c++)
        for (int ki = 0; ki < 3; ki++) r[c * 3 + ki] = xImage + c * plane + (y + ki) * g->wp;
      const float *d = dyImage + y * g->ow * ld;
      for (long x = 0; x < g->ow; x++) {
        const __m512 a = _mm512_loadu_ps(d + x * ld);
        for (int k = 0; k < cg * 3; k++) {
          acc[k * 3 + 0] = _mm512_fmadd_ps(a, _mm512_set1_ps(r[k][x]), acc[k * 3 + 0]);
          acc[k * 3 + 1] = _mm512_fmadd_ps(a, _mm512_set1_ps(r[k][x + 1]), acc[k * 3 + 1]);
          acc[k * 3 + 2] = _mm512_fmadd_ps(a, _mm512_set1_ps(r[k][x + 2]), acc[k * 3 + 2]);
        }
      }
      // Chains of at most ~512 positions (then added to the totals), as the GEMM's depth blocks: one chain over a
      // whole 300×300 image lost three digits to rounding.
      pending += g->ow;
      if (pending >= 512 || (img == g->images - 1 && y == g->oh - 1)) {
        for (int k = 0; k < cg * 9; k++) {
          _mm512_store_ps(total[k], _mm512_add_ps(_mm512_load_ps(total[k]), acc[k]));
          acc[k] = _mm512_setzero_ps();
        }
        pending = 0;
      }
    }
  }
  const long valid = g->cout - o0 < 16 ? g->cout - o0 : 16, k9 = g->channels * 9;
  for (long lane = 0; lane < valid; lane++) {
    float *row = g->dw + (o0 + lane) * k9 + c0 * 9;
    for (int k = 0; k < cg * 9; k++) row[k] = g->accumulate ? row[k] + total[k][lane] : total[k][lane];
  }
}

__attribute__((target("avx512f"))) static void wg_tiles_avx512(const KKWeightGrad3x3 *g, long tile0, long tile1) {
  const long groups = (g->channels + 2) / 3;
  for (long t = tile0; t < tile1; t++) {
    const long o0 = t / groups * 16, c0 = t % groups * 3, cg = g->channels - c0 < 3 ? g->channels - c0 : 3;
    if (cg == 3) wg_tile(g, o0, c0, 3);
    else if (cg == 2) wg_tile(g, o0, c0, 2);
    else wg_tile(g, o0, c0, 1);
  }
}
#endif

int kk_weight_grad3x3(const KKWeightGrad3x3 *g, KKISA isa, long tile0, long tile1) {
#ifdef WG_X86
  if (isa == KK_ISA_AVX512 && kk_cpu_isa() == KK_ISA_AVX512) {
    wg_tiles_avx512(g, tile0, tile1);
    return 0;
  }
#endif
  (void)g; (void)isa; (void)tile0; (void)tile1;
  return -1;
}
