import CKestrelKernels

/// Kestrel's own SGEMM: cache-blocked and packed (the BLIS / GotoBLAS structure), with register micro-kernels
/// in C intrinsics for AVX-512 (8×32 tile) and AVX2 + FMA (6×16 tile), chosen at run time from the CPU's
/// features. On CPUs with neither (or not x86-64) it runs ``PortableGEMM``.
///
/// Threads: the rows or the columns of C (whichever has more register tiles) are split into ``Compute/threads``
/// contiguous ranges, one per thread; OpenBLAS is not involved, so its threads never compete with these.
///
/// Determinism: every element of C is the same chain of FMAs whatever the thread count, the range a thread
/// covers or the ISA (the depth is blocked as a function of k alone), so results are bit-identical across
/// thread counts and between the AVX-512 and AVX2 kernels. They differ from ``BLASGEMM`` and
/// ``PortableGEMM`` by rounding only.
public struct FastGEMM: GEMMKernel {
    /// An instruction set with a micro-kernel.
    public enum ISA: String, Sendable, CaseIterable {
        case avx512, avx2

        var c: KKISA { self == .avx512 ? KK_ISA_AVX512 : KK_ISA_AVX2 }
    }

    /// The micro-kernel this instance runs, or nil for the portable fallback.
    public let isa: ISA?

    /// The best instruction set this CPU supports (nil when neither AVX-512 nor AVX2 + FMA is available).
    public static let bestISA: ISA? = {
        switch kk_cpu_isa() {
        case KK_ISA_AVX512: return .avx512
        case KK_ISA_AVX2: return .avx2
        default: return nil
        }
    }()

    /// The best micro-kernel for this CPU (the portable fallback where there is none).
    public init() { isa = FastGEMM.bestISA }

    /// A specific micro-kernel; nil when this CPU cannot run it.
    public init?(isa: ISA) {
        guard let best = FastGEMM.bestISA, best == .avx512 || isa == .avx2 else { return nil }
        self.isa = isa
    }

    /// The register tile (rows × columns of C per micro-kernel call).
    public var registerTile: (rows: Int, columns: Int) {
        guard let isa else { return (4, 16) }
        var mr = 0, nr = 0
        kk_register_tile(isa.c, &mr, &nr)
        return (mr, nr)
    }

    /// Runs `iterations` steps of twelve independent FMA chains of the ISA's full-width vectors on the calling
    /// thread and returns the floating-point operations done (2 per FMA lane), or 0 when this CPU lacks the
    /// ISA. Timed by a caller, it measures one core's FP32 FMA peak (as ../shared/anchors/limits.c does).
    public static func fmaPeakProbe(isa: ISA, iterations: Int) -> Double {
        let sink = kk_fma_peak_probe(isa.c, iterations)
        guard sink != 0 else { return 0 }
        return Double(iterations) * 12 * (isa == .avx512 ? 16 : 8) * 2
    }

