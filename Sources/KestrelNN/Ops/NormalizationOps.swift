// Normalisation ops over `[N, C, …]`, with the per-group statistics and the backward written side by side.
// Common backward for y = γ·x̂ + β, x̂ = (x − μ)·σ⁻¹ over a group of M elements:
//   dx = σ⁻¹/M · (M·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)),  dx̂ = dy·γ,  dγ = Σ dy·x̂,  dβ = Σ dy.

/// Statistics of one batch-norm forward in training mode, for the layer to fold into its running averages.
public struct BatchStatistics {
    /// Per-channel mean over N, H, W.
    public let mean: Tensor
    /// Per-channel biased variance (divided by the count), the one the normalisation used.
    public let variance: Tensor
    /// Elements per channel (N·H·W), to turn the variance unbiased for the running average.
    public let count: Int
}

/// Batch normalisation in training mode: normalises each channel of `[N, C, H, W]` (or `[N, C]`) with the
/// batch's mean and biased variance; `gamma` and `beta` are `[C]`. With `relu`, the ReLU that follows is applied
/// in the same pass, `max(0, bn(x))` as one op: the forward writes one tensor instead of two, and the backward's
/// two passes over dy and x (the sums, then dx) serve both.
///
/// Each output is `x·a + b` with the per-channel `a = γ/√(var + eps)`, `b = β − mean·a`. The backward keeps x,
/// not x̂: it recomputes `x − mean` (and the ReLU's gate, `x·a + b > 0`, by the same expression as the forward).
///
/// With `residual` (x's shape), `act(bn(x) + residual)` as one op — a ResNet block's end in training: the
/// normalised output is never written, and the sum and ReLU take no pass of their own. Its backward gates dy by
/// the output (`y > 0`), which is also the residual's gradient.
public func batchNormTraining(_ x: Variable, gamma: Variable, beta: Variable, eps: Float,
                              relu: Bool = false, residual: Variable? = nil) -> (Variable, BatchStatistics) {
    let xv = x.value
    let (n, c) = (xv.shape[0], xv.shape[1])
    let l = xv.count / Swift.max(n * c, 1)
    let m = n * l
    // Per channel (channels spread over the threads): each image's plane gives its sum and its squares around
    // its own mean (the second pass reads the plane from the cache), and the planes are combined in order in
    // Double (Chan et al.'s pairwise update), so x is read from memory once.
    var moments = [Float](repeating: 0, count: 3 * c)  // mean, variance, 1/√(variance + eps)
    xv.withUnsafeBufferPointer { px in
        let src = SendablePointer(px.baseAddress!)
        moments.withUnsafeMutableBufferPointer { ps in
            let out = SendablePointer(ps.baseAddress!)
            Compute.parallelFor(c, grain: Swift.max(1, 32768 / Swift.max(m, 1))) { r in
                for ch in r {
                    var count = 0.0, mean = 0.0, m2 = 0.0
                    for img in 0..<n {
                        let plane = src.base + (img * c + ch) * l
                        let planeMean = VectorReductions.sum(plane, count: l) / Float(Swift.max(l, 1))
                        let planeM2 = Double(VectorReductions.sumOfSquares(plane, count: l, around: planeMean))
                        let k = Double(l), total = count + k
                        let delta = Double(planeMean) - mean
                        mean += delta * k / Swift.max(total, 1)
                        m2 += planeM2 + delta * delta * count * k / Swift.max(total, 1)
                        count = total
                    }
                    let v = m2 / Double(Swift.max(m, 1))
                    out[ch] = Float(mean)
                    out[c + ch] = Float(v)
                    out[2 * c + ch] = Float(1 / (v + Double(eps)).squareRoot())
                }
            }
        }
    }
    let mean = Array(moments[0..<c]), variance = Array(moments[c..<(2 * c)]), invStd = Array(moments[(2 * c)...])
    let (gv, bv) = (gamma.value.scalars, beta.value.scalars)
    let scale = (0..<c).map { gv[$0] * invStd[$0] }
    let shift = (0..<c).map { bv[$0] - mean[$0] * scale[$0] }
    if let r = residual { precondition(r.shape == x.shape, "residual \(r.shape) for batch norm of \(x.shape)") }
    let rv = residual?.value ?? xv, hasResidual = residual != nil  // rv is read only with a residual
    let y = Tensor.byPlanes(xv.shape, planes: n * c, planeSize: l) { plane, out in
        let (a, b) = (scale[plane % c], shift[plane % c])
        xv.withUnsafeBufferPointer { px in
            rv.withUnsafeBufferPointer { pr in
                let src = px.baseAddress! + plane * l, add = pr.baseAddress! + plane * l
                switch (relu, hasResidual) {
                case (true, false): for i in 0..<l { let v = src[i] * a + b; out[i] = v > 0 ? v : 0 }
                case (false, false): for i in 0..<l { out[i] = src[i] * a + b }
                case (true, true): for i in 0..<l { let v = (src[i] * a + b) + add[i]; out[i] = v > 0 ? v : 0 }
                case (false, true): for i in 0..<l { out[i] = (src[i] * a + b) + add[i] }
                }
            }
        }
    }
    let stats = BatchStatistics(mean: Tensor(shape: [c], scalars: mean), variance: Tensor(shape: [c], scalars: variance),
                                count: m)
    let name = "batch_norm" + (residual == nil ? "" : "_add") + (relu ? "_relu" : "")
    let out = record(name, [x, gamma, beta] + (residual.map { [$0] } ?? []), y) { dy, needs in
        // With a residual, the ReLU's gate is the output's sign: dy gated once, then the plain batch norm's
        // backward; that gated dy is the residual's gradient too.
        let gy = hasResidual && relu
            ? Tensor.elementwise(dy, y) { g, ys, d, r in for i in r { let gv = g[i]; d[i] = ys[i] > 0 ? gv : 0 } }
            : dy
        let relu = relu && !hasResidual
        // Per channel: Σg and Σg·(x − mean), g = dy gated by the ReLU when there is one.
        var sums = [Double](repeating: 0, count: 2 * c)
        gy.withUnsafeBufferPointer { pg in
            xv.withUnsafeBufferPointer { px in
                let g = SendablePointer(pg.baseAddress!), h = SendablePointer(px.baseAddress!)
                sums.withUnsafeMutableBufferPointer { ps in
                    let out = SendablePointer(ps.baseAddress!)
                    Compute.parallelFor(c, grain: Swift.max(1, 32768 / Swift.max(m, 1))) { r in
                        for ch in r {
                            var a = 0.0, b = 0.0
                            for img in 0..<n {
                                let offset = (img * c + ch) * l
                                let (s, d) = VectorReductions.gatedSumAndCenteredDot(
                                    g.base + offset, h.base + offset, count: l, center: mean[ch],
                                    gate: relu ? (scale[ch], shift[ch]) : nil)
                                a += Double(s)
                                b += Double(d)
                            }
                            out[ch] = a
                            out[c + ch] = b
                        }
                    }
                }
            }
        }
        // dβ = Σg, dγ = Σg·x̂ = σ⁻¹·Σg·(x − mean), and
        // dx = γσ⁻¹/M · (M·g − Σg − (x − mean)·σ⁻¹·Σg·x̂) = k1·g − k0 − (x − mean)·k2.
        let sumG = Array(sums[0..<c])
        let dBeta = sumG.map { Float($0) }
        let dGamma = (0..<c).map { Float(sums[c + $0] * Double(invStd[$0])) }
        let dx: Tensor? = needs[0] ? Tensor.byPlanes(xv.shape, planes: n * c, planeSize: l) { plane, out in
            let ch = plane % c
            let k = Double(gv[ch]) * Double(invStd[ch]) / Double(m)
            let k1 = Float(k * Double(m)), k0 = Float(k * sumG[ch])
            let k2 = Float(k * Double(invStd[ch]) * Double(dGamma[ch]))
            let (mu, a, b) = (mean[ch], scale[ch], shift[ch])
            gy.withUnsafeBufferPointer { pg in
                xv.withUnsafeBufferPointer { px in
                    let g = pg.baseAddress! + plane * l, xs = px.baseAddress! + plane * l
                    if relu {
                        for i in 0..<l {
                            let gval = g[i], gi = xs[i] * a + b > 0 ? gval : 0
                            out[i] = k1 * gi - k0 - (xs[i] - mu) * k2
                        }
                    } else {
                        for i in 0..<l { out[i] = k1 * g[i] - k0 - (xs[i] - mu) * k2 }
                    }
                }
            }
        } : nil
        return [dx, needs[1] ? Tensor(shape: [c], scalars: dGamma) : nil, needs[2] ? Tensor(shape: [c], scalars: dBeta) : nil]
            + (hasResidual ? [needs[3] ? gy : nil] : [])
    }
    return (out, stats)
}

