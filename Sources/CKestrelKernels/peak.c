// The FP32 FMA peak of one core, measured the way ../shared/anchors/limits.c does: twelve independent FMA
// chains (enough to cover the latency on every current core) on full-width vectors of the given ISA. The
// caller times the call: it performs iterations · 12 · lanes FMAs (2 FLOP each), lanes = 16 for AVX-512,
// 8 for AVX2.
#include "kestrel_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static volatile float kk_seed = 1.0f;

__attribute__((target("avx512f"))) static float kk_peak_avx512(long iterations) {
  const float s = kk_seed;
  __m512 a0 = _mm512_set1_ps(s), a1 = _mm512_set1_ps(s + 0.1f), a2 = _mm512_set1_ps(s + 0.2f),
         a3 = _mm512_set1_ps(s + 0.3f), a4 = _mm512_set1_ps(s + 0.4f), a5 = _mm512_set1_ps(s + 0.5f),
         a6 = _mm512_set1_ps(s + 0.6f), a7 = _mm512_set1_ps(s + 0.7f), a8 = _mm512_set1_ps(s + 0.8f),
         a9 = _mm512_set1_ps(s + 0.9f), a10 = _mm512_set1_ps(s + 1.0f), a11 = _mm512_set1_ps(s + 1.1f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; i++) {
    a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c); a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c); a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
  }
  __m512 t = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  t = _mm512_add_ps(t, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  return _mm512_reduce_add_ps(t);
}

__attribute__((target("avx2,fma"))) static float kk_peak_avx2(long iterations) {
  const float s = kk_seed;
  __m256 a0 = _mm256_set1_ps(s), a1 = _mm256_set1_ps(s + 0.1f), a2 = _mm256_set1_ps(s + 0.2f),
         a3 = _mm256_set1_ps(s + 0.3f), a4 = _mm256_set1_ps(s + 0.4f), a5 = _mm256_set1_ps(s + 0.5f),
         a6 = _mm256_set1_ps(s + 0.6f), a7 = _mm256_set1_ps(s + 0.7f), a8 = _mm256_set1_ps(s + 0.8f),
         a9 = _mm256_set1_ps(s + 0.9f), a10 = _mm256_set1_ps(s + 1.0f), a11 = _mm256_set1_ps(s + 1.1f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; i++) {
    a0 = _mm256_fmadd_ps(a0, m, c); a1 = _mm256_fmadd_ps(a1, m, c); a2 = _mm256_fmadd_ps(a2, m, c);
    a3 = _mm256_fmadd_ps(a3, m, c); a4 = _mm256_fmadd_ps(a4, m, c); a5 = _mm256_fmadd_ps(a5, m, c);
    a6 = _mm256_fmadd_ps(a6, m, c); a7 = _mm256_fmadd_ps(a7, m, c); a8 = _mm256_fmadd_ps(a8, m, c);
    a9 = _mm256_fmadd_ps(a9, m, c); a10 = _mm256_fmadd_ps(a10, m, c); a11 = _mm256_fmadd_ps(a11, m, c);
  }
  __m256 t = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  t = _mm256_add_ps(t, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  float out[8];
  _mm256_storeu_ps(out, t);
  return out[0];
}
#endif

float kk_fma_peak_probe(KKISA isa, long iterations) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == KK_ISA_AVX512 && kk_cpu_isa() >= KK_ISA_AVX512) return kk_peak_avx512(iterations);
  if (isa == KK_ISA_AVX2 && kk_cpu_isa() >= KK_ISA_AVX2) return kk_peak_avx2(iterations);
#endif
  (void)isa;
  (void)iterations;
  return 0;
}