    public func sgemm(
        order: MatrixOrder, transA: MatrixTranspose, transB: MatrixTranspose, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        validate(order: order, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        guard let isa else {
            PortableGEMM().sgemm(order: order, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a,
                                 lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m == 0 || n == 0 { return }
        // Column-major C (m×n) is row-major Cᵀ (n×m) = op(B)ᵀ · op(A)ᵀ over the same memory.
        let rowMajor = order == .rowMajor
        let (rm, rn) = rowMajor ? (m, n) : (n, m)
        let (pa, tA, ldA, pb, tB, ldB) = rowMajor ? (a, transA, lda, b, transB, ldb) : (b, transB, ldb, a, transA, lda)
        // In the row-major problem, op(A)(i, p) = pa[i·lda + p] (or pa[p·lda + i] transposed); likewise B.
        var g = KKGemm()
        g.m = rm; g.n = rn; g.k = k
        g.alpha = alpha; g.beta = beta
        g.a = pa
        (g.rsa, g.csa) = tA == .noTranspose ? (ldA, 1) : (1, ldA)
        g.b.kind = KK_B_DENSE
        g.b.dense.p = pb
        (g.b.dense.rs, g.b.dense.cs) = tB == .noTranspose ? (ldB, 1) : (1, ldB)
        g.c = c
        g.ldc = ldc
        g.segment = rn
        g.segmentStride = 0
        FastGEMM.run(g, isa: isa)
    }

    /// Runs a problem over ``Compute/threads`` threads: rows or columns of C in contiguous, tile-aligned
    /// ranges, each range computed by one `kk_sgemm` call with its own scratch memory from ``Workspace``.
    static func run(_ g: KKGemm, isa: ISA) {
        var mr = 0, nr = 0
        kk_register_tile(isa.c, &mr, &nr)
        let rowTiles = (g.m + mr - 1) / mr, colTiles = (g.n + nr - 1) / nr
        // Each thread gets at least ~2 MFLOP so tiny products stay on the calling thread.
        let work = 2 * Double(g.m) * Double(g.n) * Double(g.k)
        let threads = max(1, min(Compute.threads, Int(work / 2e6)))
        // Splitting columns makes every thread pack all of A (m·k floats), splitting rows all of B (k·n): split
        // the longer side, unless it has too few tiles to go round.
        let splitColumns = (g.n >= g.m && colTiles >= threads) || rowTiles < threads
        let tiles = splitColumns ? colTiles : rowTiles
        let chunks = max(1, min(threads, tiles))
        let scratch = Int(kk_sgemm_workspace(isa.c))
        let problem = ProblemBox(g)
        let span = splitColumns ? nr : mr
        Compute.parallelFor(chunks) { range in
            Workspace.shared.withBuffer(count: scratch) { work in
                for chunk in range {
                    // Tile-aligned bounds: chunk i gets tiles [tiles·i / chunks, tiles·(i+1) / chunks).
                    let lo = tiles * chunk / chunks * span
                    let hi = min(splitColumns ? problem.g.n : problem.g.m, tiles * (chunk + 1) / chunks * span)
                    withUnsafePointer(to: problem.g) { gp in
                        let status = splitColumns
                            ? kk_sgemm(gp, isa.c, 0, gp.pointee.m, lo, hi, work)
                            : kk_sgemm(gp, isa.c, lo, hi, 0, gp.pointee.n, work)
                        assert(status == 0, "kk_sgemm refused ISA \(isa)")
                    }
                }
            }
        }
    }
}

extension KKIm2col {
    /// The im2col matrix of `channels` channels of NCHW images starting at `x` (images `imageStride` floats apart)
    /// under geometry `g`.
    init(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, geometry g: ConvGeometry, imageStride: Int) {
        let (oh, ow) = g.outputSize(h: height, w: width)
        self.init(x: x, channels: channels, height: height, width: width, kh: g.kernelH, kw: g.kernelW, sh: g.strideH,
                  sw: g.strideW, ph: g.padH, pw: g.padW, dh: g.dilationH, dw: g.dilationW, oh: oh, ow: ow,
                  imageStride: imageStride)
    }
}

/// A GEMM problem description carried into the worker closures. Its pointers are only dereferenced by the
/// C kernels, each of which writes a disjoint range of C.
struct ProblemBox: @unchecked Sendable {
    let g: KKGemm
    init(_ g: KKGemm) { self.g = g }
}

extension FastGEMM {
    /// Convolution forward without a column buffer: for each weight group, one GEMM
    /// `y[img, grp·Cout/g + o, ·] = W_grp[o, ·] · im2col(x_grp)[·, img·L + ·]` over the whole batch, whose B panels
    /// are packed straight from the NCHW images (the im2col happens inside the packing) and whose output columns
    /// land directly in the NCHW output, image by image.
    ///
    /// Shapes: x `[n, c, h, w]`, weight `[cout, c/groups, kh, kw]`, y `[n, cout, oh, ow]` (written, not read).
    /// `packed`: the weights as ``packedConvolutionWeights(_:groups:)`` returns them, or nil to pack as it goes.
    /// Returns whether `epilogue` was applied: true from the indirect kernel (which applies it as it stores),
    /// false from the GEMM path (the caller applies it) and when this instance has no micro-kernel (the portable
    /// fallback; nothing is written then, so callers check ``isa`` first).
    func convolutionForward(
        x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, weight: UnsafePointer<Float>, cout: Int,
        geometry g: ConvGeometry, y: UnsafeMutablePointer<Float>, packed: UnsafePointer<Float>? = nil,
        epilogue: ConvEpilogue.Resolved? = nil
    ) -> Bool {
        guard let isa else { return false }
        let (oh, ow) = g.outputSize(h: h, w: w)
        if g.kernelH == 1 && g.kernelW == 1 && g.padH == 0 && g.padW == 0 && (g.strideH > 1 || g.strideW > 1) {
            // A strided 1×1 convolution (ResNet's projection shortcuts) is the 1×1 convolution of the positions it
            // reads: copied together once, they make a stride-1 problem whose tiles read consecutive floats.
            return Workspace.shared.withBuffer(count: n * c * oh * ow) { picked in
                let src = SendablePointer(x), dst = SendablePointer(picked)
                let (sh, sw) = (g.strideH, g.strideW)
                Compute.parallelFor(n * c, grain: max(1, 4096 / max(1, oh * ow))) { planes in
                    kk_subsample_planes(src.base + planes.lowerBound * h * w, planes.count, h, w, sh, sw, oh, ow,
                                        dst.base + planes.lowerBound * oh * ow)
                }
                return convolutionForward(x: picked, n: n, c: c, h: oh, w: ow, weight: weight, cout: cout,
                                          geometry: ConvGeometry(kernel: 1, groups: g.groups), y: y, packed: packed,
                                          epilogue: epilogue)
            }
        }
        let l = oh * ow, cg = c / g.groups, coutg = cout / g.groups, k = cg * g.kernelH * g.kernelW
        if let tile = FastGEMM.pointwiseTile(g, isa: isa, depth: k, positions: l) {
            pointwiseConvolution(x: x, n: n, c: c, positions: l, weight: weight, cout: cout, y: y, isa: isa,
                                 narrow: tile == .narrow, packed: packed, epilogue: epilogue)
            epilogue?.finishAll(y, count: n * cout * l)
            return true
        }
        if FastGEMM.prefersIndirect(positions: n * l, outChannels: coutg, depth: k) {
            let finished = indirectConvolution(x: x, n: n, c: c, h: h, w: w, weight: weight, cout: cout, geometry: g,
                                               y: y, isa: isa, packed: packed, epilogue: epilogue)
            if !finished { epilogue?.finishAll(y, count: n * cout * l) }
            return true
        }
        for grp in 0..<g.groups {
            var p = KKGemm()
            p.m = coutg; p.n = n * l; p.k = k
            p.alpha = 1; p.beta = 0
            p.a = weight + grp * coutg * k
            p.rsa = k; p.csa = 1
            p.b.kind = KK_B_IM2COL
            p.b.im2col = KKIm2col(x + grp * cg * h * w, channels: cg, height: h, width: w, geometry: g, imageStride: c * h * w)
            p.c = y + grp * coutg * l
            p.ldc = l; p.segment = l; p.segmentStride = cout * l
            FastGEMM.run(p, isa: isa)
        }
        return epilogue?.isIdentity ?? true  // if not, the caller applies all of it
    }
}

extension FastGEMM {
    /// The weight gradient without a column buffer: for each block of images and each weight group, one GEMM
    /// `dW_grp += dY_grp[o, img·L + ·] · im2col(x_grp)ᵀ` whose depth runs over the block's output positions and
    /// whose B panels are packed straight from the NCHW images (`KK_B_IM2COL_T`). dY is gathered to
    /// `[Cout, B·L]` per block (blocks of at most ``gradientBlockFloats``), so narrow layers make one long GEMM
    /// instead of one per image.
    ///
    /// Shapes: x `[n, c, h, w]`, dy `[n, cout, oh, ow]`, dw `[cout, c/groups, kh, kw]` (written, not read).
    /// Returns false, writing nothing, when this instance has no micro-kernel.
    func convolutionWeightGradient(
        x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, dy: UnsafePointer<Float>, cout: Int,
        geometry g: ConvGeometry, dw: UnsafeMutablePointer<Float>
    ) -> Bool {
        guard let isa else { return false }
        if isa == .avx512, FastGEMM.hasGridWeightGradient(g), cout <= 128 {
            gridWeightGradient(x: x, n: n, c: c, h: h, w: w, dy: dy, cout: cout, geometry: g, dw: dw)
            return true
        }
        let (oh, ow) = g.outputSize(h: h, w: w)
        let l = oh * ow, cg = c / g.groups, coutg = cout / g.groups, k = cg * g.kernelH * g.kernelW
        let block = min(n, max(1, FastGEMM.gradientBlockFloats / max(1, cout * l)))
        Workspace.shared.withBuffer(count: block > 1 ? block * cout * l : 1) { gathered in
            for n0 in stride(from: 0, to: n, by: block) {
                let b = min(block, n - n0)
                if b > 1 { Convolution.gather(dy + n0 * cout * l, into: gathered, images: b, channels: cout, plane: l) }
                for grp in 0..<g.groups {
                    var p = KKGemm()
                    p.m = coutg; p.n = k; p.k = b * l
                    p.alpha = 1; p.beta = n0 == 0 ? 0 : 1
                    p.a = b > 1 ? UnsafePointer(gathered + grp * coutg * b * l) : dy + (n0 * cout + grp * coutg) * l
                    p.rsa = b * l; p.csa = 1
                    p.b.kind = KK_B_IM2COL_T
                    p.b.im2col = KKIm2col(x + n0 * c * h * w + grp * cg * h * w, channels: cg, height: h, width: w, geometry: g,
                                          imageStride: c * h * w)
                    p.c = dw + grp * coutg * k
                    p.ldc = k; p.segment = k; p.segmentStride = 0
                    FastGEMM.run(p, isa: isa)
                }
            }
        }
        return true
    }

    /// Budget of the gathered dY block, in floats (8 MiB).
    static let gradientBlockFloats = 1 << 21

    /// Budget of one block of the grid weight gradient (input phase planes + dY on the grid), in floats (512 KiB):
    /// the thread that prepares a block runs every tile of its share past it, so it should stay in that core's L2.
    static let gridGradientBlockFloats = 1 << 17

    /// Chunks of images the direct weight gradients sum separately (at most; never more than the images), then
    /// add in order: a split that depends on the batch and the map alone, so the bits do not depend on the thread
    /// count. A chunk holds at least ``gridGradientChunkPositions`` positions per image plane: each tile pays its
    /// set-up and its final sums once per chunk (with 16 images of 8×8, a fifth of the kernel's time).
    static let gridGradientChunks = 8

    /// The fewest positions (images × positions per image) in a chunk of the direct weight gradients.
    static let gridGradientChunkPositions = 2048

    /// Whether `kk_weight_grad_grid` computes this geometry's weight gradient (with AVX-512): one group, the same
    /// stride (1 to 4) on both axes, any kernel size but 1×1 at stride 1 (a plain GEMM), padding and dilation.
    /// It is used up to 128 output channels (`kestrel bench conv --directions dw --shapes …`).
    static func hasGridWeightGradient(_ g: ConvGeometry) -> Bool {
        g.groups == 1 && g.strideH == g.strideW && g.strideH <= 4 && !g.isPointwise
    }

    /// The weight gradient by the direct kernels (4 output channels × 6 taps per tile). The batch is cut into at
    /// most ``gridGradientChunks`` chunks of images, each summed into its own partial dW (then added in chunk
    /// order). Threads take whole chunks; with fewer chunks than threads, a chunk's tiles are split among several.
    /// - Stride-1 "same" convolutions (padding p on every side, (k − 1)·d = 2p: the output plane is the input's)
    ///   run `kk_weight_grad_dense` on the tensors in place: within an image's plane every tap (c, ki, kj) is a
    ///   constant shift, and the lanes whose shifted position leaves the image are masked off. The grid it
    ///   replaced (zero-padded rows w + p wide, images p rows apart) spent 81 positions on each 8×8 map, plus
    ///   the copies that built it.
    /// - Other geometries run `kk_weight_grad_grid`: a chunk is taken in blocks of images (within
    ///   ``gridGradientBlockFloats``), each zero-padded and split into stride × stride phase planes
    ///   (`kk_phase_planes`) so that every tap is a constant shift, with dY laid on the same grid (zeros past
    ///   the outputs). The thread that prepares a block runs its tiles past it, in its own cache.
    func gridWeightGradient(
        x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, dy: UnsafePointer<Float>, cout: Int,
        geometry g: ConvGeometry, dw: UnsafeMutablePointer<Float>
    ) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        let kk = g.kernelH * g.kernelW, ntaps = c * kk, dwCount = cout * ntaps, l = h * w
        guard n > 0, oh * ow > 0 else {  // a sum of no products
            dw.update(repeating: 0, count: dwCount)
            return
        }
        let s = g.strideH
        let reachH = (g.kernelH - 1) * g.dilationH, reachW = (g.kernelW - 1) * g.dilationW
        let shifted = ShiftedTaps(g, h: h, w: w), dense = shifted != nil
        let hq = oh + reachH / s, wq = ow + reachW / s
        // The grid path's block of images: its phase planes and dY rows.
        let xImage = c * s * s * hq * wq, dyImage = cout * oh * wq
        let block = dense ? 0 : min(n, max(1, FastGEMM.gridGradientBlockFloats / (xImage + dyImage)))
        var taps = [Int](repeating: 0, count: ntaps), kinds = [Int](repeating: 0, count: ntaps)  // kinds: ki·kw + kj
        for ci in 0..<c {
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let (rh, rw) = (ki * g.dilationH, kj * g.dilationW), t = ci * kk + ki * g.kernelW + kj
                    taps[t] = shifted.map { ci * l + $0.shifts[ki * g.kernelW + kj] }
                        ?? ((ci * s + rh % s) * s + rw % s) * hq * wq + rh / s * wq + rw / s
                    kinds[t] = ki * g.kernelW + kj
                }
            }
        }
        // Dense path: per tile pattern (the kernel taps of 6 consecutive taps), rows of 8 masks per 16 positions:
        // the 6 taps' lanes and dY's.
        let steps = (l + 15) / 16, groups = (ntaps + 5) / 6
        var patterns = [Int](repeating: 0, count: dense ? groups : 0), masks: [UInt16] = []
        if let shifted {
            var seen: [[Int]: Int] = [:]
            for group in 0..<groups {
                let key = (0..<6).map { kinds[min(group * 6 + $0, ntaps - 1)] }
                if let index = seen[key] { patterns[group] = index; continue }
                patterns[group] = seen.count
                seen[key] = seen.count
                for step in 0..<steps {
                    masks += key.map { shifted.lanes[step * kk + $0] } + [shifted.valid[step], 0]
                }
            }
        }
        let tiles = kk_weight_grad_grid_tiles(cout, ntaps)
        let chunkSize = max((n + FastGEMM.gridGradientChunks - 1) / FastGEMM.gridGradientChunks,
                            (FastGEMM.gridGradientChunkPositions + oh * ow - 1) / (oh * ow))
        let chunks = (n + chunkSize - 1) / chunkSize
        let parts = max(1, (Compute.threads + chunks - 1) / chunks)
        // Per-image grids: the last tap of the last position reads reachW / s floats past the last phase plane.
        let slack = reachW / s + 16
        let scratch = dense ? 0 : block * (xImage + dyImage) + slack
        let partialCount = chunks > 1 ? chunks * dwCount : 0
        Workspace.shared.withBuffer(count: max(1, chunks * parts * scratch + partialCount)) { buffer in
            let sbuf = SendablePointer(buffer), partials = SendablePointer(buffer + chunks * parts * scratch)
            let sx = SendablePointer(x), sdy = SendablePointer(dy), sdw = SendablePointer(dw)
            taps.withUnsafeBufferPointer { tapOffsets in
                patterns.withUnsafeBufferPointer { tilePatterns in
                    masks.withUnsafeBufferPointer { laneMasks in
                        let tapBase = SendablePointer(UnsafeMutablePointer(mutating: tapOffsets.baseAddress!))
                        // The dense path's tables (empty on the grid path).
                        let patternBase = tilePatterns.baseAddress.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
                        let maskBase = laneMasks.baseAddress.map { SendablePointer(UnsafeMutablePointer(mutating: $0)) }
                        // Up to 8 items per thread, claimed as threads finish (the split into items is fixed).
                        Compute.parallelFor(chunks * parts, chunksPerThread: 4) { items in
                            for item in items {
                                let (chunk, part) = (item / parts, item % parts)
                                let target = chunks > 1 ? partials.base + chunk * dwCount : sdw.base
                                let chunkStart = chunk * chunkSize, chunkEnd = min(n, chunkStart + chunkSize)
                                let (tile0, tile1) = (tiles * part / parts, tiles * (part + 1) / parts)
                                if dense {
                                    var problem = KKWeightGradDense(
                                        x: sx.base + chunkStart * c * l, xImageStride: c * l, taps: tapBase.base,
                                        ntaps: ntaps, masks: maskBase!.base, patterns: patternBase!.base,
                                        dy: sdy.base + chunkStart * cout * l, dyImageStride: cout * l, positions: l,
                                        cout: cout, images: chunkEnd - chunkStart, dw: target, accumulate: 0)
                                    let status = kk_weight_grad_dense(&problem, KK_ISA_AVX512, tile0, tile1)
                                    assert(status == 0, "kk_weight_grad_dense refused AVX-512")
                                    continue
                                }
                                let xq = sbuf.base + item * scratch, dyq = xq + block * xImage + slack
                                for n0 in stride(from: chunkStart, to: chunkEnd, by: block) {
                                    let b = min(block, chunkEnd - n0)
                                    let xs = sx.base + n0 * c * h * w, dys = sdy.base + n0 * cout * oh * ow
                                    for i in 0..<b {
                                        kk_phase_planes(xs + i * c * h * w, c, h, w, g.padH, g.padW, s, hq, wq, xq + i * xImage)
                                        kk_grid_rows(dys + i * cout * oh * ow, cout, oh, ow, wq, dyq + i * dyImage)
                                    }
                                    (xq + b * xImage).update(repeating: 0, count: slack)
                                    var problem = KKWeightGradGrid(
                                        x: xq, xImageStride: xImage, taps: tapBase.base, ntaps: ntaps, dy: dyq,
                                        dyImageStride: dyImage, positions: oh * wq, cout: cout, images: b,
                                        dw: target, accumulate: n0 == chunkStart ? 0 : 1)
                                    let status = kk_weight_grad_grid(&problem, KK_ISA_AVX512, tile0, tile1)
                                    assert(status == 0, "kk_weight_grad_grid refused AVX-512")
                                }
                            }
                        }
                    }
                }
            }
            guard chunks > 1 else { return }
            Compute.parallelFor(dwCount, grain: 4096) { r in
                for i in r {
                    var sum = partials.base[i]
                    for chunk in 1..<chunks { sum += partials.base[chunk * dwCount + i] }
                    sdw.base[i] = sum
                }
            }
        }
    }
}