/// Evaluation-mode batch norm as the per-channel map `y = scale·x + shift`: `scale = γ/√(running var + eps)`,
/// `shift = β − running mean·scale` (all `[C]`).
func batchNormAffine(gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
                     eps: Float) -> (scale: [Float], shift: [Float]) {
    let rm = runningMean.scalars, rv = runningVariance.scalars, gv = gamma.scalars, bv = beta.scalars
    let scale = (0..<rv.count).map { gv[$0] * (1 / (rv[$0] + eps).squareRoot()) }
    return (scale, (0..<rv.count).map { bv[$0] - rm[$0] * scale[$0] })
}

/// Batch normalisation in evaluation mode: `y = γ·(x − running mean)/√(running var + eps) + β`; the running
/// statistics are constants (no gradient).
public func batchNormInference(_ x: Variable, gamma: Variable, beta: Variable, runningMean: Tensor,
                               runningVariance: Tensor, eps: Float) -> Variable {
    let xv = x.value
    let (n, c) = (xv.shape[0], xv.shape[1])
    let l = xv.count / Swift.max(n * c, 1)
    let (scale, shift) = batchNormAffine(gamma: gamma.value, beta: beta.value, runningMean: runningMean,
                                         runningVariance: runningVariance, eps: eps)
    let rm = runningMean.scalars, inv = runningVariance.scalars.map { 1 / ($0 + eps).squareRoot() }  // for dγ
    let y = Tensor.byPlanes(xv.shape, planes: n * c, planeSize: l) { plane, out in
        let ch = plane % c
        xv.withUnsafeBufferPointer { px in
            let src = px.baseAddress! + plane * l
            for i in 0..<l { out[i] = src[i] * scale[ch] + shift[ch] }
        }
    }
    return record("batch_norm_eval", [x, gamma, beta], y) { gy, needs in
        let dx: Tensor? = needs[0] ? Tensor.byPlanes(xv.shape, planes: n * c, planeSize: l) { plane, out in
            let ch = plane % c
            gy.withUnsafeBufferPointer { pg in
                for i in 0..<l { out[i] = pg[plane * l + i] * scale[ch] }
            }
        } : nil
        var dg = [Float](repeating: 0, count: c), db = [Float](repeating: 0, count: c)
        if needs[1] || needs[2] {
            gy.withUnsafeBufferPointer { pg in
                xv.withUnsafeBufferPointer { px in
                    for plane in 0..<(n * c) {
                        let ch = plane % c
                        for i in 0..<l {
                            let g = pg[plane * l + i]
                            db[ch] += g
                            dg[ch] += g * (px[plane * l + i] - rm[ch]) * inv[ch]
                        }
                    }
                }
            }
        }
        return [dx, needs[1] ? Tensor(shape: [c], scalars: dg) : nil, needs[2] ? Tensor(shape: [c], scalars: db) : nil]
    }
}

