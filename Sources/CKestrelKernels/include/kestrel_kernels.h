// Kestrel's compute kernels in C: a cache-blocked, packed SGEMM with AVX-512 and AVX2+FMA register
// micro-kernels, and a direct depthwise 3×3 convolution. Every instruction-set-specific function is compiled
// with a per-function target attribute, so this target builds for (and runs on) any x86-64 or non-x86 CPU;
// callers pick an ISA with kk_cpu_isa() and fall back to their portable code when it returns KK_ISA_NONE.
//
// Layout conventions: all matrices are described by element strides, row-major-like: element (i, j) of a
// matrix X lives at x[i·rs + j·cs]. The GEMM computes C ← alpha·A·B + beta·C with A m×k, B k×n, C m×n.
// When beta is 0, C is not read (NaNs in it do not propagate), as BLAS specifies.
//
// Determinism: every element of C is the sum over k in the same order (KC-blocks in order, one FMA chain
// per element within a block, the block added to C with one FMA), whatever the ISA, the tile it falls in or
// the range of rows and columns a call covers. So the AVX-512 and AVX2 kernels, and any split of the work
// across threads, give bit-identical results.
#ifndef KESTREL_KERNELS_H
#define KESTREL_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction sets the kernels can use, best last.
typedef enum { KK_ISA_NONE = 0, KK_ISA_AVX2 = 1, KK_ISA_AVX512 = 2 } KKISA;

/// The best instruction set this CPU and OS support (AVX-512F for KK_ISA_AVX512, AVX2 + FMA for
/// KK_ISA_AVX2), or KK_ISA_NONE on other CPUs.
KKISA kk_cpu_isa(void);

/// Register tile of the micro-kernel for an ISA: mr rows × nr columns (0 × 0 for KK_ISA_NONE).
void kk_register_tile(KKISA isa, long *mr, long *nr);

/// Where the k×n matrix B comes from.
typedef enum {
  /// A dense matrix: element (p, j) at dense.p[p·rs + j·cs].
  KK_B_DENSE = 0,
  /// The im2col matrix of a batch of NCHW images, never materialised: row p = (c·kh + ki)·kw + kj, column
  /// j = img·(oh·ow) + y·ow + x; the element is image[img][c][y·sh − ph + ki·dh][x·sw − pw + kj·dw], or 0
  /// outside the image. Image img's channel 0 starts at im2col.x + img·imageStride.
  KK_B_IM2COL = 1,
  /// The transpose of that matrix (the weight gradient's B, dW = dY·colsᵀ): row p = img·(oh·ow) + y·ow + x,
  /// column j = (c·kh + ki)·kw + kj, the same element; also read straight from the images.
  KK_B_IM2COL_T = 2,
} KKBKind;

typedef struct {
  const float *x;
  long channels, height, width;
  long kh, kw, sh, sw, ph, pw, dh, dw;
  long oh, ow;
  long imageStride;
} KKIm2col;

typedef struct {
  KKBKind kind;
  struct {
    const float *p;
    long rs, cs;
  } dense;
  KKIm2col im2col;
} KKBSource;

/// One GEMM problem: C ← alpha·A·B + beta·C.
/// A (m×k): element (i, p) at a[i·rsa + p·csa]. B (k×n): see KKBSource.
/// C (m×n): element (i, j) at c[(j / segment)·segmentStride + i·ldc + j % segment] — a plain matrix when
/// segment ≥ n; with segment = oh·ow and segmentStride = Cout·oh·ow, the columns of several images go straight
/// into an NCHW output.
typedef struct {
  long m, n, k;
  float alpha, beta;
  const float *a;
  long rsa, csa;
  KKBSource b;
  float *c;
  long ldc, segment, segmentStride;
} KKGemm;

/// Floats of scratch memory one kk_sgemm call needs (packed panels of A and B, one tile), alignment included.
size_t kk_sgemm_workspace(KKISA isa);

/// Computes rows [i0, i1) × columns [j0, j1) of the problem's C on the calling thread, using `work`
/// (kk_sgemm_workspace floats, any alignment). Disjoint ranges may run concurrently. Returns 0, or -1 when the
/// ISA is KK_ISA_NONE or not supported by this CPU (nothing is written then).
int kk_sgemm(const KKGemm *g, KKISA isa, long i0, long i1, long j0, long j1, float *work);