/// Direct depthwise 3×3 convolution (see `kk_depthwise3x3`): planes split across ``Compute/threads``.
enum Depthwise {
    /// True when `kk_depthwise3x3` computes this geometry: one input and one output channel per group, a 3×3
    /// window, stride 1 or 2, padding 0 or 1, no dilation.
    static func supports(_ g: ConvGeometry, channels c: Int, outChannels cout: Int) -> Bool {
        g.groups == c && cout == c && g.kernelH == 3 && g.kernelW == 3 && g.strideH == g.strideW
            && (g.strideH == 1 || g.strideH == 2) && g.padH == g.padW && (g.padH == 0 || g.padH == 1)
            && g.dilationH == 1 && g.dilationW == 1
    }

    /// y `[n, c, oh, ow]` = epilogue(depthwise(x `[n, c, h, w]`, weight `[c, 1, 3, 3]`)) (nil: none).
    static func forward(x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, weight: UnsafePointer<Float>,
                        epilogue: UnsafePointer<KKEpilogue>?, geometry g: ConvGeometry, y: UnsafeMutablePointer<Float>) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        let sx = SendablePointer(x), sw = SendablePointer(weight), sy = SendablePointer(y)
        let se = epilogue.map { SendablePointer($0) }
        Compute.parallelFor(n * c, grain: max(1, 8192 / max(oh * ow, 1))) { range in
            // Planes [lo, hi) of the flattened [n·c]: split at image boundaries.
            var plane = range.lowerBound
            while plane < range.upperBound {
                let img = plane / c, c0 = plane % c, c1 = min(c, c0 + range.upperBound - plane)
                let status = kk_depthwise3x3(sx.base + img * c * h * w, h, w, sw.base, se?.base, sy.base + img * c * oh * ow,
                                             g.strideH, g.padH, c0, c1)
                assert(status == 0, "kk_depthwise3x3 refused a supported geometry")
                plane += c1 - c0
            }
        }
    }
}