/// Normalises groups of `groupSize` consecutive elements (each row of a `[groups, groupSize]` view) to zero
/// mean and unit (biased) variance, then applies a per-element affine map whose parameters repeat with period
/// `affinePeriod` along the group and are held constant over `affineRun` consecutive elements:
/// LayerNorm is one group per sample with an elementwise affine (run 1), GroupNorm is `G` groups per sample with
/// a per-channel affine (run H·W).
func groupedNormalization(_ name: String, _ x: Variable, groupSize: Int, gamma: Variable?, beta: Variable?,
                          affineRun: Int, eps: Float) -> Variable {
    let xv = x.value
    let groups = xv.count / groupSize
    let gv = gamma?.value.scalars, bv = beta?.value.scalars
    let paramCount = gv?.count ?? 0
    var means = [Float](repeating: 0, count: groups), invs = [Float](repeating: 0, count: groups)
    xv.withUnsafeBufferPointer { px in
        for gi in 0..<groups {
            let base = px.baseAddress! + gi * groupSize
            var s = 0.0
            for i in 0..<groupSize { s += Double(base[i]) }
            let mu = s / Double(groupSize)
            var s2 = 0.0
            for i in 0..<groupSize { s2 += (Double(base[i]) - mu) * (Double(base[i]) - mu) }
            means[gi] = Float(mu)
            invs[gi] = Float(1 / (s2 / Double(groupSize) + Double(eps)).squareRoot())
        }
    }
    let (mu, inv) = (means, invs)
    // Index of the affine parameter for element i of group gi.
    @Sendable func param(_ gi: Int, _ i: Int) -> Int { ((gi * groupSize + i) / affineRun) % Swift.max(paramCount, 1) }
    let xhat = Tensor.byPlanes(xv.shape, planes: groups, planeSize: groupSize) { gi, out in
        xv.withUnsafeBufferPointer { px in
            for i in 0..<groupSize { out[i] = (px[gi * groupSize + i] - mu[gi]) * inv[gi] }
        }
    }
    let y: Tensor
    if let gv, let bv {
        y = Tensor.byPlanes(xv.shape, planes: groups, planeSize: groupSize) { gi, out in
            xhat.withUnsafeBufferPointer { ph in
                for i in 0..<groupSize {
                    let p = param(gi, i)
                    out[i] = gv[p] * ph[gi * groupSize + i] + bv[p]
                }
            }
        }
    } else {
        y = xhat
    }
    let inputs = [x] + [gamma, beta].compactMap { $0 }
    return record(name, inputs, y) { gy, needs in
        let dxhat = Tensor.byPlanes(xv.shape, planes: groups, planeSize: groupSize) { gi, out in
            gy.withUnsafeBufferPointer { pg in
                for i in 0..<groupSize { out[i] = pg[gi * groupSize + i] * (gv.map { $0[param(gi, i)] } ?? 1) }
            }
        }
        let dx = Tensor.byPlanes(xv.shape, planes: groups, planeSize: groupSize) { gi, out in
            dxhat.withUnsafeBufferPointer { pd in
                xhat.withUnsafeBufferPointer { ph in
                    var s: Float = 0, sx: Float = 0
                    for i in 0..<groupSize {
                        s += pd[gi * groupSize + i]
                        sx += pd[gi * groupSize + i] * ph[gi * groupSize + i]
                    }
                    let m = Float(groupSize)
                    for i in 0..<groupSize {
                        out[i] = inv[gi] / m * (m * pd[gi * groupSize + i] - s - ph[gi * groupSize + i] * sx)
                    }
                }
            }
        }
        var grads: [Tensor?] = [needs[0] ? dx : nil]
        if gamma != nil {
            var dg = [Float](repeating: 0, count: paramCount), db = [Float](repeating: 0, count: paramCount)
            gy.withUnsafeBufferPointer { pg in
                xhat.withUnsafeBufferPointer { ph in
                    for gi in 0..<groups {
                        for i in 0..<groupSize {
                            let p = param(gi, i)
                            dg[p] += pg[gi * groupSize + i] * ph[gi * groupSize + i]
                            db[p] += pg[gi * groupSize + i]
                        }
                    }
                }
            }
            grads.append(needs[1] ? Tensor(shape: gamma!.shape, scalars: dg) : nil)
            grads.append(needs[2] ? Tensor(shape: beta!.shape, scalars: db) : nil)
        }
        return grads
    }
}

