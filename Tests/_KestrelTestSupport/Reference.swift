// Slow, obvious Double-precision references for the numeric kernels: the oracles the fast Float32 code is
// tested against. Written for clarity, not speed; loops follow the mathematical definitions literally.

/// A dense row-major Double tensor for references.
public struct RefTensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Double]

    public init(shape: [Int], data: [Double]) {
        precondition(shape.reduce(1, *) == data.count)
        self.shape = shape
        self.data = data
    }

    public init(shape: [Int], repeating v: Double = 0) {
        self.init(shape: shape, data: [Double](repeating: v, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }

    public subscript(_ i: Int...) -> Double {
        get { data[offset(i)] }
        set { data[offset(i)] = newValue }
    }

    func offset(_ i: [Int]) -> Int {
        var o = 0
        for (k, d) in zip(i, shape) { o = o * d + k }
        return o
    }
}

public enum Ref {
    /// `C = alpha·op(A)·op(B) + beta·C`, row-major with leading dimensions, over Double.
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: [Float], lda: Int,
                            b: [Float], ldb: Int, beta: Double, c: [Float], ldc: Int) -> [Double] {
        var out = c.map(Double.init)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                out[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    /// Cross-correlation, PyTorch's Conv2d: x [N, C, H, W], w [Cout, C/groups, kh, kw], b [Cout] or nil.
    public static func conv2d(_ x: RefTensor, _ w: RefTensor, _ b: RefTensor?, stride: (Int, Int), padding: (Int, Int),
                              dilation: (Int, Int), groups: Int) -> RefTensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        let coutg = cout / groups
        precondition(cg * groups == c)
        var y = RefTensor(shape: [n, cout, oh, ow])
        for img in 0..<n {
            for o in 0..<cout {
                let grp = o / coutg
                for p in 0..<oh {
                    for q in 0..<ow {
                        var acc = b?.data[o] ?? 0
                        for ci in 0..<cg {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let ih = p * stride.0 - padding.0 + i * dilation.0
                                    let iw = q * stride.1 - padding.1 + j * dilation.1
                                    if ih < 0 || ih >= h || iw < 0 || iw >= wd { continue }
                                    acc += w[o, ci, i, j] * x[img, grp * cg + ci, ih, iw]
                                }
                            }
                        }
                        y[img, o, p, q] = acc
                    }
                }
            }
        }
        return y
    }

    /// PyTorch's ConvTranspose2d: x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw], output
    /// `(H − 1)·s − 2p + d·(k − 1) + outputPadding + 1`. Written as the scatter its definition describes.
    public static func convTranspose2d(_ x: RefTensor, _ w: RefTensor, _ b: RefTensor?, stride: (Int, Int),
                                       padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int),
                                       groups: Int) -> RefTensor {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (_, coutg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let cout = coutg * groups
        let cing = cin / groups
        let oh = (h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let ow = (wd - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        var y = RefTensor(shape: [n, cout, oh, ow])
        for img in 0..<n {
            for ci in 0..<cin {
                let grp = ci / cing
                for p in 0..<h {
                    for q in 0..<wd {
                        for co in 0..<coutg {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let yh = p * stride.0 - padding.0 + i * dilation.0
                                    let yw = q * stride.1 - padding.1 + j * dilation.1
                                    if yh < 0 || yh >= oh || yw < 0 || yw >= ow { continue }
                                    y[img, grp * coutg + co, yh, yw] += x[img, ci, p, q] * w[ci, co, i, j]
                                }
                            }
                        }
                    }
                }
            }
        }
        if let b {
            for img in 0..<n { for co in 0..<cout { for p in 0..<oh { for q in 0..<ow { y[img, co, p, q] += b.data[co] } } } }
        }
        return y
    }
}

/// The largest violation of `|actual − expected| ≤ atol + rtol·|expected|` (≤ 0 means every element passes),
/// with the index where it happens — for messages like "worst at 17: 0.52 vs 0.5".
public func closeness(_ actual: [Float], _ expected: [Double], atol: Double, rtol: Double)
    -> (ok: Bool, worst: Double, index: Int, message: String)
{
    precondition(actual.count == expected.count, "\(actual.count) values vs \(expected.count)")
    var worst = -Double.infinity
    var at = 0
    for i in 0..<actual.count {
        let a = Double(actual[i])
        let excess = abs(a - expected[i]) - (atol + rtol * abs(expected[i]))
        if !(excess <= worst) || a.isNaN {
            worst = a.isNaN ? .infinity : excess
            at = i
        }
    }
    let msg = actual.isEmpty ? "empty" : "worst at \(at): \(actual[at]) vs \(expected[at]) (excess \(worst))"
    return (actual.isEmpty || worst <= 0, worst, at, msg)
}

extension Ref {
    /// The gradients of `conv2d` for upstream gradient `dy`, by the same literal loops as the forward:
    /// every product `w·x` that reached `y[n, o, p, q]` sends `dy[n, o, p, q]·w` to x and `dy·x` to w.
    public static func conv2dBackward(_ x: RefTensor, _ w: RefTensor, _ dy: RefTensor, stride: (Int, Int),
                                      padding: (Int, Int), dilation: (Int, Int), groups: Int)
        -> (dx: RefTensor, dw: RefTensor, db: RefTensor)
    {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let (oh, ow) = (dy.shape[2], dy.shape[3])
        let coutg = cout / groups
        var dx = RefTensor(shape: x.shape), dw = RefTensor(shape: w.shape), db = RefTensor(shape: [cout])
        for img in 0..<n {
            for o in 0..<cout {
                let grp = o / coutg
                for p in 0..<oh {
                    for q in 0..<ow {
                        let g = dy[img, o, p, q]
                        db.data[o] += g
                        for ci in 0..<cg {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let ih = p * stride.0 - padding.0 + i * dilation.0
                                    let iw = q * stride.1 - padding.1 + j * dilation.1
                                    if ih < 0 || ih >= h || iw < 0 || iw >= wd { continue }
                                    dx[img, grp * cg + ci, ih, iw] += g * w[o, ci, i, j]
                                    dw[o, ci, i, j] += g * x[img, grp * cg + ci, ih, iw]
                                }
                            }
                        }
                    }
                }
            }
        }
        _ = c
        return (dx, dw, db)
    }
}
