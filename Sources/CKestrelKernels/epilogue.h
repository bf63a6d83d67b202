// The convolution epilogue (KKEpilogue, see kestrel_kernels.h): act(v·scale[o] + shift[o]) as outputs are stored.
#include "kestrel_kernels.h"

static inline int kk_epilogue_is_identity(const KKEpilogue *ep) {
  return !ep || (!ep->scale && !ep->shift && ep->activation == KK_ACT_NONE);
}

/// The epilogue's constants for channel o: y = act(v·s + t).
static inline void kk_epilogue_channel(const KKEpilogue *ep, long o, float *s, float *t) {
  *s = ep && ep->scale ? ep->scale[o] : 1.0f;
  *t = ep && ep->shift ? ep->shift[o] : 0.0f;
}

static inline float kk_epilogue_apply(KKActivation act, float v, float s, float t) {
  v = v * s + t;
  if (act != KK_ACT_NONE) v = v > 0 ? v : 0;
  if (act == KK_ACT_RELU6) v = v < 6 ? v : 6;
  return v;
}