/// What a convolution does to each output value v of channel o as it stores it (a batch norm and activation
/// folded into the convolution, for inference): act(v·scale[o] + shift[o]); scale NULL means 1, shift NULL 0.
/// The pointers index the output channels of the convolution (of its group, for kk_conv_indirect).
typedef enum { KK_ACT_NONE = 0, KK_ACT_RELU = 1, KK_ACT_RELU6 = 2 } KKActivation;
typedef struct {
  const float *scale;
  const float *shift;
  KKActivation activation;
} KKEpilogue;

/// Applies the epilogue in place to planes [plane0, plane1) of y [N, channels, l] (plane = image·channels + o):
/// what the kernels that take an epilogue do as they store, for the outputs of those that do not.
void kk_epilogue_planes(const KKEpilogue *ep, float *y, long plane0, long plane1, long l, long channels);

/// y[i] = act(y[i] + r[i]) for i < count (ReLU: v > 0 ? v : 0; ReLU6 then min(·, 6)): a residual connection and
/// the activation after it, applied to outputs a convolution has just stored (y and r must not overlap).
void kk_add_activate(float *y, const float *r, long count, KKActivation act);

/// Direct depthwise convolution with a 3×3 window, stride 1 or 2, padding 0 or 1 (dilation 1), on planes
/// [c0, c1) of one image: y[c] = epilogue(w[c] ⋆ x[c]) (the identity when ep is NULL), for x [C, H, W],
/// w [C, 1, 3, 3], y [C, OH, OW] with OH = (H + 2·pad − 3) / stride + 1. Returns -1 (writing nothing) for
/// other geometries.
int kk_depthwise3x3(const float *x, long height, long width, const float *w, const KKEpilogue *ep, float *y,
                    long stride, long pad, long c0, long c1);

/// The weight gradient of kk_depthwise3x3 for stride 1, padding 0 or 1, over planes [c0, c1) of one image:
/// dw[c][i][j] += Σ dy[c][oy][ox]·x[c][oy − pad + i][ox − pad + j] (x [C, H, W], dy [C, OH, OW], dw [C, 1, 3, 3]).
/// Returns -1 (adding nothing) for other geometries. (The input gradient of a stride-1 depthwise convolution is
/// kk_depthwise3x3 of dy with each 3×3 kernel rotated by 180° and padding 2 − pad.)
int kk_depthwise3x3_weight_grad(const float *x, long height, long width, const float *dy, long stride, long pad,
                                long c0, long c1, float *dw);

/// Convolution by indirect GEMM over zero-padded images (see indirect.c). Output position j (image j / L, then
/// row-major within OH × OW, L = oh·ow) reads its window from xpad + img·xpadImageStride + oy·sh·wp + ox·sw;
/// tap p = (c·kh + ki)·kw + kj sits at + c·hp·wp + ki·dh·wp + kj·dw from there. Output channel o of position j
/// goes to y[img·yImageStride + o·L + (j mod L)]. One weight group: weights [cout, channels·kh·kw], row-major;
/// `packed`, when not NULL, holds the same weights already packed by kk_pack_conv_weights (all panels, NR from
/// kk_indirect_shape), and the
/// kernel reads them in place instead of packing each panel.
typedef struct {
  const float *xpad;
  long hp, wp, xpadImageStride;
  long channels, kh, kw, sh, sw, dh, dw;
  long oh, ow;
  const float *weights;
  const float *packed;
  long cout;
  long tileRows;  ///< positions per register tile, as kk_indirect_shape chose (for all positions of the call)
  long panelCapacity;  ///< floats kk_conv_indirect's `panel` scratch holds (at least NR·k)
  KKEpilogue epilogue;  ///< applied to every output as it is stored (scale and shift NULL, no activation: none)
  float *y;
  long yImageStride;
} KKIndirectConv;

/// Copies `planes` planes of height × width into zero-padded planes of (height + 2·padH) × (width + 2·padW).
void kk_pad_planes(const float *x, long planes, long height, long width, long padH, long padW, float *xpad);

