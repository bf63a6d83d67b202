import CKestrelKernels

/// What a convolution does to each output value as it stores it: `act(v·scale[o] + shift[o] + residual)` for
/// output channel `o`. This is how an inference-time batch norm (`scale = γ/√(running var + eps)`,
/// `shift = β − running mean·scale`) and the ReLU after it fold into the convolution, so the output is written
/// once instead of three times; with a residual, a ResNet block's `relu(bn(conv(x)) + identity)` is one op too.
public struct ConvEpilogue: Sendable {
    /// The activation applied last.
    public enum Activation: Sendable {
        case none, relu, relu6
    }

    /// `[Cout]`; nil means 1.
    public var scale: [Float]?
    /// `[Cout]`; nil means 0.
    public var shift: [Float]?
    public var activation: Activation
    /// The output's shape `[N, Cout, OH, OW]`, added after the affine map and before the activation; nil: none.
    public var residual: Tensor?

    public init(scale: [Float]? = nil, shift: [Float]? = nil, activation: Activation = .none, residual: Tensor? = nil) {
        self.scale = scale
        self.shift = shift
        self.activation = activation
        self.residual = residual
    }

    /// An epilogue with a convolution's bias folded into its shift (`(v + b)·s + t = v·s + (b·s + t)`); the
    /// identity when there is nothing to do. The kernels apply the per-channel part as they store
    /// (``withKKEpilogue(_:)``: the activation too, unless there is a residual); ``finish(_:from:count:)`` then adds
    /// the residual and applies the activation, on outputs still in cache where the path allows.
    struct Resolved: Sendable {
        let scale: [Float]?
        let shift: [Float]?
        let activation: Activation
        let residual: Tensor?

        init(_ e: ConvEpilogue?, bias: Tensor?, channels: Int) {
            if let s = e?.scale { precondition(s.count == channels, "epilogue scale has \(s.count) values for \(channels) channels") }
            if let t = e?.shift { precondition(t.count == channels, "epilogue shift has \(t.count) values for \(channels) channels") }
            scale = e?.scale
            activation = e?.activation ?? .none
            residual = e?.residual
            guard let b = bias?.scalars else {
                shift = e?.shift
                return
            }
            let s = e?.scale, t = e?.shift
            shift = (0..<channels).map { o in b[o] * (s?[o] ?? 1) + (t?[o] ?? 0) }
        }

        var isIdentity: Bool { scale == nil && shift == nil && activation == .none && residual == nil }

        /// Whether the kernels' part (``withKKEpilogue(_:)``) leaves the outputs as they are.
        var storesAsComputed: Bool { scale == nil && shift == nil && (activation == .none || residual != nil) }

        var kkActivation: KKActivation {
            switch activation {
            case .none: KK_ACT_NONE
            case .relu: KK_ACT_RELU
            case .relu6: KK_ACT_RELU6
            }
        }

        /// The C view of the kernels' part (pointers valid inside `body`): the affine map, and the activation
        /// when there is no residual; nil when that part is the identity.
        func withKKEpilogue<R>(_ body: (KKEpilogue?) -> R) -> R {
            guard !storesAsComputed else { return body(nil) }
            let act = residual == nil ? kkActivation : KK_ACT_NONE
            return withOptionalPointer(scale) { ps in
                withOptionalPointer(shift) { pt in body(KKEpilogue(scale: ps, shift: pt, activation: act)) }
            }
        }

        /// The rest of the epilogue over outputs `[from, from + count)` of y (flat `[N, Cout, OH, OW]` indices) that
        /// the kernels have stored: `act(y + residual)`. Nothing without a residual.
        func finish(_ y: UnsafeMutablePointer<Float>, from: Int, count: Int) {
            guard let residual else { return }
            precondition(from + count <= residual.count, "residual \(residual.shape) is smaller than the output")
            residual.withUnsafeBufferPointer { r in kk_add_activate(y + from, r.baseAddress! + from, count, kkActivation) }
        }

        /// ``finish(_:from:count:)`` over a whole output of `count` floats, split across the threads.
        func finishAll(_ y: UnsafeMutablePointer<Float>, count: Int) {
            guard residual != nil else { return }
            let out = SendablePointer(y)
            Compute.parallelFor(count, grain: 1 << 16) { r in finish(out.base, from: r.lowerBound, count: r.count) }
        }

        /// ``withKKEpilogue(_:)`` as a pointer, for kernels that take one.
        func withKKEpilogue<R>(groupOffset: Int, _ body: (UnsafePointer<KKEpilogue>?) -> R) -> R {
            withKKEpilogue { ep in
                guard var ep else { return body(nil) }
                ep.scale = ep.scale.map { $0 + groupOffset }
                ep.shift = ep.shift.map { $0 + groupOffset }
                return withUnsafePointer(to: ep) { body($0) }
            }
        }

        /// Applies the epilogue to a computed `[N, Cout, H, W]` output in place (the paths whose kernels do not
        /// take it).
        func apply(to y: inout Tensor) {
            guard !isIdentity else { return }
            let (n, c, l) = (y.shape[0], y.shape[1], y.count / max(y.shape[0] * y.shape[1], 1))
            let count = y.count
            y.withUnsafeMutableBufferPointer { py in
                let base = SendablePointer(py.baseAddress!)
                withKKEpilogue(groupOffset: 0) { ep in
                    guard let ep else { return }
                    let e = SendablePointer(ep)
                    Compute.parallelFor(n * c, grain: max(1, 16384 / max(l, 1))) { r in
                        kk_epilogue_planes(e.base, base.base, r.lowerBound, r.upperBound, l, c)
                    }
                }
                finishAll(base.base, count: count)
            }
        }
    }
}

private func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress) }
}