extension FastGEMM {
    /// Whether the indirect kernel beats packing im2col panels. It repacks the weights (coutg·k floats) on every
    /// call, one panel at a time while that panel is hot; measured on ResNet's 3×3 shapes it wins even at 7×7
    /// batch 1 (72 vs 65 GFLOP/s on one core), where im2col panels waste 15 of every 64 columns. With fewer than
    /// 8 output channels per group its 32-channel panels would be mostly empty.
    static func prefersIndirect(positions: Int, outChannels: Int, depth: Int) -> Bool {
        outChannels >= 8
    }

    /// The tiles of `kk_conv_pointwise`.
    enum PointwiseTile { case wide, narrow }

    /// Whether `kk_conv_pointwise` (vectorised over positions) takes this convolution, and with which tile: 1×1
    /// at stride 1 without padding, one group, AVX-512, and
    /// - `.wide` (8 channels × 48 positions, runs packed together) for at most 128 input channels over at least
    ///   768 positions per image;
    /// - `.narrow` (16 channels × 16 positions) for at most 256 input channels over 196 to 767 positions.
    /// There the indirect kernel's tiles are short and end in a store that writes a few floats into each of 32
    /// planes. Deeper or smaller layers keep the indirect kernel. Measured with the kernels alone on one core at
    /// batch 1: MobileNetV1's 32 → 64 at 112×112 went from 68 to 101 GFLOP/s (wide); MobileNetV2's 64 → 384 at
    /// 14×14 from 72 to 101 and 96 → 576 from 92 to 106 (narrow); at 7×7 the indirect kernel was faster (111
    /// against 89 for 512 → 1024).
    static func pointwiseTile(_ g: ConvGeometry, isa: ISA, depth: Int, positions: Int) -> PointwiseTile? {
        guard isa == .avx512 && g.isPointwise && g.groups == 1 else { return nil }
        if depth <= 128 && positions >= 768 { return .wide }
        if depth <= 256 && positions >= 196 && positions < 768 { return .narrow }
        return nil
    }