/// The indirect kernel's register tile for a convolution of `positions` output positions, `cout` output
/// channels (per group), output rows `ow` wide at column stride `sw`: returns NR (output channels per weight
/// panel) and sets *mr (positions per tile); 0 for KK_ISA_NONE. AVX-512: 8 × 32, or 7 × 32 when that leaves
/// fewer tile rows empty (49 positions: 7 tiles of 7 rather than 7 of 8 with one row used in the last); for at
/// most 16 channels (a 32-wide panel would be half zeros) 16 × 16 when sw is 1 and ow a multiple of 16 (each
/// tile then lies in one output row; kk_conv_indirect needs position ranges in whole tiles), else 12 × 16.
/// AVX2: 6 × 16.
long kk_indirect_shape(KKISA isa, long positions, long cout, long ow, long sw, long *mr);

/// Weights [cout, k] (row-major) → panels of nr output channels, k rows of nr floats each, zero-padded:
/// ceil(cout / nr)·nr·k floats in all. Writes panels [panel0, panel1) (disjoint ranges may run concurrently).
void kk_pack_conv_weights(const float *w, long cout, long k, long nr, long panel0, long panel1, float *dst);

/// Computes output positions [pos0, pos1) × output channels [out0, out1) (out0 a multiple of NR; y written, not
/// read), one panel of NR channels at a time (kk_indirect_shape's): the panel's weights are packed into `panel`
/// (NR·k floats; unused when cv->packed is set), then every position tile runs past them. When the weights come
/// packed or `panel` holds all the panels of [out0, out1) (cv->panelCapacity), positions are taken in blocks
/// whose inputs fit in L2 instead, each block running past every panel: large images are then read from
/// memory once, not once per panel. `offsets` is scratch
/// for channels·kh·kw longs. Returns -1 when the ISA is unavailable or cv->tileRows is not a tile it has.
int kk_conv_indirect(const KKIndirectConv *cv, KKISA isa, long pos0, long pos1, long out0, long out1,
                     long *offsets, float *panel);

/// A 1×1 convolution at stride 1 without padding (one group), by a direct AVX-512 kernel vectorised over
/// positions (see pointwise.c): y[o][q] = epilogue_o(Σ_c w[o][c] · x[c][q]).
/// x: image i's channel c at x + i·xImageStride + c·positions; y: image i's output channel o at
/// y + i·yImageStride + o·positions (written, not read). `packed`: the weights [cout, depth] as
/// kk_pack_conv_weights lays them with nr = 32 (every panel, zeros past cout).
typedef struct {
  const float *x;
  long xImageStride;
  long positions;
  long depth;
  const float *packed;
  long cout;
  KKEpilogue epilogue;  ///< applied to every output as it is stored (scale and shift NULL, no activation: none)
  float *y;
  long yImageStride;
  int narrow;  ///< 0: tiles of 8 channels × 48 positions; 1: 16 channels × 16 positions (maps of ~200 positions)
} KKPointwiseConv;

/// planes × [h, w] → planes × [oh, ow]: out[p][oy][ox] = x[p][oy·sh][ox·sw] (the positions a strided 1×1
/// convolution reads, made contiguous).
void kk_subsample_planes(const float *x, long planes, long h, long w, long sh, long sw, long oh, long ow,
                         float *out);

/// Tasks per image of kk_conv_pointwise: runs of 48 positions, or 16 when narrow (the last one shorter).
long kk_pointwise_panels(long positions, int narrow);

/// Floats of kk_conv_pointwise's scratch for this depth (the inputs of the runs it computes together).
long kk_pointwise_scratch(long depth, int narrow);

/// Computes tasks [task0, task1) (task = image · kk_pointwise_panels(positions, narrow) + run): every output
/// channel of one run of positions. `scratch`: kk_pointwise_scratch(depth, narrow) floats (any alignment), one
/// per concurrent caller. Returns -1, writing nothing, unless the ISA is KK_ISA_AVX512 and this CPU has it.
int kk_conv_pointwise(const KKPointwiseConv *cv, KKISA isa, long task0, long task1, float *scratch);

/// The weight gradient of a convolution (one group) as correlations on a grid, by a direct AVX-512 kernel (see
/// weightgrad.c): dw[o][t] = Σ over images and grid positions q of dy[o][q] · x[taps[t] + q].
/// x: image i at x + i·xImageStride, laid out by kk_phase_planes; taps[t]: tap t's offset in an image (t < ntaps,
/// the dw row length C·kh·kw). dy: image i, output channel o at dy + i·dyImageStride + o·positions, laid out by
/// kk_grid_rows (positions = oh·wq, zero past each row's ow outputs). Every x[taps[t] + q] with q < positions
/// must be readable and finite. dw [cout, ntaps] is written, or added to when `accumulate` is non-zero.
typedef struct {
  const float *x;
  long xImageStride;
  const long *taps;
  long ntaps;
  const float *dy;
  long dyImageStride, positions;
  long cout, images;
  float *dw;
  int accumulate;
} KKWeightGradGrid;

