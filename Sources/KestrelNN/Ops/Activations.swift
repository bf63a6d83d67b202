#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Activations. Conventions at the kinks: ReLU and ReLU6 pass no gradient at exactly 0 (and at exactly 6 for
// ReLU6), as PyTorch does; LeakyReLU passes the negative slope at 0.

extension Variable {
    public func relu() -> Variable {
        let x = value
        let y = Tensor.elementwise(x) { s, d, r in for i in r { let v = s[i]; d[i] = v > 0 ? v : 0 } }
        // Both operands loaded before the select: `xs[i] > 0 ? g[i] : 0` loads g[i] conditionally, which the
        // compiler kept as a data-dependent branch (8% of a ResNet-20 training step, mispredicted half the time).
        return record("relu", [self], y) { gy, _ in
            [Tensor.elementwise(gy, x) { g, xs, d, r in for i in r { let gv = g[i]; d[i] = xs[i] > 0 ? gv : 0 } }]
        }
    }

    public func leakyRelu(negativeSlope a: Float = 0.01) -> Variable {
        let x = value
        let y = Tensor.elementwise(x) { s, d, r in for i in r { let v = s[i]; d[i] = v > 0 ? v : a * v } }
        return record("leaky_relu", [self], y) { gy, _ in
            [Tensor.elementwise(gy, x) { g, xs, d, r in for i in r { let gv = g[i]; d[i] = xs[i] > 0 ? gv : a * gv } }]
        }
    }

    /// min(max(x, 0), 6) (MobileNet).
    public func relu6() -> Variable {
        let x = value
        // Two selects, not `&&` or Swift.min/max: both compile to vector blends, where a short-circuit test
        // became a data-dependent branch (mispredicted on real activations; ~10% of a MobileNet training step).
        let y = Tensor.elementwise(x) { s, d, r in
            for i in r {
                let v = s[i], a: Float = v > 0 ? v : 0
                d[i] = a < 6 ? a : 6
            }
        }
        return record("relu6", [self], y) { gy, _ in
            [Tensor.elementwise(gy, x) { g, xs, d, r in
                for i in r {
                    let v = xs[i], a: Float = v > 0 ? g[i] : 0
                    d[i] = v < 6 ? a : 0
                }
            }]
        }
    }

    public func sigmoid() -> Variable {
        let y = Tensor.elementwise(value) { s, d, r in for i in r { d[i] = Tensor.sigmoid(s[i]) } }
        return record("sigmoid", [self], y) { gy, _ in
            [Tensor.elementwise(gy, y) { g, ys, d, r in for i in r { d[i] = g[i] * ys[i] * (1 - ys[i]) } }]
        }
    }

    public func tanh() -> Variable {
        let y = Tensor.elementwise(value) { s, d, r in for i in r { d[i] = tanhf(s[i]) } }
        return record("tanh", [self], y) { gy, _ in
            [Tensor.elementwise(gy, y) { g, ys, d, r in for i in r { d[i] = g[i] * (1 - ys[i] * ys[i]) } }]
        }
    }

    /// x·sigmoid(x) (Swish / SiLU).
    public func silu() -> Variable {
        let x = value
        let y = Tensor.elementwise(x) { s, d, r in for i in r { d[i] = s[i] * Tensor.sigmoid(s[i]) } }
        return record("silu", [self], y) { gy, _ in
            [Tensor.elementwise(gy, x) { g, xs, d, r in
                for i in r {
                    let sg = Tensor.sigmoid(xs[i])
                    d[i] = g[i] * sg * (1 + xs[i] * (1 - sg))
                }
            }]
        }
    }

    /// Softmax along `axis` (default 1, the class axis of `[N, C]` and `[N, C, H, W]`), computed with the
    /// maximum of each row subtracted, so large logits do not overflow.
    public func softmax(alongAxis axis: Int = 1) -> Variable {
        let y = Softmax.forward(value, axis: axis, log: false)
        return record("softmax", [self], y) { gy, _ in
            // dx = y ⊙ (gy − Σ_axis gy ⊙ y)
            let dot = (gy * y).sum(alongAxis: axis, keepingDimension: true)
            return [y * (gy - dot)]
        }
    }

    /// log(softmax(x)) along `axis`, as `x − max − log Σ exp(x − max)` per row.
    public func logSoftmax(alongAxis axis: Int = 1) -> Variable {
        let y = Softmax.forward(value, axis: axis, log: true)
        return record("log_softmax", [self], y) { gy, _ in
            // dx = gy − softmax ⊙ Σ_axis gy
            let total = gy.sum(alongAxis: axis, keepingDimension: true)
            return [gy - y.exp() * total]
        }
    }
}

enum Softmax {
    /// Softmax or log-softmax along `axis`, with the per-row maximum subtracted.
    static func forward(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        precondition(axis >= 0 && axis < x.rank, "axis \(axis) for shape \(x.shape)")
        let outer = x.shape.dims[..<axis].reduce(1, *)
        let length = x.shape[axis]
        let inner = x.shape.dims[(axis + 1)...].reduce(1, *)
        return x.withUnsafeBufferPointer { px in
            let s = SendablePointer(px.baseAddress!)
            return Tensor(shape: x.shape) { out in
                let d = SendablePointer(out.baseAddress!)
                Compute.parallelFor(outer * inner, grain: 64) { r in
                    for oi in r {
                        let o = oi / inner, i = oi % inner
                        let base = o * length * inner + i
                        var m = -Float.infinity
                        for k in 0..<length { m = Swift.max(m, s[base + k * inner]) }
                        var total: Float = 0
                        for k in 0..<length { total += expf(s[base + k * inner] - m) }
                        if log {
                            let lse = m + logf(total)
                            for k in 0..<length { d[base + k * inner] = s[base + k * inner] - lse }
                        } else {
                            for k in 0..<length { d[base + k * inner] = expf(s[base + k * inner] - m) / total }
                        }
                    }
                }
            }
        }
    }
}

/// `relu(a + b)` for operands of one shape (a residual block's output) as one op: one pass forward, and a
/// backward that gates dy once (where the sum is positive) and hands the same gradient to both operands.
public func addReLU(_ a: Variable, _ b: Variable) -> Variable {
    precondition(a.shape == b.shape, "addReLU needs equal shapes, got \(a.shape) and \(b.shape)")
    let y = Tensor.elementwise(a.value, b.value) { p, q, d, r in for i in r { let v = p[i] + q[i]; d[i] = v > 0 ? v : 0 } }
    return record("add_relu", [a, b], y) { gy, needs in
        // y > 0 exactly where the sum is; both operands loaded before the select, as in relu().
        let g = Tensor.elementwise(gy, y) { g, ys, d, r in for i in r { let gv = g[i]; d[i] = ys[i] > 0 ? gv : 0 } }
        return [needs[0] ? g : nil, needs[1] ? g : nil]
    }
}