    /// A 1×1 convolution by `kk_conv_pointwise`, runs of 48 positions (16 when narrow) split across
    /// ``Compute/threads`` (each output is one FMA chain over the channels, whatever the split). The weights come
    /// packed as for the indirect kernel when that packing has 32-channel panels, else they are packed here.
    /// Shapes: x `[n, c, positions]`, weight `[cout, c]`, y `[n, cout, positions]` (written, not read).
    func pointwiseConvolution(
        x: UnsafePointer<Float>, n: Int, c: Int, positions l: Int, weight: UnsafePointer<Float>, cout: Int,
        y: UnsafeMutablePointer<Float>, isa: ISA, narrow: Bool, packed: UnsafePointer<Float>?,
        epilogue: ConvEpilogue.Resolved?
    ) {
        let packedAt32 = packed != nil && FastGEMM.packedPanelWidth(isa: isa, outChannels: cout) == 32
        let panels = (cout + 31) / 32
        Workspace.shared.withBuffer(count: packedAt32 ? 1 : panels * 32 * c) { ownPanels in
            let weights: UnsafePointer<Float>
            if packedAt32, let packed {
                weights = packed
            } else {
                kk_pack_conv_weights(weight, cout, c, 32, 0, panels, ownPanels)
                weights = UnsafePointer(ownPanels)
            }
            (epilogue ?? ConvEpilogue.Resolved(nil, bias: nil, channels: cout)).withKKEpilogue { ep in
                let problem = PointwiseBox(KKPointwiseConv(
                    x: x, xImageStride: c * l, positions: l, depth: c, packed: weights, cout: cout,
                    epilogue: ep ?? KKEpilogue(scale: nil, shift: nil, activation: KK_ACT_NONE), y: y,
                    yImageStride: cout * l, narrow: narrow ? 1 : 0))
                let scratchFloats = kk_pointwise_scratch(c, narrow ? 1 : 0)
                Compute.parallelFor(n * kk_pointwise_panels(l, narrow ? 1 : 0), grain: 4) { range in
                    Workspace.shared.withBuffer(count: scratchFloats) { scratch in
                        var cv = problem.cv
                        let status = kk_conv_pointwise(&cv, isa.c, range.lowerBound, range.upperBound, scratch)
                        assert(status == 0, "kk_conv_pointwise refused ISA \(isa)")
                    }
                }
            }
        }
    }

