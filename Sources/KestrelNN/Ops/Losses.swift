#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Losses, each returning a scalar (shape `[]`) mean over its terms, with PyTorch's definitions. Where PyTorch
// divides by a count that can be zero (every target ignored), Kestrel returns 0 instead of NaN.

/// Mean squared error over all elements.
public func mseLoss(_ prediction: Variable, _ target: Tensor) -> Variable {
    precondition(prediction.shape == target.shape, "prediction \(prediction.shape) vs target \(target.shape)")
    let d = prediction.value - target
    let n = Float(Swift.max(d.count, 1))
    return record("mse_loss", [prediction], Tensor((d * d).sum() / n)) { gy, _ in [d * (2 * gy.item / n)] }
}

/// Smooth L1 (Huber with threshold β) averaged over all elements: `0.5·d²/β` where `|d| < β`, else `|d| − 0.5·β`.
public func smoothL1Loss(_ prediction: Variable, _ target: Tensor, beta: Float = 1) -> Variable {
    precondition(prediction.shape == target.shape, "prediction \(prediction.shape) vs target \(target.shape)")
    precondition(beta > 0, "beta must be positive")
    let d = prediction.value - target
    let n = Float(Swift.max(d.count, 1))
    let terms = Tensor.elementwise(d) { s, o, r in
        for i in r { o[i] = Swift.abs(s[i]) < beta ? 0.5 * s[i] * s[i] / beta : Swift.abs(s[i]) - 0.5 * beta }
    }
    return record("smooth_l1_loss", [prediction], Tensor(terms.sum() / n)) { gy, _ in
        let k = gy.item / n
        return [Tensor.elementwise(d) { s, o, r in
            for i in r { o[i] = k * (Swift.abs(s[i]) < beta ? s[i] / beta : (s[i] > 0 ? 1 : (s[i] < 0 ? -1 : 0))) }
        }]
    }
}

/// Binary cross-entropy on logits, computed stably as `max(x, 0) − x·t + log(1 + e^{−|x|})`, averaged over all
/// elements. `positiveWeight` (per element of the last axis, or one value) multiplies the positive term.
public func binaryCrossEntropyWithLogits(_ logits: Variable, _ target: Tensor, positiveWeight: Float = 1) -> Variable {
    precondition(logits.shape == target.shape, "logits \(logits.shape) vs target \(target.shape)")
    let x = logits.value
    let n = Float(Swift.max(x.count, 1))
    let pw = positiveWeight
    // loss = (1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)
    let terms = Tensor.elementwise(x, target) { xs, ts, o, r in
        for i in r {
            let softplusNeg = Swift.max(-xs[i], 0) + log1pf(expf(-Swift.abs(xs[i])))
            o[i] = (1 - ts[i]) * xs[i] + (1 + (pw - 1) * ts[i]) * softplusNeg
        }
    }
    return record("bce_with_logits", [logits], Tensor(terms.sum() / n)) { gy, _ in
        let k = gy.item / n
        return [Tensor.elementwise(x, target) { xs, ts, o, r in
            for i in r {
                let s = Tensor.sigmoid(xs[i])
                // d/dx = (1 − t) − (1 + (pw − 1)t)(1 − σ(x))
                o[i] = k * ((1 - ts[i]) - (1 + (pw - 1) * ts[i]) * (1 - s))
            }
        }]
    }
}

/// Options of ``crossEntropyLoss(_:targets:options:)``, with PyTorch's meanings.
public struct CrossEntropyOptions: Sendable {
    /// Per-class weights `[C]`: each term is multiplied by the weight of its target class, and the mean divides
    /// by the sum of those weights (PyTorch's `weight` with `reduction='mean'`).
    public var classWeights: [Float]?
    /// Targets equal to this are skipped and not counted (PyTorch's `ignore_index`; 255 for VOC-style masks).
    public var ignoreIndex: Int?
    /// ε in [0, 1): the target distribution becomes `(1 − ε)·onehot + ε/C` (PyTorch's `label_smoothing`).
    public var labelSmoothing: Float

    public init(classWeights: [Float]? = nil, ignoreIndex: Int? = nil, labelSmoothing: Float = 0) {
        self.classWeights = classWeights
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
    }
}

