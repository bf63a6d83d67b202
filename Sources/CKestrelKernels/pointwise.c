// A 1×1 convolution at stride 1 without padding, vectorised over positions (AVX-512):
//   y[o, q] = epilogue_o(Σ_c w[o, c] · x[c, q]).
// The indirect kernel vectorises over output channels and broadcasts positions, so each of its tiles ends in a
// transposing store that writes a few floats into each of 32 output planes. With a shallow depth (MobileNet's
// 32 → 64 at 112×112) that store costs as much as the FMAs. Here a tile is 8 output channels × 48 consecutive
// positions (3 vectors, 24 accumulators): each step broadcasts 8 weights and loads 3 vectors of the input, and
// the tile is stored as 8 runs of 48 floats, in the order of NCHW memory. The 48-position panel of the input is
// first copied into a contiguous, aligned scratch ([depth][48]): read in place, its rows are a plane apart and
// fall into a few L1 sets.
// On maps of a few hundred positions (14×14), 48-position runs waste most of the last one, and a narrow tile
// is taken instead: 16 output channels × 16 positions (one vector, 16 accumulators, 16 broadcasts of one cache
// line of weights per step), one run at a time.
// Every output is one FMA chain over the depth, in order, so results do not depend on how tasks are split.
#include <stdint.h>

#include "epilogue.h"
#include "kestrel_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PW_X86 1
#endif

#define PW_COLS 48
#define PW_ROWS 8
#define PW_PANEL 32  // output channels per packed weight panel (kk_pack_conv_weights with nr = 32)

/// Runs packed and computed together: their inputs within about 128 KiB (L2), at most 16.
#define PW_GROUP_FLOATS 32768

static inline long pw_min(long a, long b) { return a < b ? a : b; }
static long pw_group(long depth) {
  const long runs = PW_GROUP_FLOATS / (PW_COLS * (depth > 0 ? depth : 1));
  return runs < 1 ? 1 : runs > 16 ? 16 : runs;
}

void kk_subsample_planes(const float *x, long planes, long h, long w, long sh, long sw, long oh, long ow,
                         float *out) {
  for (long p = 0; p < planes; p++) {
    const float *src = x + p * h * w;
    float *dst = out + p * oh * ow;
    for (long oy = 0; oy < oh; oy++) {
      const float *row = src + oy * sh * w;
      float *o = dst + oy * ow;
      if (sw == 2)  // the common case, as a constant stride the compiler vectorises
        for (long ox = 0; ox < ow; ox++) o[ox] = row[2 * ox];
      else
        for (long ox = 0; ox < ow; ox++) o[ox] = row[ox * sw];
    }
  }
}

long kk_pointwise_panels(long positions, int narrow) {
  const long width = narrow ? 16 : PW_COLS;
  return (positions + width - 1) / width;
}
long kk_pointwise_scratch(long depth, int narrow) {
  return (narrow ? 16 : pw_group(depth) * PW_COLS) * depth + 16;  // + alignment
}

#ifdef PW_X86
#define PW_ROW(M, i) M(i, 0) M(i, 1) M(i, 2)
#define PW_ALL(M) PW_ROW(M, 0) PW_ROW(M, 1) PW_ROW(M, 2) PW_ROW(M, 3) PW_ROW(M, 4) PW_ROW(M, 5) PW_ROW(M, 6) PW_ROW(M, 7)
#define PW_DECLARE(i, j) __m512 a##i##j = _mm512_setzero_ps();
#define PW_FMA(i, j) a##i##j = _mm512_fmadd_ps(b##i, x##j, a##i##j);
#define PW_BROADCAST(i) const __m512 b##i = _mm512_set1_ps(w[i]);
#define PW_EPILOGUE(i, j)                                                                                       \
  if (pe) {                                                                                                     \
    a##i##j = _mm512_fmadd_ps(a##i##j, s##i, t##i);                                                            \
    if (act != KK_ACT_NONE) a##i##j = _mm512_max_ps(a##i##j, zero);                                             \
    if (act == KK_ACT_RELU6) a##i##j = _mm512_min_ps(a##i##j, six);                                             \
  }
