// The blocked SGEMM driver, instantiated once per instruction set by gemm.c. Before including, define:
//   KK_FN        name of the entry point: void KK_FN(const KKGemm *, long i0, long i1, long j0, long j1, float *)
//   KK_TARGET    the target attribute string ("avx512f,avx2,fma" …): everything below is compiled for it
//   KK_MR, KK_NR the register tile
//   KK_DIRECT_A  1 when the micro-kernel can read A in place (lda ≠ 0), 0 when it needs packed panels
//   KK_UKERNEL   the micro-kernel: void (long kc, const float *A, long lda, const float *B, float *C, long ldc,
//                float alpha, float beta, long mr, long nr) — C[mr×nr] ← alpha·A·B + beta·C (beta 0: C unread)
//                over a packed MR×kc panel A (lda = 0) or rows of A read in place, and a packed kc×NR panel B.
//
// Loop nest (BLIS / GotoBLAS): columns in blocks of KK_NC → depth in blocks of kc (KK_KC at most, balanced) →
// pack B[kc × nc] into NR-wide panels → rows in blocks of KK_MC → pack A[mc × kc] into MR-high panels →
// NR panel → MR panel → micro-kernel. The packed A block (mc·kc floats) stays in L2, one B panel
// (kc·NR floats) in L1 while the MR panels of A stream past it.

#define KK_ATTR __attribute__((target(KK_TARGET)))
#define KK_CAT2(a, b) a##b
#define KK_CAT(a, b) KK_CAT2(a, b)
#define KK_PACK_A KK_CAT(KK_FN, _pack_a)
#define KK_PACK_B KK_CAT(KK_FN, _pack_b)
#define KK_PACK_B_IM2COL KK_CAT(KK_FN, _pack_b_im2col)
#define KK_PACK_B_IM2COL_T KK_CAT(KK_FN, _pack_b_im2col_t)

/// A[ic.., pc..] (mc × kc) → MR-high panels, each kc columns of MR consecutive floats; rows past mc are 0.
static KK_ATTR void KK_PACK_A(const KKGemm *g, long ic, long mc, long pc, long kc, float *restrict dst) {
  const long rsa = g->rsa, csa = g->csa;
  for (long ir = 0; ir < mc; ir += KK_MR) {
    const long mr = kk_min(KK_MR, mc - ir);
    float *restrict d = dst + ir * kc;
    const float *src = g->a + (ic + ir) * rsa + pc * csa;
    if (csa == 1 && mr == 8 && KK_MR == 8) {
      // Rows contiguous along k: 8×8 blocks transposed in registers.
      long p = 0;
      for (; p + 8 <= kc; p += 8) kk_transpose8x8(src + p, rsa, d + p * 8, 8);
      for (; p < kc; p++)
        for (long i = 0; i < 8; i++) d[p * 8 + i] = src[i * rsa + p];
    } else if (csa == 1) {
      // Rows contiguous along k: read each row, write it strided.
      for (long i = 0; i < mr; i++)
        for (long p = 0; p < kc; p++) d[p * KK_MR + i] = src[i * rsa + p];
      for (long i = mr; i < KK_MR; i++)
        for (long p = 0; p < kc; p++) d[p * KK_MR + i] = 0;
    } else {
      for (long p = 0; p < kc; p++) {
        const float *s = src + p * csa;
        long i = 0;
        for (; i < mr; i++) d[p * KK_MR + i] = s[i * rsa];
        for (; i < KK_MR; i++) d[p * KK_MR + i] = 0;
      }
    }
  }
}

