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