/// Cross-entropy from logits with class-index targets: logits `[N, C]` or `[N, C, d1, …]` (segmentation),
/// targets one class index per sample/pixel in row-major order (`N·d1·…` of them, each in 0..<C or the ignore
/// index). Mean reduction as PyTorch: Σ w_{t}·(−log p_t) / Σ w_{t} over non-ignored terms, with label smoothing
/// adding ε·Σ_c w_c·(−log p_c)/C per term.
public func crossEntropyLoss(_ logits: Variable, targets: [Int], options: CrossEntropyOptions = CrossEntropyOptions()) -> Variable {
    let x = logits.value
    precondition(x.rank >= 2, "logits must be [N, C, …], got \(x.shape)")
    let c = x.shape[1]
    let inner = x.shape.dims.dropFirst(2).reduce(1, *)
    let samples = x.shape[0] * inner
    precondition(targets.count == samples, "\(targets.count) targets for logits \(x.shape) (\(samples) expected)")
    if let w = options.classWeights { precondition(w.count == c, "\(w.count) class weights for \(c) classes") }
    precondition(options.labelSmoothing >= 0 && options.labelSmoothing < 1, "label smoothing must be in [0, 1)")
    let logp = Softmax.forward(x, axis: 1, log: true)
    let weights = options.classWeights ?? [Float](repeating: 1, count: c)
    let eps = options.labelSmoothing
    // Sums over fixed chunks of samples (spread over the threads), added in chunk order: the same result for
    // any thread count.
    let chunk = 16384, chunks = (samples + chunk - 1) / chunk
    let ignore = options.ignoreIndex ?? Int.min
    for t in targets where t != ignore { precondition(t >= 0 && t < c, "target \(t) outside 0..<\(c)") }
    var partials = [Double](repeating: 0, count: 2 * chunks)  // per chunk: Σ terms, Σ weights
    logp.withUnsafeBufferPointer { lp in
        let src = SendablePointer(lp.baseAddress!)
        partials.withUnsafeMutableBufferPointer { pp in
            let out = SendablePointer(pp.baseAddress!)
            Compute.parallelFor(chunks) { r in
                for q in r {
                    var total = 0.0, denominator = 0.0
                    for s in (q * chunk)..<Swift.min(samples, (q + 1) * chunk) {
                        let t = targets[s]
                        if t == ignore { continue }
                        let base = (s / inner) * c * inner + s % inner
                        var term = -Double(src[base + t * inner]) * Double(weights[t]) * Double(1 - eps)
                        if eps > 0 {
                            var smooth = 0.0
                            for k in 0..<c { smooth -= Double(weights[k]) * Double(src[base + k * inner]) }
                            term += Double(eps) * smooth / Double(c)
                        }
                        total += term
                        denominator += Double(weights[t])
                    }
                    out[2 * q] = total
                    out[2 * q + 1] = denominator
                }
            }
        }
    }
    var total = 0.0, denominator = 0.0
    for q in 0..<chunks {
        total += partials[2 * q]
        denominator += partials[2 * q + 1]
    }
    let loss: Float = denominator > 0 ? Float(total / denominator) : 0
    let denom = denominator
    let wsum = weights.reduce(0, +)
    return record("cross_entropy", [logits], Tensor(loss)) { gy, _ in
        guard denom > 0 else { return [Tensor.zeros(x.shape)] }
        let k = gy.item / Float(denom)
        let g = logp.withUnsafeBufferPointer { lp in
            let src = SendablePointer(lp.baseAddress!)
            return Tensor(shape: x.shape) { d in
                let dst = SendablePointer(d.baseAddress!)
                // Each sample writes only its own C entries: samples are split across the threads.
                Compute.parallelFor(samples, grain: 4096) { r in
                    for s in r {
                        let t = targets[s]
                        let base = (s / inner) * c * inner + s % inner
                        if t == ignore {
                            for j in 0..<c { dst[base + j * inner] = 0 }
                            continue
                        }
                        // d(−w_t·(1−ε)·log p_t)/dx_j = w_t·(1−ε)·(p_j − [j = t]);
                        // d(−ε/C·Σ_k w_k log p_k)/dx_j = ε/C·(W·p_j − w_j), W = Σ_k w_k.
                        let wt = weights[t] * (1 - eps)
                        for j in 0..<c {
                            let p = expf(src[base + j * inner])
                            var v = wt * (p - (j == t ? 1 : 0))
                            if eps > 0 { v += eps / Float(c) * (wsum * p - weights[j]) }
                            dst[base + j * inner] = k * v
                        }
                    }
                }
            }
        }
        return [g]
    }
}

/// Cross-entropy against soft targets (probabilities per class, e.g. from mixup/cutmix): logits and targets
/// `[N, C]`; loss = mean over N of −Σ_c t_c·log softmax(x)_c (PyTorch's probability targets, mean reduction).
public func crossEntropyLoss(_ logits: Variable, probabilities target: Tensor) -> Variable {
    let x = logits.value
    precondition(x.shape == target.shape && x.rank == 2, "soft-target cross-entropy needs [N, C] logits and targets")
    let n = Float(Swift.max(x.shape[0], 1))
    let logp = Softmax.forward(x, axis: 1, log: true)
    let loss = -(target * logp).sum() / n
    return record("soft_cross_entropy", [logits], Tensor(loss)) { gy, _ in
        // d/dx_j = p_j·Σ_c t_c − t_j
        let tsum = target.sum(alongAxis: 1, keepingDimension: true)
        return [(logp.exp() * tsum - target) * (gy.item / n)]
    }
}
