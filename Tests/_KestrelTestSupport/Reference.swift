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

// MARK: - References for the differentiable ops (Double, literal)

extension RefTensor {
    public func map(_ f: (Double) -> Double) -> RefTensor { RefTensor(shape: shape, data: data.map(f)) }
}

extension Ref {
    /// numpy-broadcast binary op.
    public static func broadcast(_ a: RefTensor, _ b: RefTensor, _ f: (Double, Double) -> Double) -> RefTensor {
        let rank = max(a.shape.count, b.shape.count)
        let pa = [Int](repeating: 1, count: rank - a.shape.count) + a.shape
        let pb = [Int](repeating: 1, count: rank - b.shape.count) + b.shape
        let out = (0..<rank).map { max(pa[$0], pb[$0]) }
        var result = RefTensor(shape: out)
        for flat in 0..<result.count {
            var rem = flat
            var idx = [Int](repeating: 0, count: rank)
            for d in stride(from: rank - 1, through: 0, by: -1) {
                idx[d] = rem % out[d]
                rem /= out[d]
            }
            var oa = 0, ob = 0
            for d in 0..<rank {
                oa = oa * pa[d] + (pa[d] == 1 ? 0 : idx[d])
                ob = ob * pb[d] + (pb[d] == 1 ? 0 : idx[d])
            }
            result.data[flat] = f(a.data[oa], b.data[ob])
        }
        return result
    }

    public static func matmul(_ a: RefTensor, _ b: RefTensor) -> RefTensor {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var y = RefTensor(shape: [m, n])
        for i in 0..<m { for j in 0..<n { for p in 0..<k { y.data[i * n + j] += a.data[i * k + p] * b.data[p * n + j] } } }
        return y
    }

    /// x [N, in], w [out, in], b [out].
    public static func linear(_ x: RefTensor, _ w: RefTensor, _ b: RefTensor?) -> RefTensor {
        let (n, fin, fout) = (x.shape[0], x.shape[1], w.shape[0])
        var y = RefTensor(shape: [n, fout])
        for i in 0..<n {
            for o in 0..<fout {
                var acc = b?.data[o] ?? 0
                for k in 0..<fin { acc += x.data[i * fin + k] * w.data[o * fin + k] }
                y.data[i * fout + o] = acc
            }
        }
        return y
    }

    /// Softmax / log-softmax along `axis`.
    public static func softmax(_ x: RefTensor, axis: Int, log: Bool) -> RefTensor {
        let outer = x.shape[..<axis].reduce(1, *), len = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        var y = x
        for o in 0..<outer {
            for i in 0..<inner {
                let idx = (0..<len).map { (o * len + $0) * inner + i }
                let m = idx.map { x.data[$0] }.max()!
                let s = idx.map { Foundation.exp(x.data[$0] - m) }.reduce(0, +)
                for j in idx { y.data[j] = log ? x.data[j] - m - Foundation.log(s) : Foundation.exp(x.data[j] - m) / s }
            }
        }
        return y
    }

