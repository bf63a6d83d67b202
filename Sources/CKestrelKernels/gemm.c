// Cache-blocked, packed SGEMM: the driver (gemm_impl.h) instantiated for each instruction set, and the
// run-time choice between them. See kestrel_kernels.h for the conventions.
#include <stdint.h>
#include <string.h>

#include "kestrel_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define KK_X86 1
#endif

// Blocking. The depth block KK_KC is shared by every ISA so that the depth blocks — and hence the results —
// are the same everywhere; it was chosen by measurement on a Zen 4-class core (32 KiB L1d, 1 MiB L2):
// 512 beat 128–384 and 768 on square and convolution-shaped problems.
// KK_MC: rows of the packed A block (a multiple of the ISA's MR; 64·512 floats = 128 KiB, in L2).
// KK_NC: columns of the packed B block (512·1536 floats = 3 MiB, in L3; a multiple of every NR).
#ifndef KK_KC
#define KK_KC 512
#endif
#define KK_MC_MAX 64
#define KK_MC_FOR(mr) (KK_MC_MAX / (mr) * (mr))
#ifndef KK_NC
#define KK_NC 1536
#endif
#define KK_MAX_MR 8
#define KK_MAX_NR 32

static inline long kk_min(long a, long b) { return a < b ? a : b; }
static inline long kk_max(long a, long b) { return a > b ? a : b; }
static inline float *kk_align64(float *p) { return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

/// Depth of every block for a given k: k split into equal blocks of at most KK_KC (a function of k alone).
static inline long kk_depth_block(long k) {
  const long blocks = (k + KK_KC - 1) / KK_KC;
  return blocks > 0 ? (k + blocks - 1) / blocks : 1;
}

/// Adds a computed tile (tile[i·ldt + j] = A·B, unscaled) into C at rows [i0, i0 + mr), columns [j0, j0 + nr),
/// element by element through the segment mapping, with the micro-kernels' arithmetic.
static inline void kk_add_tile(const KKGemm *g, const float *tile, long ldt, long i0, long mr, long j0, long nr,
                               float beta) {
  for (long j = 0; j < nr; j++) {
    const long col = j0 + j;
    float *cp = g->c + (col / g->segment) * g->segmentStride + i0 * g->ldc + col % g->segment;
    for (long i = 0; i < mr; i++) {
      const float acc = tile[i * ldt + j];
      cp[i * g->ldc] = beta == 0 ? g->alpha * acc : __builtin_fmaf(g->alpha, acc, beta * cp[i * g->ldc]);
    }
  }
}

#ifdef KK_X86
#include "microkernels.h"

/// dst[q·ldd + i] = src[i·lds + q] for an 8×8 block (eight rows of src become eight columns of dst).
__attribute__((target("avx2"))) static inline void kk_transpose8x8(const float *src, long lds, float *dst, long ldd) {
  const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
               r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds),
               r5 = _mm256_loadu_ps(src + 5 * lds), r6 = _mm256_loadu_ps(src + 6 * lds),
               r7 = _mm256_loadu_ps(src + 7 * lds);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

#define KK_FN kk_sgemm_avx512
#define KK_TARGET "avx512f,avx2,fma"
#define KK_MR KK_AVX512_MR
#define KK_NR KK_AVX512_NR
#define KK_UKERNEL kk_ukernel_avx512
#include "gemm_impl.h"
#undef KK_FN
#undef KK_TARGET
#undef KK_MR
#undef KK_NR
#undef KK_UKERNEL

#define KK_FN kk_sgemm_avx2
#define KK_TARGET "avx2,fma"
#define KK_MR KK_AVX2_MR
#define KK_NR KK_AVX2_NR
#define KK_UKERNEL kk_ukernel_avx2
#include "gemm_impl.h"
#endif

KKISA kk_cpu_isa(void) {
#ifdef KK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return KK_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return KK_ISA_AVX2;
#endif
  return KK_ISA_NONE;
}

void kk_register_tile(KKISA isa, long *mr, long *nr) {
  *mr = *nr = 0;
#ifdef KK_X86
  if (isa == KK_ISA_AVX512) { *mr = KK_AVX512_MR; *nr = KK_AVX512_NR; }
  if (isa == KK_ISA_AVX2) { *mr = KK_AVX2_MR; *nr = KK_AVX2_NR; }
#endif
}

size_t kk_sgemm_workspace(KKISA isa) {
  (void)isa;
  return (size_t)KK_MC_MAX * KK_KC + (size_t)KK_KC * KK_NC + (size_t)KK_MAX_MR * KK_MAX_NR + 16;
}

/// C ← beta·C over rows [i0, i1) × columns [j0, j1) (the whole answer when k = 0 or alpha = 0).
static void kk_scale(const KKGemm *g, long i0, long i1, long j0, long j1) {
  for (long i = i0; i < i1; i++)
    for (long j = j0; j < j1; j++) {
      float *cp = g->c + (j / g->segment) * g->segmentStride + i * g->ldc + j % g->segment;
      *cp = g->beta == 0 ? 0.0f : g->beta * *cp;
    }
}

int kk_sgemm(const KKGemm *g, KKISA isa, long i0, long i1, long j0, long j1, float *work) {
  if (isa == KK_ISA_NONE || isa > kk_cpu_isa()) return -1;
  if (i0 >= i1 || j0 >= j1) return 0;
  if (g->k == 0 || g->alpha == 0) {
    kk_scale(g, i0, i1, j0, j1);
    return 0;
  }
#ifdef KK_X86
  if (isa == KK_ISA_AVX512) kk_sgemm_avx512(g, i0, i1, j0, j1, work);
  else kk_sgemm_avx2(g, i0, i1, j0, j1, work);
  return 0;
#else
  (void)work;
  return -1;
#endif
}
