#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// 2-D convolution as im2col + one GEMM per weight group (the darknet / Caffe / curriculum design), and the two
/// backward products, for NCHW tensors.
///
/// Shapes: input `x [N, C, H, W]`, weight `[Cout, C/groups, kh, kw]`, bias `[Cout]`, output
/// `[N, Cout, OH, OW]` (``ConvGeometry/outputSize(h:w:)``). Cross-correlation, as every deep-learning library
/// computes "convolution": `y[n, o, p, q] = b[o] + Σ_{c,i,j} w[o, c, i, j] · x[n, g·C/groups + c,
/// p·s − pad + i·d, q·s − pad + j·d]`.
///
/// Small images are batched: `imageBlock` images share one column matrix `[groups·K, B·OH·OW]` so every GEMM
/// has at least ``minColumns`` columns, and the column memory comes from ``Workspace`` (reused across calls).
/// The 1×1 / stride-1 / unpadded case skips im2col: the image already is its column matrix. With ``FastGEMM``
/// (the default) the forward pass needs no column matrix at all, and depthwise 3×3 runs a direct kernel; see
/// ``forward(_:weight:bias:geometry:)``.
public enum Convolution {
    /// Target GEMM width: images are batched into one column matrix until it has at least this many columns.
    public static let minColumns = 512

    static func imageBlock(batch: Int, columnsPerImage: Int) -> Int {
        min(batch, max(1, (minColumns + columnsPerImage - 1) / max(columnsPerImage, 1)))
    }

    /// Images per column matrix for the backward passes: as many as fit in ``weightColumnFloats``. The weight
    /// gradient's GEMM sums over the columns (its K), so narrow layers (16 output channels, K = one 32×32 image)
    /// make a few long GEMMs instead of one short one per image, each paying its packing and thread start-up;
    /// dx's col2im runs over a block's images in one parallel loop.
    static func weightImageBlock(batch: Int, columnsPerImage: Int, depth: Int) -> Int {
        let fit = weightColumnFloats / max(1, depth * columnsPerImage)
        return min(batch, max(imageBlock(batch: batch, columnsPerImage: columnsPerImage), fit))
    }

    /// Column-matrix budget of the backward passes, in floats (4 MiB).
    static let weightColumnFloats = 1 << 20