/// Layer normalisation over the trailing dimensions that `gamma`/`beta` (shape = those dimensions) cover, e.g.
/// `[N, C, H, W]` with gamma `[C, H, W]`. Without affine parameters pass `normalizedCount`.
public func layerNorm(_ x: Variable, gamma: Variable?, beta: Variable?, normalizedCount: Int? = nil, eps: Float = 1e-5) -> Variable {
    let size = gamma?.shape.count ?? normalizedCount ?? x.shape.dims.dropFirst().reduce(1, *)
    precondition(x.value.count % size == 0, "layer norm over \(size) elements of \(x.shape)")
    return groupedNormalization("layer_norm", x, groupSize: size, gamma: gamma, beta: beta, affineRun: 1, eps: eps)
}

/// Group normalisation of `[N, C, H, W]` in `groups` groups of C/groups channels; gamma/beta are `[C]`.
/// Instance normalisation is `groups == C`.
public func groupNorm(_ x: Variable, groups: Int, gamma: Variable?, beta: Variable?, eps: Float = 1e-5) -> Variable {
    let (c, l) = (x.shape[1], x.shape.dims.dropFirst(2).reduce(1, *))
    precondition(c % groups == 0, "\(c) channels in \(groups) groups")
    return groupedNormalization("group_norm", x, groupSize: (c / groups) * l, gamma: gamma, beta: beta, affineRun: l, eps: eps)
}

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest by 1/(1 − p), so
/// evaluation needs no rescaling. The mask comes from `rng`, so a seeded run is reproducible.
public func dropout(_ x: Variable, p: Float, using rng: inout RandomSource) -> Variable {
    precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
    if p == 0 { return x }
    let keep = 1 / (1 - p)
    let mask = Tensor(shape: x.shape) { d in
        for i in 0..<d.count { d[i] = rng.nextUnit() >= Double(p) ? keep : 0 }
    }
    return record("dropout", [x], x.value * mask) { gy, _ in [gy * mask] }
}