    /// Output channels per panel of the weights as ``packedConvolutionWeights(_:groups:)`` packs them (the indirect
    /// kernel's NR for this many channels per group).
    static func packedPanelWidth(isa: ISA, outChannels: Int) -> Int {
        var tileRows = 0
        return kk_indirect_shape(isa.c, 0, outChannels, 0, 1, &tileRows)
    }

    /// The weights `[cout, c/groups, kh, kw]` packed for ``indirectConvolution(x:n:c:h:w:weight:cout:geometry:y:isa:packed:epilogue:)``
    /// (each group's panels in turn), kept by ``PackedWeightCache`` while they stay unchanged; nil when the
    /// convolution does not take the indirect path or the weights have not been seen before.
    func packedConvolutionWeights(_ weight: Tensor, groups: Int) -> PackedWeightCache.Packed? {
        guard let isa, weight.rank == 4 else { return nil }
        let dims = weight.shape.dims
        let coutg = dims[0] / groups, k = dims[1] * dims[2] * dims[3]
        guard FastGEMM.prefersIndirect(positions: 0, outChannels: coutg, depth: k) else { return nil }
        let nr = FastGEMM.packedPanelWidth(isa: isa, outChannels: coutg)
        let panels = (coutg + nr - 1) / nr, perGroup = panels * nr * k
        let layout = PackedWeightCache.Layout(kind: Int32(bitPattern: isa.c.rawValue), shape: dims, groups: groups,
                                              count: groups * perGroup)
        return PackedWeightCache.shared.packed(weight, layout: layout) { dst in
            weight.withUnsafeBufferPointer { pw in
                let src = SendablePointer(pw.baseAddress!), out = SendablePointer(dst)
                Compute.parallelFor(groups * panels) { r in
                    for unit in r {
                        let grp = unit / panels, panel = unit % panels
                        kk_pack_conv_weights(src.base + grp * coutg * k, coutg, k, nr, panel, panel + 1,
                                             out.base + grp * perGroup)
                    }
                }
            }
        }
    }