/// Dense B[pc.., jc..] (kc × nc) → NR-wide panels, each kc rows of NR consecutive floats; columns past nc are 0.
static KK_ATTR void KK_PACK_B(const KKGemm *g, long pc, long kc, long jc, long nc, float *restrict dst) {
  const long rs = g->b.dense.rs, cs = g->b.dense.cs;
  if (cs == 1) {
    // Rows contiguous along n: sixteen rows at a time, each read front to back and dealt out to the panels
    // (few enough rows for the TLB, enough for each panel to receive 2 KiB at a time).
    const long full = nc / KK_NR * KK_NR;
    for (long p0 = 0; p0 < kc; p0 += 16) {
      const long p1 = kk_min(kc, p0 + 16);
      for (long jr = 0; jr < full; jr += KK_NR)
        for (long p = p0; p < p1; p++)
          memcpy(dst + jr * kc + p * KK_NR, g->b.dense.p + (pc + p) * rs + jc + jr, KK_NR * sizeof(float));
    }
    for (long p = 0; p < kc; p++) {
      const float *s = g->b.dense.p + (pc + p) * rs + jc;
      if (full < nc) {
        float *restrict d = dst + full * kc + p * KK_NR;
        long t = 0;
        for (; t < nc - full; t++) d[t] = s[full + t];
        for (; t < KK_NR; t++) d[t] = 0;
      }
    }
    return;
  }
  for (long jr = 0; jr < nc; jr += KK_NR) {
    const long nr = kk_min(KK_NR, nc - jr);
    float *restrict d = dst + jr * kc;
    const float *src = g->b.dense.p + pc * rs + (jc + jr) * cs;
    if (rs == 1) {
      // Columns contiguous along k (a transposed B): eight rows at a time so reads stay sequential.
      long p = 0;
      for (; p + 8 <= kc; p += 8) {
        if (nr == KK_NR) {
          for (long t = 0; t < KK_NR; t += 8) kk_transpose8x8(src + t * cs + p, cs, d + p * KK_NR + t, KK_NR);
          continue;
        }
        for (long t = 0; t < nr; t++) {
          const float *s = src + t * cs + p;
          for (long q = 0; q < 8; q++) d[(p + q) * KK_NR + t] = s[q];
        }
        for (long t = nr; t < KK_NR; t++)
          for (long q = 0; q < 8; q++) d[(p + q) * KK_NR + t] = 0;
      }
      for (; p < kc; p++) {
        long t = 0;
        for (; t < nr; t++) d[p * KK_NR + t] = src[t * cs + p];
        for (; t < KK_NR; t++) d[p * KK_NR + t] = 0;
      }
    } else {
      for (long p = 0; p < kc; p++) {
        const float *s = src + p * rs;
        long t = 0;
        for (; t < nr; t++) d[p * KK_NR + t] = s[t * cs];
        for (; t < KK_NR; t++) d[p * KK_NR + t] = 0;
      }
    }
  }
}

/// The im2col matrix's rows [pc, pc + kc) × columns [jc, jc + nc), read straight from the images into
/// NR-wide panels (the column matrix is never written out).
static KK_ATTR void KK_PACK_B_IM2COL(const KKGemm *g, long pc, long kc, long jc, long nc, float *restrict dst) {
  const KKIm2col *s = &g->b.im2col;
  const long l = s->oh * s->ow, plane = s->height * s->width, taps = s->kh * s->kw;
  // A panel's columns split into runs that share (image, output row): at most NR of them.
  long runStart[KK_NR + 1], runImage[KK_NR], runY[KK_NR], runX[KK_NR];
  for (long jr = 0; jr < nc; jr += KK_NR) {
    const long nr = kk_min(KK_NR, nc - jr);
    float *restrict d = dst + jr * kc;
    long runs = 0;
    for (long t = 0; t < nr;) {
      const long j = jc + jr + t, img = j / l, pos = j % l, y = pos / s->ow, x = pos % s->ow;
      const long len = kk_min(nr - t, s->ow - x);
      runStart[runs] = t; runImage[runs] = img; runY[runs] = y; runX[runs] = x;
      runs++;
      t += len;
    }
    runStart[runs] = nr;
    long c = pc / taps, ki = (pc % taps) / s->kw, kj = pc % s->kw;
    for (long p = 0; p < kc; p++) {
      float *restrict row = d + p * KK_NR;
      for (long r = 0; r < runs; r++) {
        const long t0 = runStart[r], len = runStart[r + 1] - t0;
        const long ih = runY[r] * s->sh - s->ph + ki * s->dh;
        if (ih < 0 || ih >= s->height) {
          for (long t = 0; t < len; t++) row[t0 + t] = 0;
          continue;
        }
        const float *line = s->x + runImage[r] * s->imageStride + c * plane + ih * s->width;
        const long iw0 = runX[r] * s->sw - s->pw + kj * s->dw;
        if (s->sw == 1) {
          // Columns [lo, hi) of the run read inside the image; the rest is padding.
          const long lo = kk_min(len, kk_max(0, -iw0)), hi = kk_max(lo, kk_min(len, s->width - iw0));
          for (long t = 0; t < lo; t++) row[t0 + t] = 0;
          if (hi > lo) memcpy(row + t0 + lo, line + iw0 + lo, (size_t)(hi - lo) * sizeof(float));
          for (long t = hi; t < len; t++) row[t0 + t] = 0;
        } else {
          for (long t = 0; t < len; t++) {
            const long iw = iw0 + t * s->sw;
            row[t0 + t] = (iw >= 0 && iw < s->width) ? line[iw] : 0;
          }
        }
      }
      for (long t = nr; t < KK_NR; t++) row[t] = 0;
      if (++kj == s->kw) { kj = 0; if (++ki == s->kh) { ki = 0; c++; } }
    }
  }
}