/// Tiles of kk_weight_grad_grid: ⌈cout/4⌉ blocks of output channels × ⌈taps/6⌉ blocks of taps.
long kk_weight_grad_grid_tiles(long cout, long taps);

/// Computes tiles [tile0, tile1) (disjoint ranges may run concurrently). Returns -1, writing nothing, unless
/// the ISA is KK_ISA_AVX512 and this CPU has it.
int kk_weight_grad_grid(const KKWeightGradGrid *g, KKISA isa, long tile0, long tile1);

/// The weight gradient of a stride-1 "same" convolution (one group; output [h, w] like the input), read in place
/// from the NCHW tensors by a direct AVX-512 kernel with the tiles of kk_weight_grad_grid:
/// dw[o][t] = Σ over images and positions q < positions (= h·w) of dy[o][q] · x[taps[t] + q], counting lane q of
/// tap t only where the shifted position lies in the image. x: image i at x + i·xImageStride, channel c at
/// + c·positions; taps[t] = c·positions + the tap's shift (negative for taps above or left of the centre). dy:
/// image i, output channel o at dy + i·dyImageStride + o·positions. The lanes come from masks: the tile whose
/// taps start at t0 (a multiple of 6) reads pattern patterns[t0 / 6], ⌈positions/16⌉ rows of 8 masks each at
/// masks + (pattern·⌈positions/16⌉ + step)·8: masks 0–5 for its six taps (taps past ntaps repeat the last),
/// mask 6 for dy (the step's positions). dw [cout, ntaps] is written, or added to when `accumulate` is non-zero.
/// Masked-off lanes are never read, so a tap's shifted pointer may fall outside x.
typedef struct {
  const float *x;
  long xImageStride;
  const long *taps;
  long ntaps;
  const unsigned short *masks;
  const long *patterns;
  const float *dy;
  long dyImageStride, positions;
  long cout, images;
  float *dw;
  int accumulate;
} KKWeightGradDense;

/// Computes tiles [tile0, tile1) of kk_weight_grad_grid_tiles(cout, ntaps) (disjoint ranges may run
/// concurrently). Returns -1, writing nothing, unless the ISA is KK_ISA_AVX512 and this CPU has it.
int kk_weight_grad_dense(const KKWeightGradDense *g, KKISA isa, long tile0, long tile1);

/// planes × [height, width] → planes × stride × stride phase planes of [hq, wq]: phase (ph, pw) of plane p at
/// out + ((p·stride + ph)·stride + pw)·hq·wq holds the zero-padded plane's element (i·stride + ph, j·stride + pw)
/// at (i, j), zero outside the padded plane. At stride 1 with hq, wq the padded size, kk_pad_planes's layout.
void kk_phase_planes(const float *x, long planes, long height, long width, long padH, long padW, long stride,
                     long hq, long wq, float *out);

/// planes × [oh, ow] → planes × [oh, wq] (wq ≥ ow): each row followed by wq − ow zeros.
void kk_grid_rows(const float *dy, long planes, long oh, long ow, long wq, float *out);

/// Runs `iterations` steps of twelve independent FMA chains on full-width vectors of `isa` (16 lanes for
/// AVX-512, 8 for AVX2): time it to measure the core's FP32 FMA peak, as ../shared/anchors/limits.c does.
/// Returns a value derived from the chains (so they are not optimised away), or 0 without running when the CPU
/// lacks the ISA.
float kk_fma_peak_probe(KKISA isa, long iterations);

/// A spin-wait hint for the CPU (x86 `pause`; nothing elsewhere): for threads that poll a flag.
static inline void kk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// glibc only: keep large freed blocks in the process (mmap threshold and trim threshold raised to 1 GiB).
/// Returns 1 when applied, 0 elsewhere. Process-wide: for executables, not libraries.
int kk_keep_freed_memory(void);

#ifdef __cplusplus
}
#endif

#endif
