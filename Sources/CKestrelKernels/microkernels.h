// Register micro-kernels: C[mr×nr] ← alpha·(A·B) + beta·C over a packed MR×kc panel of A (kc columns of MR
// floats) and a packed kc×NR panel of B (kc rows of NR floats). beta = 0 leaves C unread. The sum for each
// element is one FMA chain over p = 0..<kc, then one FMA with C: the same arithmetic in every kernel, so they
// agree bit for bit.
#include <immintrin.h>

// ---- AVX-512: 8 rows × 32 columns (16 zmm accumulators, 2 zmm of B and one broadcast per step) ----
#define KK_AVX512_MR 8
#define KK_AVX512_NR 32

__attribute__((target("avx512f"))) static inline void kk_ukernel_avx512(long kc, const float *restrict A, long lda,
                                                                       const float *restrict B, float *C, long ldc,
                                                                       float alpha, float beta, long mr, long nr) {
  for (long i = 0; i < mr; i++) {
    __builtin_prefetch(C + i * ldc, 1, 3);
    __builtin_prefetch(C + i * ldc + 16, 1, 3);
  }
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  // lda = 0: A is a packed panel (kc columns of MR floats); otherwise A points at row 0 of a row-major A
  // (rows lda apart), read in place.
  const long rs = lda ? lda : 1, cs = lda ? 1 : KK_AVX512_MR;
  const float *A0 = A, *A1 = A + rs, *A2 = A + 2 * rs, *A3 = A + 3 * rs;
  const float *A4 = A + 4 * rs, *A5 = A + 5 * rs, *A6 = A + 6 * rs, *A7 = A + 7 * rs;
  // A panel of at most 16 columns (the last of a narrow C: 196 = 6·32 + 4) needs only its first vector of B:
  // half the FMAs per step.
  if (nr <= 16)
    for (long p = 0, q = 0; p < kc; p++, q += cs) {
      const __m512 b0 = _mm512_loadu_ps(B);
      c00 = _mm512_fmadd_ps(_mm512_set1_ps(A0[q]), b0, c00); c10 = _mm512_fmadd_ps(_mm512_set1_ps(A1[q]), b0, c10);
      c20 = _mm512_fmadd_ps(_mm512_set1_ps(A2[q]), b0, c20); c30 = _mm512_fmadd_ps(_mm512_set1_ps(A3[q]), b0, c30);
      c40 = _mm512_fmadd_ps(_mm512_set1_ps(A4[q]), b0, c40); c50 = _mm512_fmadd_ps(_mm512_set1_ps(A5[q]), b0, c50);
      c60 = _mm512_fmadd_ps(_mm512_set1_ps(A6[q]), b0, c60); c70 = _mm512_fmadd_ps(_mm512_set1_ps(A7[q]), b0, c70);
      B += KK_AVX512_NR;
    }
  else
    for (long p = 0, q = 0; p < kc; p++, q += cs) {
      const __m512 b0 = _mm512_loadu_ps(B), b1 = _mm512_loadu_ps(B + 16);
      __m512 a;
      a = _mm512_set1_ps(A0[q]); c00 = _mm512_fmadd_ps(a, b0, c00); c01 = _mm512_fmadd_ps(a, b1, c01);
      a = _mm512_set1_ps(A1[q]); c10 = _mm512_fmadd_ps(a, b0, c10); c11 = _mm512_fmadd_ps(a, b1, c11);
      a = _mm512_set1_ps(A2[q]); c20 = _mm512_fmadd_ps(a, b0, c20); c21 = _mm512_fmadd_ps(a, b1, c21);
      a = _mm512_set1_ps(A3[q]); c30 = _mm512_fmadd_ps(a, b0, c30); c31 = _mm512_fmadd_ps(a, b1, c31);
      a = _mm512_set1_ps(A4[q]); c40 = _mm512_fmadd_ps(a, b0, c40); c41 = _mm512_fmadd_ps(a, b1, c41);
      a = _mm512_set1_ps(A5[q]); c50 = _mm512_fmadd_ps(a, b0, c50); c51 = _mm512_fmadd_ps(a, b1, c51);
      a = _mm512_set1_ps(A6[q]); c60 = _mm512_fmadd_ps(a, b0, c60); c61 = _mm512_fmadd_ps(a, b1, c61);
      a = _mm512_set1_ps(A7[q]); c70 = _mm512_fmadd_ps(a, b0, c70); c71 = _mm512_fmadd_ps(a, b1, c71);
      B += KK_AVX512_NR;
    }
  const __m512 acc[KK_AVX512_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                                       {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
  if (mr > KK_AVX512_MR) mr = KK_AVX512_MR;
  for (long i = 0; i < mr; i++) {
    float *row = C + i * ldc;
    if (beta == 0) {
      _mm512_mask_storeu_ps(row, m0, _mm512_mul_ps(va, acc[i][0]));
      _mm512_mask_storeu_ps(row + 16, m1, _mm512_mul_ps(va, acc[i][1]));
    } else {
      const __m512 o0 = _mm512_maskz_loadu_ps(m0, row), o1 = _mm512_maskz_loadu_ps(m1, row + 16);
      _mm512_mask_storeu_ps(row, m0, _mm512_fmadd_ps(va, acc[i][0], _mm512_mul_ps(vb, o0)));
      _mm512_mask_storeu_ps(row + 16, m1, _mm512_fmadd_ps(va, acc[i][1], _mm512_mul_ps(vb, o1)));
    }
  }
}

// ---- AVX2 + FMA: 6 rows × 16 columns (12 ymm accumulators, 2 ymm of B and one broadcast per step) ----
#define KK_AVX2_MR 6
#define KK_AVX2_NR 16

__attribute__((target("avx2,fma"))) static inline void kk_ukernel_avx2(long kc, const float *restrict A,
                                                                      const float *restrict B, float *C, long ldc,
                                                                      float alpha, float beta, long mr, long nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(B), b1 = _mm256_loadu_ps(B + 8);
    __m256 a;
    a = _mm256_broadcast_ss(A + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(A + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(A + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(A + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(A + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(A + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    A += KK_AVX2_MR;
    B += KK_AVX2_NR;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  if (mr == KK_AVX2_MR && nr == KK_AVX2_NR) {
    const __m256 acc[KK_AVX2_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (long i = 0; i < KK_AVX2_MR; i++) {
      float *row = C + i * ldc;
      if (beta == 0) {
        _mm256_storeu_ps(row, _mm256_mul_ps(va, acc[i][0]));
        _mm256_storeu_ps(row + 8, _mm256_mul_ps(va, acc[i][1]));
      } else {
        _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc[i][0], _mm256_mul_ps(vb, _mm256_loadu_ps(row))));
        _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(va, acc[i][1], _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8))));
      }
    }
    return;
  }
  // Edge tile: the same arithmetic element by element.
  float t[KK_AVX2_MR][KK_AVX2_NR];
  _mm256_storeu_ps(t[0], c00); _mm256_storeu_ps(t[0] + 8, c01);
  _mm256_storeu_ps(t[1], c10); _mm256_storeu_ps(t[1] + 8, c11);
  _mm256_storeu_ps(t[2], c20); _mm256_storeu_ps(t[2] + 8, c21);
  _mm256_storeu_ps(t[3], c30); _mm256_storeu_ps(t[3] + 8, c31);
  _mm256_storeu_ps(t[4], c40); _mm256_storeu_ps(t[4] + 8, c41);
  _mm256_storeu_ps(t[5], c50); _mm256_storeu_ps(t[5] + 8, c51);
  if (mr > KK_AVX2_MR) mr = KK_AVX2_MR;
  if (nr > KK_AVX2_NR) nr = KK_AVX2_NR;
  for (long i = 0; i < mr; i++)
    for (long j = 0; j < nr; j++)
      C[i * ldc + j] = beta == 0 ? alpha * t[i][j] : __builtin_fmaf(alpha, t[i][j], beta * C[i * ldc + j]);
}