    /// Convolution forward by indirect GEMM (`kk_conv_indirect`): the images are zero-padded once, the weights
    /// of each group packed into panels of output channels (or taken packed, `packed`), and each register tile
    /// of positions × channels reads its inputs from the padded images through per-position pointers. Shapes as
    /// ``convolutionForward(x:n:c:h:w:weight:cout:geometry:y:packed:epilogue:)``. Returns true when it has also
    /// added the epilogue's residual (block by block), false when that is left to the caller.
    @discardableResult
    func indirectConvolution(
        x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, weight: UnsafePointer<Float>, cout: Int,
        geometry g: ConvGeometry, y: UnsafeMutablePointer<Float>, isa: ISA, packed: UnsafePointer<Float>? = nil,
        epilogue: ConvEpilogue.Resolved? = nil
    ) -> Bool {
        let (oh, ow) = g.outputSize(h: h, w: w)
        let l = oh * ow, cg = c / g.groups, coutg = cout / g.groups, k = cg * g.kernelH * g.kernelW
        let hp = h + 2 * g.padH, wp = w + 2 * g.padW
        var tileRows = 0
        let nr = kk_indirect_shape(isa.c, n * l, coutg, ow, g.strideW, &tileRows)
        let mr = tileRows
        let panels = (coutg + nr - 1) / nr
        // Scratch for the weights when they do not come packed: every panel if that takes at most 4 MiB (the
        // kernel then runs blocks of positions past all of them), else one at a time.
        let panelFloats = packed == nil && panels * nr * k <= 1 << 20 ? panels * nr * k : nr * k
        let padded = g.padH > 0 || g.padW > 0
        // A batch whose padded copy would not fit in L2 goes in blocks of images (256 KiB of padded input, or one
        // image): each thread pads a block into its own buffer and convolves it while it is still in cache. Padding
        // the whole batch first sends every padded image to memory and reads it back, which cost ResNet-20's
        // 16-channel layers at batch 128 about a third of their time.
        // Each block reads all the weights again, so blocks are taken only when their input outweighs them
        // (ResNet's 512-channel 7×7 layers at batch 8 went from 1.0 to 0.7× ONNX Runtime image by image).
        let imageFloats = c * hp * wp
        let blockImages = max(1, min(n, (1 << 16) / max(imageFloats, 1)))
        let blocks = (n + blockImages - 1) / blockImages
        if padded && n * imageFloats > 1 << 18 && blocks >= 2 * Compute.threads
            && g.groups * coutg * k <= blockImages * imageFloats {
            let src = SendablePointer(x), dst = SendablePointer(y)
            let stored = (epilogue ?? ConvEpilogue.Resolved(nil, bias: nil, channels: cout))
            stored.withKKEpilogue { ep in
                let base = IndirectBox(KKIndirectConv(
                    xpad: nil, hp: hp, wp: wp, xpadImageStride: imageFloats, channels: cg, kh: g.kernelH, kw: g.kernelW,
                    sh: g.strideH, sw: g.strideW, dh: g.dilationH, dw: g.dilationW, oh: oh, ow: ow, weights: weight,
                    packed: packed, cout: coutg, tileRows: mr, panelCapacity: panelFloats,
                    epilogue: ep ?? KKEpilogue(scale: nil, shift: nil, activation: KK_ACT_NONE), y: nil,
                    yImageStride: cout * l))
                Compute.parallelFor(blocks, chunksPerThread: 4) { range in
                    let offsets = UnsafeMutablePointer<Int>.allocate(capacity: k)
                    defer { offsets.deallocate() }
                    Workspace.shared.withBuffer(count: blockImages * imageFloats + panelFloats) { scratch in
                        let xpad = scratch, panel = scratch + blockImages * imageFloats
                        for block in range {
                            let i0 = block * blockImages, images = min(blockImages, n - i0)
                            kk_pad_planes(src.base + i0 * c * h * w, images * c, h, w, g.padH, g.padW, xpad)
                            for grp in 0..<g.groups {
                                var cv = base.cv
                                cv.xpad = UnsafePointer(xpad + grp * cg * hp * wp)
                                cv.weights = cv.weights.map { $0 + grp * coutg * k }
                                cv.packed = cv.packed.map { $0 + grp * panels * nr * k }
                                cv.epilogue.scale = cv.epilogue.scale.map { $0 + grp * coutg }
                                cv.epilogue.shift = cv.epilogue.shift.map { $0 + grp * coutg }
                                cv.y = dst.base + i0 * cout * l + grp * coutg * l
                                let status = kk_conv_indirect(&cv, isa.c, 0, images * l, 0, coutg, offsets, panel)
                                assert(status == 0, "kk_conv_indirect refused ISA \(isa)")
                            }
                            // The block's outputs are still in this core's cache: add the residual now.
                            stored.finish(dst.base, from: i0 * cout * l, count: images * cout * l)
                        }
                    }
                }
            }
            return true
        }
        Workspace.shared.withBuffer(count: padded ? n * c * hp * wp : 1) { xpadBuffer in
            let xpad: UnsafePointer<Float> = padded ? UnsafePointer(xpadBuffer) : x
            if padded {
                let src = SendablePointer(x), dst = SendablePointer(xpadBuffer)
                Compute.parallelFor(n * c, grain: max(1, 16384 / max(hp * wp, 1))) { r in
                    kk_pad_planes(src.base + r.lowerBound * h * w, r.count, h, w, g.padH, g.padW,
                                  dst.base + r.lowerBound * hp * wp)
                }
            }
            // The epilogue's channels are the whole convolution's; each group's kernel sees its own slice.
            (epilogue ?? ConvEpilogue.Resolved(nil, bias: nil, channels: cout)).withKKEpilogue { ep in
            for grp in 0..<g.groups {
                var stored = ep ?? KKEpilogue(scale: nil, shift: nil, activation: KK_ACT_NONE)
                stored.scale = stored.scale.map { $0 + grp * coutg }
                stored.shift = stored.shift.map { $0 + grp * coutg }
                let problem = IndirectBox(KKIndirectConv(
                    xpad: xpad + grp * cg * hp * wp, hp: hp, wp: wp, xpadImageStride: c * hp * wp, channels: cg,
                    kh: g.kernelH, kw: g.kernelW, sh: g.strideH, sw: g.strideW, dh: g.dilationH, dw: g.dilationW,
                    oh: oh, ow: ow, weights: weight + grp * coutg * k, packed: packed.map { $0 + grp * panels * nr * k },
                    cout: coutg, tileRows: mr, panelCapacity: panelFloats, epilogue: stored, y: y + grp * coutg * l,
                    yImageStride: cout * l))
                runIndirect(problem, isa: isa, positions: n * l, channels: coutg, mr: mr, nr: nr, depth: k,
                            panelFloats: panelFloats)
            }
            }
        }
        return false
    }
}