    /// `y = conv(x, weight) + bias`, by the fastest path available: the direct kernel for depthwise 3×3
    /// (stride 1 or 2, padding 0 or 1), ``FastGEMM``'s packing straight from the images when it is the
    /// current ``Compute/gemm`` (no column buffer), otherwise ``forwardIm2col(_:weight:bias:geometry:)``.
    ///
    /// `epilogue`: a per-channel affine map and activation applied to each output as it is stored,
    /// `y = act((conv + bias)·scale + shift + residual)` — an inference-time batch norm and ReLU folded into the
    /// convolution (no extra pass over the output on the direct and FastGEMM paths). A residual is added to each
    /// block of outputs while it is in cache on the indirect kernel's blocked path, in a pass over the output
    /// elsewhere.
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                               epilogue: ConvEpilogue? = nil) -> Tensor {
        let (n, c, h, w) = dims4(x, "input")
        let (cout, cg, kh, kw) = dims4(weight, "weight")
        precondition(kh == g.kernelH && kw == g.kernelW, "weight \(weight.shape) does not match kernel \(g.kernelH)x\(g.kernelW)")
        precondition(c % g.groups == 0 && cout % g.groups == 0 && cg == c / g.groups,
                     "weight \(weight.shape) does not fit input \(x.shape) with groups \(g.groups)")
        if let bias { precondition(bias.shape == [cout], "bias \(bias.shape) for \(cout) output channels") }
        let (oh, ow) = g.outputSize(h: h, w: w)
        precondition(oh > 0 && ow > 0, "input \(h)x\(w) is smaller than the convolution window")
        if let r = epilogue?.residual { precondition(r.shape == [n, cout, oh, ow], "residual \(r.shape) for output [\(n), \(cout), \(oh), \(ow)]") }
        // The bias joins the epilogue's shift: act(v·scale + (bias·scale + shift)).
        let stored = ConvEpilogue.Resolved(epilogue, bias: bias, channels: cout)
        if Depthwise.supports(g, channels: c, outChannels: cout) {
            return x.withUnsafeBufferPointer { px in
                weight.withUnsafeBufferPointer { pw in
                    stored.withKKEpilogue(groupOffset: 0) { ep in
                        Tensor(shape: [n, cout, oh, ow]) { py in
                            Depthwise.forward(x: px.baseAddress!, n: n, c: c, h: h, w: w, weight: pw.baseAddress!,
                                              epilogue: ep, geometry: g, y: py.baseAddress!)
                            stored.finishAll(py.baseAddress!, count: py.count)
                        }
                    }
                }
            }
        }
        if let fast = Compute.gemm as? FastGEMM, fast.isa != nil {
            let packed = fast.packedConvolutionWeights(weight, groups: g.groups)
            var applied = false
            var y = x.withUnsafeBufferPointer { px in
                weight.withUnsafeBufferPointer { pw in
                    Tensor(shape: [n, cout, oh, ow]) { py in
                        applied = fast.convolutionForward(x: px.baseAddress!, n: n, c: c, h: h, w: w,
                                                          weight: pw.baseAddress!, cout: cout, geometry: g,
                                                          y: py.baseAddress!, packed: packed.map { UnsafePointer($0.base) },
                                                          epilogue: stored)
                    }
                }
            }
            withExtendedLifetime(packed) {}
            if !applied { stored.apply(to: &y) }
            return y
        }
        var y = forwardIm2col(x, weight: weight, bias: nil, geometry: g)
        stored.apply(to: &y)
        return y
    }

    /// `y = conv(x, weight) + bias` as im2col into a column buffer + one ``Compute/gemm`` call per weight group
    /// (images batched to at least ``minColumns`` columns; 1×1 / stride 1 / unpadded skips im2col): the plain
    /// path, and the reference the faster paths of ``forward(_:weight:bias:geometry:)`` are tested against.
    public static func forwardIm2col(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry) -> Tensor {
        let (n, c, h, w) = dims4(x, "input")
        let (cout, cg, kh, kw) = dims4(weight, "weight")
        precondition(kh == g.kernelH && kw == g.kernelW, "weight \(weight.shape) does not match kernel \(g.kernelH)x\(g.kernelW)")
        precondition(c % g.groups == 0 && cout % g.groups == 0 && cg == c / g.groups,
                     "weight \(weight.shape) does not fit input \(x.shape) with groups \(g.groups)")
        if let bias { precondition(bias.shape == [cout], "bias \(bias.shape) for \(cout) output channels") }
        let (oh, ow) = g.outputSize(h: h, w: w)
        precondition(oh > 0 && ow > 0, "input \(h)x\(w) is smaller than the convolution window")
        let l = oh * ow
        let k = cg * kh * kw
        let coutg = cout / g.groups
        let gemm = Compute.gemm
        var y = Tensor(shape: [n, cout, oh, ow]) { _ in }
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                y.withUnsafeMutableBufferPointer { py in
                    let xp = px.baseAddress!, wp = pw.baseAddress!, yp = py.baseAddress!
                    if g.isPointwise {
                        for img in 0..<n {
                            for grp in 0..<g.groups {
                                gemm.sgemm(order: .rowMajor, transA: .noTranspose, transB: .noTranspose,
                                           m: coutg, n: l, k: k, alpha: 1, a: wp + grp * coutg * k, lda: k,
                                           b: xp + (img * c + grp * cg) * h * w, ldb: l, beta: 0,
                                           c: yp + (img * cout + grp * coutg) * l, ldc: l)
                            }
                        }
                        return
                    }
                    let block = imageBlock(batch: n, columnsPerImage: l)
                    let ld = block * l
                    Workspace.shared.withBuffer(count: g.groups * k * ld + (block > 1 ? cout * ld : 0)) { ws in
                        let cols = ws
                        let tmp = ws + g.groups * k * ld  // [Cout, B·L] when images are batched
                        for n0 in stride(from: 0, to: n, by: block) {
                            let b = min(block, n - n0)
                            let ldb = b * l
                            for i in 0..<b {
                                Im2col.im2col(xp + (n0 + i) * c * h * w, channels: c, height: h, width: w,
                                              geometry: g, into: cols, ld: ldb, columnOffset: i * l)
                            }
                            for grp in 0..<g.groups {
                                let out: UnsafeMutablePointer<Float> =
                                    b == 1 ? yp + (n0 * cout + grp * coutg) * l : tmp + grp * coutg * ldb
                                gemm.sgemm(order: .rowMajor, transA: .noTranspose, transB: .noTranspose,
                                           m: coutg, n: ldb, k: k, alpha: 1, a: wp + grp * coutg * k, lda: k,
                                           b: cols + grp * k * ldb, ldb: ldb, beta: 0, c: out, ldc: ldb)
                            }
                            if b > 1 { scatter(tmp, into: yp + n0 * cout * l, images: b, channels: cout, plane: l) }
                        }
                    }
                }
            }
        }
        if let bias { addBias(bias, to: &y) }
        return y
    }

    /// The gradient with respect to the input, `[N, C, H, W]`: for stride 1 (with ``FastGEMM``), the forward
    /// convolution of dy with the flipped weights (``flippedGeometry(_:)``), which needs no column buffer; for
    /// larger strides (with ``FastGEMM``, no dilation), one stride-1 convolution of dy per phase of the input
    /// grid (``FastGEMM/phaseBackwardData(dy:n:cout:oh:ow:weight:c:h:w:geometry:dx:isa:)``); for depthwise 3×3 with
    /// stride 1 and padding 1, the direct kernel with rotated weights; otherwise
    /// ``backwardDataIm2col(_:weight:inputShape:geometry:)``.
    public static func backwardData(_ dy: Tensor, weight: Tensor, inputShape: Shape, geometry g: ConvGeometry) -> Tensor {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (cout, cg, _, _) = dims4(weight, "weight")
        let (oh, ow) = g.outputSize(h: h, w: w)
        precondition(dy.shape == [n, cout, oh, ow], "dy \(dy.shape) for output [\(n), \(cout), \(oh), \(ow)]")
        if Depthwise.supportsBackward(g, channels: c, outChannels: cout, forData: true) {
            return dy.withUnsafeBufferPointer { pdy in
                weight.withUnsafeBufferPointer { pw in
                    Tensor(shape: inputShape) { pdx in
                        Depthwise.backwardData(dy: pdy.baseAddress!, n: n, c: c, h: h, w: w, weight: pw.baseAddress!,
                                               geometry: g, dx: pdx.baseAddress!)
                    }
                }
            }
        }
        if let flipped = flippedGeometry(g), cg >= 8, let fast = Compute.gemm as? FastGEMM, fast.isa != nil {
            return forward(dy, weight: flippedWeight(weight, groups: g.groups), bias: nil, geometry: flipped)
        }
        if let fast = Compute.gemm as? FastGEMM, let isa = fast.isa, FastGEMM.supportsPhaseBackwardData(g, channelsPerGroup: cg) {
            return dy.withUnsafeBufferPointer { pdy in
                weight.withUnsafeBufferPointer { pw in
                    Tensor(shape: inputShape) { pdx in
                        fast.phaseBackwardData(dy: pdy.baseAddress!, n: n, cout: cout, oh: oh, ow: ow, weight: pw.baseAddress!,
                                               c: c, h: h, w: w, geometry: g, dx: pdx.baseAddress!, isa: isa)
                    }
                }
            }
        }
        return backwardDataIm2col(dy, weight: weight, inputShape: inputShape, geometry: g)
    }

    /// For a stride-1 convolution, the geometry of the convolution that computes its input gradient from dy:
    /// `dx = conv(dy, flippedWeight(w), padding (k−1)·d − p, same dilation and groups)`; nil for other strides
    /// and for paddings beyond (k−1)·d (the flipped convolution would need negative padding).
    static func flippedGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        guard g.strideH == 1, g.strideW == 1, !g.isPointwise else { return nil }
        let ph = (g.kernelH - 1) * g.dilationH - g.padH, pw = (g.kernelW - 1) * g.dilationW - g.padW
        guard ph >= 0, pw >= 0 else { return nil }
        return ConvGeometry(kernel: (g.kernelH, g.kernelW), padding: (ph, pw), dilation: (g.dilationH, g.dilationW),
                            groups: g.groups)
    }

    /// `[Cout, C/groups, kh, kw]` → `[C, Cout/groups, kh, kw]`: within each group, input and output channels
    /// swapped and every kernel rotated by 180°.
    static func flippedWeight(_ weight: Tensor, groups: Int) -> Tensor {
        let (cout, cg, kh, kw) = dims4(weight, "weight")
        let coutg = cout / groups, kk = kh * kw
        return weight.withUnsafeBufferPointer { pw in
            Tensor(shape: [cg * groups, coutg, kh, kw]) { out in
                let src = pw.baseAddress!, dst = out.baseAddress!
                for grp in 0..<groups {
                    for o in 0..<coutg {
                        for ci in 0..<cg {
                            let s = src + ((grp * coutg + o) * cg + ci) * kk
                            let d = dst + ((grp * cg + ci) * coutg + o) * kk
                            for t in 0..<kk { d[t] = s[kk - 1 - t] }
                        }
                    }
                }
            }
        }
    }

    /// ``backwardData(_:weight:inputShape:geometry:)`` as `col2im(Wᵀ · dy)` into a column buffer: the plain path
    /// (strides above 1, and every GEMM but ``FastGEMM``). Every path is tested against the slow Double reference.
    public static func backwardDataIm2col(_ dy: Tensor, weight: Tensor, inputShape: Shape, geometry g: ConvGeometry) -> Tensor {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (cout, cg, kh, kw) = dims4(weight, "weight")
        let (oh, ow) = g.outputSize(h: h, w: w)
        precondition(dy.shape == [n, cout, oh, ow], "dy \(dy.shape) for output [\(n), \(cout), \(oh), \(ow)]")
        let l = oh * ow
        let k = cg * kh * kw
        let coutg = cout / g.groups
        let gemm = Compute.gemm
        var dx = Tensor(shape: inputShape, repeating: 0)
        dy.withUnsafeBufferPointer { pdy in
            weight.withUnsafeBufferPointer { pw in
                dx.withUnsafeMutableBufferPointer { pdx in
                    let dyp = pdy.baseAddress!, wp = pw.baseAddress!, dxp = pdx.baseAddress!
                    if g.isPointwise {
                        for img in 0..<n {
                            for grp in 0..<g.groups {
                                gemm.sgemm(order: .rowMajor, transA: .transpose, transB: .noTranspose,
                                           m: k, n: l, k: coutg, alpha: 1, a: wp + grp * coutg * k, lda: k,
                                           b: dyp + (img * cout + grp * coutg) * l, ldb: l, beta: 0,
                                           c: dxp + (img * c + grp * cg) * h * w, ldc: l)
                            }
                        }
                        return
                    }
                    let block = weightImageBlock(batch: n, columnsPerImage: l, depth: g.groups * k)
                    let ld = block * l
                    Workspace.shared.withBuffer(count: g.groups * k * ld + (block > 1 ? cout * ld : 0)) { ws in
                        let dcols = ws
                        let gathered = ws + g.groups * k * ld
                        for n0 in stride(from: 0, to: n, by: block) {
                            let b = min(block, n - n0)
                            let ldb = b * l
                            if b > 1 { gather(dyp + n0 * cout * l, into: gathered, images: b, channels: cout, plane: l) }
                            for grp in 0..<g.groups {
                                let dyg: UnsafePointer<Float> =
                                    b == 1 ? UnsafePointer(dyp + (n0 * cout + grp * coutg) * l) : UnsafePointer(gathered + grp * coutg * ldb)
                                gemm.sgemm(order: .rowMajor, transA: .transpose, transB: .noTranspose,
                                           m: k, n: ldb, k: coutg, alpha: 1, a: wp + grp * coutg * k, lda: k,
                                           b: dyg, ldb: ldb, beta: 0, c: dcols + grp * k * ldb, ldc: ldb)
                            }
                            Im2col.col2im(dcols, ld: ldb, images: b, channels: c, height: h, width: w, geometry: g,
                                          into: dxp + n0 * c * h * w)
                        }
                    }
                }
            }
        }
        return dx
    }

    /// The gradient with respect to the weight, `dW = Σ_images dy · colsᵀ`, shape `[Cout, C/groups, kh, kw]`: for
    /// depthwise 3×3 with stride 1, a direct kernel; with ``FastGEMM``, GEMMs whose panels are packed from the
    /// images (no column buffer); otherwise ``backwardWeightIm2col(_:input:weightShape:geometry:)``.
    public static func backwardWeight(_ dy: Tensor, input x: Tensor, weightShape: Shape, geometry g: ConvGeometry) -> Tensor {
        let (n, c, h, w) = dims4(x, "input")
        let cout = weightShape[0]
        let (oh, ow) = g.outputSize(h: h, w: w)
        precondition(dy.shape == [n, cout, oh, ow], "dy \(dy.shape) for output [\(n), \(cout), \(oh), \(ow)]")
        if Depthwise.supportsBackward(g, channels: c, outChannels: cout, forData: false) {
            return dy.withUnsafeBufferPointer { pdy in
                x.withUnsafeBufferPointer { px in
                    Tensor(shape: weightShape) { pdw in
                        Depthwise.backwardWeight(x: px.baseAddress!, dy: pdy.baseAddress!, n: n, c: c, h: h, w: w,
                                                 geometry: g, dw: pdw.baseAddress!)
                    }
                }
            }
        }
        if let fast = Compute.gemm as? FastGEMM, fast.isa != nil {
            return dy.withUnsafeBufferPointer { pdy in
                x.withUnsafeBufferPointer { px in
                    Tensor(shape: weightShape) { pdw in
                        _ = fast.convolutionWeightGradient(x: px.baseAddress!, n: n, c: c, h: h, w: w, dy: pdy.baseAddress!,
                                                           cout: cout, geometry: g, dw: pdw.baseAddress!)
                    }
                }
            }
        }
        return backwardWeightIm2col(dy, input: x, weightShape: weightShape, geometry: g)
    }

    /// ``backwardWeight(_:input:weightShape:geometry:)`` as im2col into a column buffer + one GEMM per block of
    /// images: the plain path (every GEMM but ``FastGEMM``). Every path is tested against the slow Double reference.
    public static func backwardWeightIm2col(_ dy: Tensor, input x: Tensor, weightShape: Shape, geometry g: ConvGeometry) -> Tensor {
        let (n, c, h, w) = dims4(x, "input")
        let (cout, cg, kh, kw) = (weightShape[0], weightShape[1], weightShape[2], weightShape[3])
        let (oh, ow) = g.outputSize(h: h, w: w)
        precondition(dy.shape == [n, cout, oh, ow], "dy \(dy.shape) for output [\(n), \(cout), \(oh), \(ow)]")
        let l = oh * ow
        let k = cg * kh * kw
        let coutg = cout / g.groups
        let gemm = Compute.gemm
        var dw = Tensor(shape: weightShape, repeating: 0)
        dy.withUnsafeBufferPointer { pdy in
            x.withUnsafeBufferPointer { px in
                dw.withUnsafeMutableBufferPointer { pdw in
                    let dyp = pdy.baseAddress!, xp = px.baseAddress!, dwp = pdw.baseAddress!
                    if g.isPointwise {
                        for img in 0..<n {
                            for grp in 0..<g.groups {
                                gemm.sgemm(order: .rowMajor, transA: .noTranspose, transB: .transpose,
                                           m: coutg, n: k, k: l, alpha: 1, a: dyp + (img * cout + grp * coutg) * l,
                                           lda: l, b: xp + (img * c + grp * cg) * h * w, ldb: l, beta: 1,
                                           c: dwp + grp * coutg * k, ldc: k)
                            }
                        }
                        return
                    }
                    let block = weightImageBlock(batch: n, columnsPerImage: l, depth: g.groups * k)
                    let ld = block * l
                    Workspace.shared.withBuffer(count: g.groups * k * ld + (block > 1 ? cout * ld : 0)) { ws in
                        let cols = ws
                        let gathered = ws + g.groups * k * ld
                        for n0 in stride(from: 0, to: n, by: block) {
                            let b = min(block, n - n0)
                            let ldb = b * l
                            for i in 0..<b {
                                Im2col.im2col(xp + (n0 + i) * c * h * w, channels: c, height: h, width: w,
                                              geometry: g, into: cols, ld: ldb, columnOffset: i * l)
                            }
                            if b > 1 { gather(dyp + n0 * cout * l, into: gathered, images: b, channels: cout, plane: l) }
                            for grp in 0..<g.groups {
                                let dyg: UnsafePointer<Float> =
                                    b == 1 ? UnsafePointer(dyp + (n0 * cout + grp * coutg) * l) : UnsafePointer(gathered + grp * coutg * ldb)
                                gemm.sgemm(order: .rowMajor, transA: .noTranspose, transB: .transpose,
                                           m: coutg, n: k, k: ldb, alpha: 1, a: dyg, lda: ldb,
                                           b: cols + grp * k * ldb, ldb: ldb, beta: 1, c: dwp + grp * coutg * k, ldc: k)
                            }
                        }
                    }
                }
            }
        }
        return dw
    }

    /// The gradient with respect to the bias: `dy` summed over N, H and W, shape `[Cout]`.
    public static func backwardBias(_ dy: Tensor) -> Tensor {
        let (n, cout, oh, ow) = dims4(dy, "dy")
        let l = oh * ow
        return dy.withUnsafeBufferPointer { p in
            let s = SendablePointer(p.baseAddress!)
            return Tensor(shape: [cout]) { out in
                let o = SendablePointer(out.baseAddress!)
                Compute.parallelFor(cout) { r in
                    for co in r {
                        var acc: Float = 0
                        for img in 0..<n {
                            let plane = s.base + (img * cout + co) * l
                            var part: Float = 0
                            for i in 0..<l { part += plane[i] }
                            acc += part
                        }
                        o[co] = acc
                    }
                }
            }
        }
    }

    /// `y[n, c, ...] += bias[c]`.
    static func addBias(_ bias: Tensor, to y: inout Tensor) {
        let (n, cout, oh, ow) = dims4(y, "output")
        let l = oh * ow
        bias.withUnsafeBufferPointer { pb in
            let b = SendablePointer(pb.baseAddress!)
            y.withUnsafeMutableBufferPointer { py in
                let yp = SendablePointer(py.baseAddress!)
                Compute.parallelFor(n * cout, grain: max(1, 16384 / max(l, 1))) { r in
                    for plane in r {
                        let v = b[plane % cout]
                        let base = yp.base + plane * l
                        for i in 0..<l { base[i] += v }
                    }
                }
            }
        }
    }

    /// `[C, B·L]` (images side by side) → `[B, C, L]`.
    static func scatter(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, images b: Int,
                        channels c: Int, plane l: Int) {
        let s = SendablePointer(src), d = SendablePointer(dst)
        Compute.parallelFor(b * c, grain: max(1, 16384 / max(l, 1))) { r in
            for bc in r {
                let i = bc / c, ch = bc % c
                (d.base + (i * c + ch) * l).update(from: s.base + ch * b * l + i * l, count: l)
            }
        }
    }

    /// `[B, C, L]` → `[C, B·L]`.
    static func gather(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, images b: Int,
                       channels c: Int, plane l: Int) {
        let s = SendablePointer(src), d = SendablePointer(dst)
        Compute.parallelFor(b * c, grain: max(1, 16384 / max(l, 1))) { r in
            for bc in r {
                let i = bc / c, ch = bc % c
                (d.base + ch * b * l + i * l).update(from: s.base + (i * c + ch) * l, count: l)
            }
        }
    }

    static func dims4(_ t: Tensor, _ what: String) -> (Int, Int, Int, Int) {
        precondition(t.rank == 4, "\(what) must be [N, C, H, W], got \(t.shape)")
        return (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
    }
}

