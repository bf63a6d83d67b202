// Direct depthwise 3×3 convolution (MobileNet's), where im2col + GEMM would move nine copies of each plane
// to do nine multiply-adds per output. Each output row sums three input rows; the columns whose window lies
// inside the image run as a straight vectorisable loop, the one or two border columns with bounds checks.
// target_clones compiles the plane kernel for AVX-512, FMA (AVX) and baseline x86-64 and picks one at load
// time (on other CPUs there is just the portable build).
#include "kestrel_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#define KK_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define KK_CLONES
#endif

static inline long dw_min(long a, long b) { return a < b ? a : b; }
static inline long dw_max(long a, long b) { return a > b ? a : b; }

/// One plane: y[oh × ow] = w ⋆ x[h × w] with the given stride and padding (0 or 1), plus bias.
KK_CLONES static void dw_plane(const float *restrict x, long h, long wd, const float *restrict k, float bias,
                               float *restrict y, long oh, long ow, long s, long pad) {
  // Output columns [lo, hi) read columns ox·s − pad … ox·s − pad + 2, all inside [0, wd).
  const long lo = dw_min(ow, (pad + s - 1) / s);
  const long last = wd - 3 + pad;  // the largest ox·s that still fits
  const long hi = last < 0 ? lo : dw_max(lo, dw_min(ow, last / s + 1));
  for (long oy = 0; oy < oh; oy++) {
    float *restrict out = y + oy * ow;
    for (long ox = 0; ox < ow; ox++) out[ox] = bias;
    for (long i = 0; i < 3; i++) {
      const long iy = oy * s - pad + i;
      if (iy < 0 || iy >= h) continue;
      const float *restrict row = x + iy * wd;
      const float k0 = k[i * 3], k1 = k[i * 3 + 1], k2 = k[i * 3 + 2];
      if (s == 1) {
        const float *r = row - pad;
        for (long ox = lo; ox < hi; ox++) out[ox] += k0 * r[ox] + k1 * r[ox + 1] + k2 * r[ox + 2];
      } else {
        const float *r = row - pad;
        for (long ox = lo; ox < hi; ox++) out[ox] += k0 * r[2 * ox] + k1 * r[2 * ox + 1] + k2 * r[2 * ox + 2];
      }
      for (long ox = 0; ox < ow; ox++) {
        if (ox == lo) ox = hi;
        if (ox >= ow) break;
        float acc = 0;
        for (long j = 0; j < 3; j++) {
          const long ix = ox * s - pad + j;
          if (ix >= 0 && ix < wd) acc += k[i * 3 + j] * row[ix];
        }
        out[ox] += acc;
      }
    }
  }
}

int kk_depthwise3x3(const float *x, long height, long width, const float *w, const float *bias, float *y,
                    long stride, long pad, long c0, long c1) {
  if ((stride != 1 && stride != 2) || (pad != 0 && pad != 1)) return -1;
  const long oh = (height + 2 * pad - 3) / stride + 1, ow = (width + 2 * pad - 3) / stride + 1;
  if (oh <= 0 || ow <= 0) return -1;
  for (long c = c0; c < c1; c++)
    dw_plane(x + c * height * width, height, width, w + c * 9, bias ? bias[c] : 0.0f, y + c * oh * ow, oh, ow,
             stride, pad);
  return 0;
}