/// The transposed im2col matrix's rows [pc, pc + kc) (output positions) × columns [jc, jc + nc) (taps), read
/// straight from the images: eight taps at a time are gathered along the positions into rows of a small
/// buffer (runs of one output row are contiguous in the image for stride 1), then transposed into the panel.
static KK_ATTR void KK_PACK_B_IM2COL_T(const KKGemm *g, long pc, long kc, long jc, long nc, float *restrict dst) {
  const KKIm2col *s = &g->b.im2col;
  const long l = s->oh * s->ow, plane = s->height * s->width, taps = s->kh * s->kw;
  float rows[8][KK_KC] __attribute__((aligned(64)));
  for (long jr = 0; jr < nc; jr += KK_NR) {
    const long nr = kk_min(KK_NR, nc - jr);
    float *restrict d = dst + jr * kc;
    for (long t0 = 0; t0 < KK_NR; t0 += 8) {
      for (long q = 0; q < 8; q++) {
        float *restrict row = rows[q];
        const long t = t0 + q;
        if (t >= nr) {
          memset(row, 0, (size_t)kc * sizeof(float));
          continue;
        }
        const long j = jc + jr + t, c = j / taps, ki = (j % taps) / s->kw, kj = j % s->kw;
        // The position (img, y, x) of row p, advanced run by run without dividing.
        long img = pc / l, y = (pc % l) / s->ow, x = pc % s->ow;
        for (long p = 0; p < kc;) {
          const long len = kk_min(kc - p, s->ow - x);
          float *restrict out = row + p;
          const long runY = y, runX = x, runImage = img;
          p += len;
          x += len;
          if (x == s->ow) {
            x = 0;
            if (++y == s->oh) { y = 0; img++; }
          }
          const long ih = runY * s->sh - s->ph + ki * s->dh;
          if (ih < 0 || ih >= s->height) {
            memset(out, 0, (size_t)len * sizeof(float));
            continue;
          }
          const float *line = s->x + runImage * s->imageStride + c * plane + ih * s->width;
          const long iw0 = runX * s->sw - s->pw + kj * s->dw;
          if (s->sw == 1) {
            const long lo = kk_min(len, kk_max(0, -iw0)), hi = kk_max(lo, kk_min(len, s->width - iw0));
            for (long u = 0; u < lo; u++) out[u] = 0;
            for (long u = lo; u < hi; u++) out[u] = line[iw0 + u];  // short runs: a loop beats memcpy's call
            for (long u = hi; u < len; u++) out[u] = 0;
          } else {
            for (long u = 0; u < len; u++) {
              const long iw = iw0 + u * s->sw;
              out[u] = (iw >= 0 && iw < s->width) ? line[iw] : 0;
            }
          }
        }
      }
      long p = 0;
      for (; p + 8 <= kc; p += 8) kk_transpose8x8(&rows[0][p], KK_KC, d + p * KK_NR + t0, KK_NR);
      for (; p < kc; p++)
        for (long q = 0; q < 8; q++) d[p * KK_NR + t0 + q] = rows[q][p];
    }
  }
}

