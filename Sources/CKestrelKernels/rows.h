// One row of a zero-padded or gridded layout: dst[0 ..< total] = zeros, except dst[lead ..< lead + n] =
// src[0 ..< n]. The layouts the convolution kernels read (kk_pad_planes, the weight gradient's grids) are built
// from such rows, and on small maps a row is 8–64 floats, where a memcpy and a memset per row cost more than
// the copy itself.
#ifndef KK_ROWS_H
#define KK_ROWS_H
#include <string.h>

__attribute__((no_builtin("memcpy"), no_builtin("memset"))) static inline void kk_row_portable(
    float *restrict dst, const float *restrict src, long lead, long n, long total) {
  long j = 0;
  for (; j < lead; j++) dst[j] = 0;
  for (; j < lead + n; j++) dst[j] = src[j - lead];
  for (; j < total; j++) dst[j] = 0;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// Lanes [lo, hi) of 16, each bound clamped to 0 … 16.
static inline __mmask16 kk_lanes(long lo, long hi) {
  lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
  hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
  return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/// kk_row_portable by 16-float moves: zeros and data are put together in a register by a masked load (whose
/// masked-off lanes are never read, so src − lead need not point into an array) and stored whole. A store may
/// run up to 15 floats past the row, into memory the caller writes later (`end`: the first float it may not
/// touch; chunks reaching it are stored under a mask). Masked stores to memory are slow on AMD's cores (a
/// 34-float row took 15 ns with them, 3 ns without).
__attribute__((target("avx512f"))) static inline void kk_row_avx512(float *dst, const float *src, long lead, long n,
                                                                    long total, const float *end) {
  const char *s = (const char *)src - lead * (long)sizeof(float);
  for (long t = 0; t < total; t += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(kk_lanes(lead - t, lead + n - t), s + t * (long)sizeof(float));
    if (dst + t + 16 <= end) _mm512_storeu_ps(dst + t, v);
    else _mm512_mask_storeu_ps(dst + t, kk_lanes(0, total - t), v);
  }
}

/// One row by either: `avx512` is a constant in each of the two copies of a caller (see KK_ROWS_DISPATCH).
/// Rows must be written in increasing address order up to `end`, the first float past the caller's buffer.
__attribute__((always_inline)) static inline void kk_row(int avx512, float *dst, const float *src, long lead, long n,
                                                         long total, const float *end) {
  if (avx512) kk_row_avx512(dst, src, lead, n, total, end);
  else kk_row_portable(dst, src, lead, n, total);
}

/// Defines `void NAME PARAMS` as NAME##_rows ARGS (an always-inline function whose last parameter is the
/// `avx512` flag for kk_row) compiled twice: for AVX-512, where kk_row_avx512 is inlined into the row loop (a
/// call per row cost as much as the row), and portably, chosen once per call.
#define KK_ROWS_DISPATCH(NAME, PARAMS, ...)                                                                     \
  __attribute__((target("avx512f"))) static void NAME##_avx512 PARAMS { NAME##_rows(__VA_ARGS__, 1); }          \
  void NAME PARAMS {                                                                                            \
    if (kk_cpu_isa() >= KK_ISA_AVX512) NAME##_avx512(__VA_ARGS__);                                               \
    else NAME##_rows(__VA_ARGS__, 0);                                                                          \
  }
#else
__attribute__((always_inline)) static inline void kk_row(int avx512, float *dst, const float *src, long lead, long n,
                                                         long total, const float *end) {
  (void)avx512;
  (void)end;
  kk_row_portable(dst, src, lead, n, total);
}

#define KK_ROWS_DISPATCH(NAME, PARAMS, ...) \
  void NAME PARAMS { NAME##_rows(__VA_ARGS__, 0); }
#endif
#endif