#define PW_STORE(i, j)                                                                                          \
  if (i < rows) {                                                                                               \
    if (count == PW_COLS)                                                                                       \
      _mm512_storeu_ps(y + i * l + j * 16, a##i##j);                                                            \
    else if (count > j * 16)                                                                                    \
      _mm512_mask_storeu_ps(y + i * l + j * 16, pw_mask(count - j * 16), a##i##j);                              \
  }

static inline __mmask16 pw_mask(long n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

/// One tile: output channels o0 ..< o0 + rows (rows ≤ 8) of the panel whose packed weights start at `panel`
/// (row o0 % 32 of it), over the `count` (≤ 48) positions whose inputs are packed at `xs` ([depth][48]).
__attribute__((target("avx512f"))) static void pw_tile(const float *xs, const float *panel, long depth, long o0,
                                                      long rows, long count, const KKEpilogue *pe, float *y,
                                                      long l) {
  PW_ALL(PW_DECLARE)
  const float *w = panel + o0 % PW_PANEL;
  for (long k = 0; k < depth; k++, xs += PW_COLS, w += PW_PANEL) {
    const __m512 x0 = _mm512_load_ps(xs), x1 = _mm512_load_ps(xs + 16), x2 = _mm512_load_ps(xs + 32);
    PW_BROADCAST(0) PW_BROADCAST(1) PW_BROADCAST(2) PW_BROADCAST(3)
    PW_BROADCAST(4) PW_BROADCAST(5) PW_BROADCAST(6) PW_BROADCAST(7)
    PW_ALL(PW_FMA)
  }
  const KKActivation act = pe ? pe->activation : KK_ACT_NONE;
  const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
  __m512 s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero;
  __m512 t0 = zero, t1 = zero, t2 = zero, t3 = zero, t4 = zero, t5 = zero, t6 = zero, t7 = zero;
  if (pe) {
    float s[PW_ROWS], t[PW_ROWS];
    for (long i = 0; i < PW_ROWS; i++) kk_epilogue_channel(pe, o0 + (i < rows ? i : 0), &s[i], &t[i]);
    s0 = _mm512_set1_ps(s[0]); s1 = _mm512_set1_ps(s[1]); s2 = _mm512_set1_ps(s[2]); s3 = _mm512_set1_ps(s[3]);
    s4 = _mm512_set1_ps(s[4]); s5 = _mm512_set1_ps(s[5]); s6 = _mm512_set1_ps(s[6]); s7 = _mm512_set1_ps(s[7]);
    t0 = _mm512_set1_ps(t[0]); t1 = _mm512_set1_ps(t[1]); t2 = _mm512_set1_ps(t[2]); t3 = _mm512_set1_ps(t[3]);
    t4 = _mm512_set1_ps(t[4]); t5 = _mm512_set1_ps(t[5]); t6 = _mm512_set1_ps(t[6]); t7 = _mm512_set1_ps(t[7]);
  }
  PW_ALL(PW_EPILOGUE)
  PW_ALL(PW_STORE)
}

/// Copies positions q0 ..< q0 + count (≤ 48) of every input channel into xs ([depth][48], zeros past count).
__attribute__((target("avx512f"))) static void pw_pack(const float *x, long l, long depth, long q0, long count,
                                                      float *xs) {
  if (count == PW_COLS) {
    for (long k = 0; k < depth; k++) {
      const float *src = x + k * l + q0;
      _mm512_store_ps(xs + k * PW_COLS, _mm512_loadu_ps(src));
      _mm512_store_ps(xs + k * PW_COLS + 16, _mm512_loadu_ps(src + 16));
      _mm512_store_ps(xs + k * PW_COLS + 32, _mm512_loadu_ps(src + 32));
    }
    return;
  }
  const __mmask16 m0 = pw_mask(count), m1 = pw_mask(count > 16 ? count - 16 : 0),
                  m2 = pw_mask(count > 32 ? count - 32 : 0);
  for (long k = 0; k < depth; k++) {
    const float *src = x + k * l + q0;
    _mm512_store_ps(xs + k * PW_COLS, _mm512_maskz_loadu_ps(m0, src));
    _mm512_store_ps(xs + k * PW_COLS + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    _mm512_store_ps(xs + k * PW_COLS + 32, _mm512_maskz_loadu_ps(m2, src + 32));
  }
}

#define PW_Q_DECLARE(i) __m512 q##i = _mm512_setzero_ps();
#define PW_Q_FMA(i) q##i = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), x, q##i);
#define PW_Q_ALL(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define PW_Q_FINISH(i)                                                                                          \
  if (i < rows) {                                                                                               \
    if (pe) {                                                                                                   \
      float s, t;                                                                                               \
      kk_epilogue_channel(pe, o0 + i, &s, &t);                                                                  \
      q##i = _mm512_fmadd_ps(q##i, _mm512_set1_ps(s), _mm512_set1_ps(t));                                      \
      if (act != KK_ACT_NONE) q##i = _mm512_max_ps(q##i, zero);                                                 \
      if (act == KK_ACT_RELU6) q##i = _mm512_min_ps(q##i, six);                                                 \
    }                                                                                                           \
    if (count == 16)                                                                                            \
      _mm512_storeu_ps(y + i * l, q##i);                                                                        \
    else                                                                                                        \
      _mm512_mask_storeu_ps(y + i * l, pw_mask(count), q##i);                                                   \
  }

/// The narrow tile: output channels o0 ..< o0 + rows (rows ≤ 16, o0 a multiple of 16) over the `count` (≤ 16)
/// positions whose inputs are packed at `xs` ([depth][16]).
__attribute__((target("avx512f"))) static void pw_tile16(const float *xs, const float *panel, long depth, long o0,
                                                        long rows, long count, const KKEpilogue *pe, float *y,
                                                        long l) {
  PW_Q_ALL(PW_Q_DECLARE)
  const float *w = panel + o0 % PW_PANEL;
  for (long k = 0; k < depth; k++, xs += 16, w += PW_PANEL) {
    const __m512 x = _mm512_load_ps(xs);
    PW_Q_ALL(PW_Q_FMA)
  }
  const KKActivation act = pe ? pe->activation : KK_ACT_NONE;
  const __m512 zero = _mm512_setzero_ps(), six = _mm512_set1_ps(6);
  PW_Q_ALL(PW_Q_FINISH)
}

__attribute__((target("avx512f"))) static void pw_narrow_tasks_avx512(const KKPointwiseConv *cv, long task0,
                                                                     long task1, float *scratch) {
  const long l = cv->positions, runs = kk_pointwise_panels(l, 1);
  const KKEpilogue *pe = kk_epilogue_is_identity(&cv->epilogue) ? NULL : &cv->epilogue;
  scratch = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  for (long task = task0; task < task1; task++) {
    const long img = task / runs, q0 = task % runs * 16, count = pw_min(16, l - q0);
    const __mmask16 m = pw_mask(count);
    const float *x = cv->x + img * cv->xImageStride + q0;
    for (long k = 0; k < cv->depth; k++) _mm512_store_ps(scratch + k * 16, _mm512_maskz_loadu_ps(m, x + k * l));
    float *y = cv->y + img * cv->yImageStride + q0;
    for (long o0 = 0; o0 < cv->cout; o0 += 16)
      pw_tile16(scratch, cv->packed + o0 / PW_PANEL * PW_PANEL * cv->depth, cv->depth, o0,
                pw_min(16, cv->cout - o0), count, pe, y + o0 * l, l);
  }
}

__attribute__((target("avx512f"))) static void pw_tasks_avx512(const KKPointwiseConv *cv, long task0, long task1,
                                                              float *scratch) {
  const long l = cv->positions, panels = kk_pointwise_panels(l, 0), group = pw_group(cv->depth);
  const long runFloats = PW_COLS * cv->depth;
  const KKEpilogue *pe = kk_epilogue_is_identity(&cv->epilogue) ? NULL : &cv->epilogue;
  scratch = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);  // for the aligned loads of the packed runs
  for (long task = task0; task < task1;) {
    // A group of consecutive runs of one image: packed together, then each tile row of output channels runs
    // past all of them, so the outputs are written as long runs of a few planes at a time.
    const long img = task / panels, first = task % panels;
    const long runs = pw_min(pw_min(group, task1 - task), panels - first);
    for (long r = 0; r < runs; r++) {
      const long q0 = (first + r) * PW_COLS;
      pw_pack(cv->x + img * cv->xImageStride, l, cv->depth, q0, pw_min(PW_COLS, l - q0), scratch + r * runFloats);
    }
    float *y = cv->y + img * cv->yImageStride;
    for (long o0 = 0; o0 < cv->cout; o0 += PW_ROWS) {
      const float *panel = cv->packed + o0 / PW_PANEL * PW_PANEL * cv->depth;
      const long rows = pw_min(PW_ROWS, cv->cout - o0);
      for (long r = 0; r < runs; r++) {
        const long q0 = (first + r) * PW_COLS;
        pw_tile(scratch + r * runFloats, panel, cv->depth, o0, rows, pw_min(PW_COLS, l - q0), pe, y + o0 * l + q0, l);
      }
    }
    task += runs;
  }
}
#endif

int kk_conv_pointwise(const KKPointwiseConv *cv, KKISA isa, long task0, long task1, float *scratch) {
#ifdef PW_X86
  if (isa == KK_ISA_AVX512 && kk_cpu_isa() == KK_ISA_AVX512) {
    if (cv->narrow) pw_narrow_tasks_avx512(cv, task0, task1, scratch);
    else pw_tasks_avx512(cv, task0, task1, scratch);
    return 0;
  }
#endif
  (void)cv; (void)isa; (void)task0; (void)task1; (void)scratch;
  return -1;
}