KK_ATTR void KK_FN(const KKGemm *g, long i0, long i1, long j0, long j1, float *work) {
  float *ap = kk_align64(work);
  float *bp = ap + KK_MC_FOR(KK_MR) * KK_KC;
  float *tile = bp + KK_KC * KK_NC;
  const long k = g->k, kcBlock = kk_depth_block(k);
  const long seg = g->segment, segStride = g->segmentStride, ldc = g->ldc;
  for (long jc = j0; jc < j1; jc += KK_NC) {
    const long nc = kk_min(KK_NC, j1 - jc);
    for (long pc = 0; pc < k; pc += kcBlock) {
      const long kc = kk_min(kcBlock, k - pc);
      const float beta = pc == 0 ? g->beta : 1.0f;
      if (g->b.kind == KK_B_IM2COL) KK_PACK_B_IM2COL(g, pc, kc, jc, nc, bp);
      else if (g->b.kind == KK_B_IM2COL_T) KK_PACK_B_IM2COL_T(g, pc, kc, jc, nc, bp);
      else KK_PACK_B(g, pc, kc, jc, nc, bp);
      for (long ic = i0; ic < i1; ic += KK_MC_FOR(KK_MR)) {
        const long mc = kk_min(KK_MC_FOR(KK_MR), i1 - ic);
        // When few B panels share this A block (nc < 8·NR), packing A costs about as much as it saves: full
        // MR-row panels of a row-major A are then read in place (if the micro-kernel can, KK_DIRECT_A); the
        // rest is packed. Measured: 512×49×4608 went from 69 to 79 GFLOP/s on one core; wide problems lost.
        const long direct = KK_DIRECT_A && g->csa == 1 && nc < 8 * KK_NR ? mc / KK_MR * KK_MR : 0;
        if (direct < mc) KK_PACK_A(g, ic + direct, mc - direct, pc, kc, ap + direct * kc);
        for (long jr = 0; jr < nc; jr += KK_NR) {
          const long nr = kk_min(KK_NR, nc - jr), j = jc + jr;
          const long segIndex = j / seg, inSeg = j % seg;
          const float *bpanel = bp + jr * kc;
          if (inSeg + nr <= seg) {
            float *cp = g->c + segIndex * segStride + ic * ldc + inSeg;
            for (long ir = 0; ir < mc; ir += KK_MR) {
              if (ir < direct)
                KK_UKERNEL(kc, g->a + (ic + ir) * g->rsa + pc, g->rsa, bpanel, cp + ir * ldc, ldc, g->alpha, beta,
                           KK_MR, nr);
              else
                KK_UKERNEL(kc, ap + ir * kc, 0, bpanel, cp + ir * ldc, ldc, g->alpha, beta, kk_min(KK_MR, mc - ir), nr);
            }
          } else {
            // The tile's columns straddle two segments (images): compute it aside, then add it in place.
            for (long ir = 0; ir < mc; ir += KK_MR) {
              const long mr = kk_min(KK_MR, mc - ir);
              if (ir < direct)
                KK_UKERNEL(kc, g->a + (ic + ir) * g->rsa + pc, g->rsa, bpanel, tile, KK_NR, 1.0f, 0.0f, KK_MR, KK_NR);
              else
                KK_UKERNEL(kc, ap + ir * kc, 0, bpanel, tile, KK_NR, 1.0f, 0.0f, KK_MR, KK_NR);
              kk_add_tile(g, tile, KK_NR, ic + ir, mr, j, nr, beta);
            }
          }
        }
      }
    }
  }
}

#undef KK_ATTR
#undef KK_PACK_A
#undef KK_PACK_B
#undef KK_PACK_B_IM2COL
#undef KK_PACK_B_IM2COL_T