/// Each position's vector along the channel axis scaled to unit L2 norm (PyTorch's `F.normalize(x, dim=1)`):
/// `y = x / max(‖x‖₂, eps)` over C, for `[N, C, H, W]` (or `[N, C]`). SSD applies it to conv4_3 before its
/// learned per-channel scale.
public func l2Normalize(_ x: Variable, eps: Float = 1e-12) -> Variable {
    let xv = x.value
    let (n, c) = (xv.shape[0], xv.shape[1])
    let l = xv.count / Swift.max(n * c, 1)
    var norms = [Float](repeating: 0, count: n * l)
    xv.withUnsafeBufferPointer { px in
        for img in 0..<n {
            for i in 0..<l {
                var s: Float = 0
                for ch in 0..<c { let v = px[(img * c + ch) * l + i]; s += v * v }
                norms[img * l + i] = Swift.max(s.squareRoot(), eps)
            }
        }
    }
    let nv = norms
    let y = Tensor(shape: xv.shape) { d in
        xv.withUnsafeBufferPointer { px in
            for img in 0..<n { for ch in 0..<c { for i in 0..<l { d[(img * c + ch) * l + i] = px[(img * c + ch) * l + i] / nv[img * l + i] } } }
        }
    }
    return record("l2_normalize", [x], y) { gy, _ in
        // dx = (gy − y·Σ_c(gy·y)) / ‖x‖ (when ‖x‖ > eps; below, the denominator is the constant eps)
        let g = Tensor(shape: xv.shape) { d in
            gy.withUnsafeBufferPointer { pg in
                y.withUnsafeBufferPointer { py in
                    xv.withUnsafeBufferPointer { px in
                        for img in 0..<n {
                            for i in 0..<l {
                                let norm = nv[img * l + i]
                                var dot: Float = 0
                                for ch in 0..<c { dot += pg[(img * c + ch) * l + i] * py[(img * c + ch) * l + i] }
                                let clamped = norm <= eps
                                for ch in 0..<c {
                                    let k = (img * c + ch) * l + i
                                    d[k] = clamped ? pg[k] / norm : (pg[k] - py[k] * dot) / norm
                                    _ = px
                                }
                            }
                        }
                    }
                }
            }
        }
        return [g]
    }
}
