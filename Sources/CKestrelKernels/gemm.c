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
#include "transpose.h"

/// The AVX2 micro-kernel only takes packed A panels.
__attribute__((target("avx2,fma"))) static inline void kk_ukernel_avx2_lda(long kc, const float *A, long lda,
    const float *B, float *C, long ldc, float alpha, float beta, long mr, long nr) {
  (void)lda;
  kk_ukernel_avx2(kc, A, B, C, ldc, alpha, beta, mr, nr);
}


#define KK_FN kk_sgemm_avx512
#define KK_TARGET "avx512f,avx2,fma"
#define KK_MR KK_AVX512_MR
#define KK_NR KK_AVX512_NR
#define KK_UKERNEL kk_ukernel_avx512
#define KK_DIRECT_A 1
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
#define KK_UKERNEL kk_ukernel_avx2_lda
#undef KK_DIRECT_A
#define KK_DIRECT_A 0
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