    /// Max and average pooling over [N, C, H, W] (max pads with −∞; average divides by kh·kw or by the number
    /// of real elements).
    public static func pool(_ x: RefTensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                            max isMax: Bool, countIncludePad: Bool = true) -> RefTensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1, ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        var y = RefTensor(shape: [n, c, oh, ow])
        for b in 0..<n { for ch in 0..<c { for p in 0..<oh { for q in 0..<ow {
            var best = -Double.infinity, sum = 0.0, count = 0
            for i in 0..<kernel.0 { for j in 0..<kernel.1 {
                let ih = p * stride.0 - padding.0 + i, iw = q * stride.1 - padding.1 + j
                let inside = ih >= 0 && ih < h && iw >= 0 && iw < w
                if inside {
                    best = max(best, x[b, ch, ih, iw])
                    sum += x[b, ch, ih, iw]
                }
                if inside || countIncludePad { count += 1 }
            } }
            y[b, ch, p, q] = isMax ? best : sum / Double(count)
        } } } }
        return y
    }

    /// Per-channel batch normalisation with batch statistics (biased variance).
    public static func batchNorm(_ x: RefTensor, _ gamma: RefTensor, _ beta: RefTensor, eps: Double) -> RefTensor {
        let (n, c) = (x.shape[0], x.shape[1])
        let l = x.count / (n * c)
        var y = x
        for ch in 0..<c {
            var idx: [Int] = []
            for b in 0..<n { for i in 0..<l { idx.append((b * c + ch) * l + i) } }
            let mu = idx.map { x.data[$0] }.reduce(0, +) / Double(idx.count)
            let v = idx.map { (x.data[$0] - mu) * (x.data[$0] - mu) }.reduce(0, +) / Double(idx.count)
            for j in idx { y.data[j] = gamma.data[ch] * (x.data[j] - mu) / (v + eps).squareRoot() + beta.data[ch] }
        }
        return y
    }

    /// Normalise consecutive groups of `size` elements; affine parameter index `(e / run) % params`.
    public static func groupedNorm(_ x: RefTensor, size: Int, gamma: RefTensor?, beta: RefTensor?, run: Int,
                                   eps: Double) -> RefTensor {
        var y = x
        for g in 0..<(x.count / size) {
            let idx = (g * size)..<((g + 1) * size)
            let mu = idx.map { x.data[$0] }.reduce(0, +) / Double(size)
            let v = idx.map { (x.data[$0] - mu) * (x.data[$0] - mu) }.reduce(0, +) / Double(size)
            for e in idx {
                let xh = (x.data[e] - mu) / (v + eps).squareRoot()
                if let gamma, let beta {
                    let p = (e / run) % gamma.count
                    y.data[e] = gamma.data[p] * xh + beta.data[p]
                } else {
                    y.data[e] = xh
                }
            }
        }
        return y
    }

    /// Bilinear or nearest resize with PyTorch's coordinate rules.
    public static func upsample(_ x: RefTensor, oh: Int, ow: Int, bilinear: Bool, alignCorners: Bool) -> RefTensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var y = RefTensor(shape: [n, c, oh, ow])
        func src(_ d: Int, _ i: Int, _ o: Int) -> Double {
            alignCorners ? (o > 1 ? Double(d) * Double(i - 1) / Double(o - 1) : 0)
                : max((Double(d) + 0.5) * Double(i) / Double(o) - 0.5, 0)
        }
        for b in 0..<n { for ch in 0..<c { for p in 0..<oh { for q in 0..<ow {
            if !bilinear {
                y[b, ch, p, q] = x[b, ch, min(p * h / oh, h - 1), min(q * w / ow, w - 1)]
                continue
            }
            let sy = src(p, h, oh), sx = src(q, w, ow)
            let y0 = min(Int(sy), h - 1), x0 = min(Int(sx), w - 1)
            let y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
            let fy = sy - Double(y0), fx = sx - Double(x0)
            y[b, ch, p, q] = (1 - fy) * ((1 - fx) * x[b, ch, y0, x0] + fx * x[b, ch, y0, x1])
                + fy * ((1 - fx) * x[b, ch, y1, x0] + fx * x[b, ch, y1, x1])
        } } } }
        return y
    }

    /// PyTorch's cross-entropy with class-index targets, weights, ignore index and label smoothing (mean).
    public static func crossEntropy(_ logits: RefTensor, targets: [Int], weights: [Double]?, ignore: Int?,
                                    smoothing: Double) -> Double {
        let c = logits.shape[1]
        let inner = logits.shape.dropFirst(2).reduce(1, *)
        let lp = softmax(logits, axis: 1, log: true)
        let w = weights ?? [Double](repeating: 1, count: c)
        var total = 0.0, den = 0.0
        for (s, t) in targets.enumerated() where t != ignore {
            let (n, i) = (s / inner, s % inner)
            let at = { (k: Int) in lp.data[(n * c + k) * inner + i] }
            total += -(1 - smoothing) * w[t] * at(t) - smoothing / Double(c) * (0..<c).map { w[$0] * at($0) }.reduce(0, +)
            den += w[t]
        }
        return den > 0 ? total / den : 0
    }
}

import Foundation
