// The convolution epilogue over computed planes, for the paths whose kernels do not apply it as they store.
#include "epilogue.h"

void kk_epilogue_planes(const KKEpilogue *ep, float *y, long plane0, long plane1, long l, long channels) {
  for (long plane = plane0; plane < plane1; plane++) {
    float s, t;
    kk_epilogue_channel(ep, plane % channels, &s, &t);
    float *p = y + plane * l;
    for (long i = 0; i < l; i++) p[i] = kk_epilogue_apply(ep->activation, p[i], s, t);
  }
}

/// y = act(y + r): the same operations as the residual sum and activation done as separate ops (v > 0 ? v : 0).
__attribute__((always_inline)) static inline void kk_add_activate_loop(float *restrict y, const float *restrict r,
                                                                       long count, KKActivation act) {
  if (act == KK_ACT_NONE)
    for (long i = 0; i < count; i++) y[i] = y[i] + r[i];
  else if (act == KK_ACT_RELU)
    for (long i = 0; i < count; i++) {
      const float v = y[i] + r[i];
      y[i] = v > 0 ? v : 0;
    }
  else
    for (long i = 0; i < count; i++) {
      const float v = y[i] + r[i], u = v > 0 ? v : 0;
      y[i] = u < 6 ? u : 6;
    }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) static void kk_add_activate_avx512(float *y, const float *r, long count,
                                                                      KKActivation act) {
  kk_add_activate_loop(y, r, count, act);
}
#endif

void kk_add_activate(float *y, const float *r, long count, KKActivation act) {
#if defined(__x86_64__) || defined(__i386__)
  if (kk_cpu_isa() >= KK_ISA_AVX512) {
    kk_add_activate_avx512(y, r, count, act);
    return;
  }
#endif
  kk_add_activate_loop(y, r, count, act);
}
