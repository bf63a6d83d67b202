import CKestrelKernels

/// What a convolution does to each output value as it stores it: `act(v·scale[o] + shift[o])` for output
/// channel `o`. This is how an inference-time batch norm (`scale = γ/√(running var + eps)`,
/// `shift = β − running mean·scale`) and the ReLU after it fold into the convolution, so the output is written
/// once instead of three times.
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

    public init(scale: [Float]? = nil, shift: [Float]? = nil, activation: Activation = .none) {
        self.scale = scale
        self.shift = shift
        self.activation = activation
    }

    /// An epilogue with a convolution's bias folded into its shift (`(v + b)·s + t = v·s + (b·s + t)`); the
    /// identity when there is nothing to do.
    struct Resolved {
        let scale: [Float]?
        let shift: [Float]?
        let activation: Activation

        init(_ e: ConvEpilogue?, bias: Tensor?, channels: Int) {
            if let s = e?.scale { precondition(s.count == channels, "epilogue scale has \(s.count) values for \(channels) channels") }
            if let t = e?.shift { precondition(t.count == channels, "epilogue shift has \(t.count) values for \(channels) channels") }
            scale = e?.scale
            activation = e?.activation ?? .none
            guard let b = bias?.scalars else {
                shift = e?.shift
                return
            }
            let s = e?.scale, t = e?.shift
            shift = (0..<channels).map { o in b[o] * (s?[o] ?? 1) + (t?[o] ?? 0) }
        }

        var isIdentity: Bool { scale == nil && shift == nil && activation == .none }

        var kkActivation: KKActivation {
            switch activation {
            case .none: KK_ACT_NONE
            case .relu: KK_ACT_RELU
            case .relu6: KK_ACT_RELU6
            }
        }

        /// The C view (pointers valid inside `body`), or nil for the identity.
        func withKKEpilogue<R>(_ body: (KKEpilogue?) -> R) -> R {
            guard !isIdentity else { return body(nil) }
            return withOptionalPointer(scale) { ps in
                withOptionalPointer(shift) { pt in body(KKEpilogue(scale: ps, shift: pt, activation: kkActivation)) }
            }
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
            withKKEpilogue(groupOffset: 0) { ep in
                let e = SendablePointer(ep!)
                y.withUnsafeMutableBufferPointer { py in
                    let base = SendablePointer(py.baseAddress!)
                    Compute.parallelFor(n * c, grain: max(1, 16384 / max(l, 1))) { r in
                        kk_epilogue_planes(e.base, base.base, r.lowerBound, r.upperBound, l, c)
                    }
                }
            }
        }
    }
}

private func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress) }
}