extension Convolution {
    /// One GEMM call shape: `C[m×n] = op(A)[m×k] · op(B)[k×n]`.
    public struct GEMMShape: Hashable, Sendable {
        public var m: Int, n: Int, k: Int
        public var transA: Bool, transB: Bool
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// Which product a plan describes.
    public enum Pass: Sendable { case forward, backwardData, backwardWeight }

    /// The GEMM calls `forward` / `backwardData` / `backwardWeight` make for this input and weight, in order —
    /// so a benchmark can time the same GEMMs bare and report how much the convolution adds around them. Where a
    /// direct kernel replaces the column path (the indirect forward, dx by flipped weights or by phases, dW on a
    /// grid), these are the column path's GEMMs: the same arithmetic as one bare product.
    public static func gemmPlan(inputShape: Shape, weightShape: Shape, geometry g: ConvGeometry, pass: Pass) -> [GEMMShape] {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (cout, cg, kh, kw) = (weightShape[0], weightShape[1], weightShape[2], weightShape[3])
        let (oh, ow) = g.outputSize(h: h, w: w)
        let l = oh * ow, k = cg * kh * kw, coutg = cout / g.groups
        _ = c
        var plan: [GEMMShape] = []
        // The weight gradient blocks images by FastGEMM's gathered-dY budget (pointwise included); the backward
        // passes' im2col paths by the column-buffer budget.
        let packed = pass == .backwardWeight && (Compute.gemm as? FastGEMM)?.isa != nil
        let block = packed ? min(n, max(1, FastGEMM.gradientBlockFloats / max(1, cout * l)))
            : pass == .forward ? imageBlock(batch: n, columnsPerImage: l)
            : weightImageBlock(batch: n, columnsPerImage: l, depth: g.groups * k)
        let blocks: [Int] = g.isPointwise && !packed ? [Int](repeating: 1, count: n)
            : stride(from: 0, to: n, by: block).map { min(block, n - $0) }
        for b in blocks {
            for _ in 0..<g.groups {
                switch pass {
                case .forward: plan.append(GEMMShape(m: coutg, n: b * l, k: k, transA: false, transB: false))
                case .backwardData: plan.append(GEMMShape(m: k, n: b * l, k: coutg, transA: true, transB: false))
                case .backwardWeight: plan.append(GEMMShape(m: coutg, n: k, k: b * l, transA: false, transB: true))
                }
            }
        }
        return plan
    }
}