extension FastGEMM {
    /// Runs one indirect-convolution problem (`positions` output positions × `channels` output channels, tiles of
    /// mr × nr, depth k) on the threads: tile-aligned ranges of positions, or ranges of channel panels when the
    /// positions are too few to go round. Each thread has its own tap offsets and `panelFloats` of panel scratch.
    func runIndirect(_ problem: IndirectBox, isa: ISA, positions: Int, channels: Int, mr: Int, nr: Int, depth k: Int,
                     panelFloats: Int) {
        let tiles = (positions + mr - 1) / mr, panels = (channels + nr - 1) / nr
        let threads = Compute.threads
        let splitPanels = tiles < 4 * threads && panels >= threads
        let units = splitPanels ? panels : tiles
        let chunks = max(1, min(threads, units))
        Compute.parallelFor(chunks) { range in
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: k)
            defer { offsets.deallocate() }
            Workspace.shared.withBuffer(count: panelFloats) { panel in
                for chunk in range {
                    let lo = units * chunk / chunks, hi = units * (chunk + 1) / chunks
                    withUnsafePointer(to: problem.cv) { cv in
                        let status = splitPanels
                            ? kk_conv_indirect(cv, isa.c, 0, positions, lo * nr, min(channels, hi * nr), offsets, panel)
                            : kk_conv_indirect(cv, isa.c, lo * mr, min(positions, hi * mr), 0, channels, offsets, panel)
                        assert(status == 0, "kk_conv_indirect refused ISA \(isa)")
                    }
                }
            }
        }
    }
}

extension Depthwise {
    /// True when the backward passes have direct kernels: stride 1 (dx needs padding 1, dW padding 0 or 1).
    static func supportsBackward(_ g: ConvGeometry, channels c: Int, outChannels cout: Int, forData: Bool) -> Bool {
        supports(g, channels: c, outChannels: cout) && g.strideH == 1 && (!forData || g.padH == 1)
    }

    /// dx `[n, c, h, w]` for dy `[n, c, h, w]` (stride 1, padding 1): the forward kernel on dy with every 3×3
    /// kernel rotated by 180°.
    static func backwardData(dy: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, weight: UnsafePointer<Float>,
                             geometry g: ConvGeometry, dx: UnsafeMutablePointer<Float>) {
        let rotated = UnsafeMutablePointer<Float>.allocate(capacity: c * 9)
        defer { rotated.deallocate() }
        for i in 0..<(c * 9) { rotated[i] = weight[i / 9 * 9 + 8 - i % 9] }
        forward(x: dy, n: n, c: c, h: h, w: w, weight: rotated, epilogue: nil, geometry: g, y: dx)
    }

    /// dW `[c, 1, 3, 3]` = Σ over images and positions of dy · x (stride 1, padding 0 or 1); each thread owns a
    /// range of channels and sums the images in order, so the result does not depend on the thread count.
    static func backwardWeight(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int,
                               geometry g: ConvGeometry, dw: UnsafeMutablePointer<Float>) {
        let (oh, ow) = g.outputSize(h: h, w: w)
        dw.update(repeating: 0, count: c * 9)
        let sx = SendablePointer(x), sdy = SendablePointer(dy), sdw = SendablePointer(dw)
        Compute.parallelFor(c, grain: max(1, 8192 / max(n * h * w, 1))) { r in
            for img in 0..<n {
                let status = kk_depthwise3x3_weight_grad(sx.base + img * c * h * w, h, w, sdy.base + img * c * oh * ow,
                                                         1, g.padH, r.lowerBound, r.upperBound, sdw.base)
                assert(status == 0, "kk_depthwise3x3_weight_grad refused a supported geometry")
            }
        }
    }
}

/// An indirect-convolution problem carried into the worker closures (each writes disjoint outputs).
struct IndirectBox: @unchecked Sendable {
    let cv: KKIndirectConv
    init(_ cv: KKIndirectConv) { self.cv = cv }
}

/// A pointwise-convolution problem carried into the worker closures (each writes disjoint outputs).
struct PointwiseBox: @unchecked Sendable {
    let cv: KKPointwiseConv
    init(_ cv: KKPointwiseConv) { self.cv = cv }
}
