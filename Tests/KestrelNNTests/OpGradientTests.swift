import Foundation
import KestrelNN
import Testing
import _KestrelTestSupport

/// Finite-difference gradient checks (Double references) for every differentiable op, over several seeds and
/// the odd shapes that break index arithmetic: batch 1, odd sizes with stride 2, 1×1 kernels, dilation 2, groups.
@Suite struct OpGradientTests {
    static let seeds: [UInt64] = [1, 2, 3]

    func expectPass(_ failures: [String], _ what: String) {
        #expect(failures.isEmpty, "\(what): \(failures.joined(separator: "; "))")
    }

    @Test(arguments: seeds)
    func arithmeticWithBroadcasting(seed: UInt64) {
        let a = Tensor.random([2, 3, 4], seed: seed), b = Tensor.random([3, 1], seed: seed + 10)
        let positive = Tensor.random([3, 1], seed: seed + 20).map { abs($0) + 0.5 }
        expectPass(gradientCheck([a, b], seed: seed, { $0[0] + $0[1] }, reference: { Ref.broadcast($0[0], $0[1], +) }), "add")
        expectPass(gradientCheck([a, b], seed: seed, { $0[0] - $0[1] }, reference: { Ref.broadcast($0[0], $0[1], -) }), "sub")
        expectPass(gradientCheck([a, b], seed: seed, { $0[0] * $0[1] }, reference: { Ref.broadcast($0[0], $0[1], *) }), "mul")
        expectPass(gradientCheck([a, positive], seed: seed, { $0[0] / $0[1] }, reference: { Ref.broadcast($0[0], $0[1], /) }), "div")
        expectPass(gradientCheck([a], seed: seed, { ($0[0] * 3 - 1) / 2 }, reference: { $0[0].map { ($0 * 3 - 1) / 2 } }), "scalars")
        expectPass(gradientCheck([a], seed: seed, { -$0[0] + 0.5 }, reference: { $0[0].map { -$0 + 0.5 } }), "neg")
    }

    @Test(arguments: seeds)
    func matmulAndReductions(seed: UInt64) {
        let a = Tensor.random([3, 5], seed: seed), b = Tensor.random([5, 2], seed: seed + 1)
        expectPass(gradientCheck([a, b], seed: seed, { matmul($0[0], $0[1]) }, reference: { Ref.matmul($0[0], $0[1]) }), "matmul")
        expectPass(gradientCheck([a], seed: seed, { $0[0].sum() }, reference: { r in scalar(total(r[0].data)) }), "sum")
        expectPass(gradientCheck([a], seed: seed, { $0[0].mean() }, reference: { r in scalar(total(r[0].data) / 15) }), "mean")
        expectPass(gradientCheck([a], seed: seed, { $0[0].sum(alongAxis: 0) }, reference: { r in
            let m: [Double] = (0..<5).map { j in total((0..<3).map { r[0].data[$0 * 5 + j] }) }
            return RefTensor(shape: [5], data: m)
        }), "sum axis")
        expectPass(gradientCheck([a], seed: seed, { $0[0].mean(alongAxis: 1, keepingDimension: true) }, reference: { r in
            let m: [Double] = (0..<3).map { i in total((0..<5).map { r[0].data[i * 5 + $0] }) / 5 }
            return RefTensor(shape: [3, 1], data: m)
        }), "mean axis")
    }

    @Test(arguments: seeds)
    func shapeOps(seed: UInt64) {
        let a = Tensor.random([2, 3, 4], seed: seed), b = Tensor.random([2, 2, 4], seed: seed + 1)
        expectPass(gradientCheck([a], seed: seed, { $0[0].reshaped([4, 6]) }, reference: { RefTensor(shape: [4, 6], data: $0[0].data) }), "reshape")
        expectPass(gradientCheck([a], seed: seed, { $0[0].permuted([2, 0, 1]) }, reference: { r in
            var y = RefTensor(shape: [4, 2, 3])
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { y[k, i, j] = r[0][i, j, k] } } }
            return y
        }), "permute")
        expectPass(gradientCheck([a, b], seed: seed, { concatenate([$0[0], $0[1]], alongAxis: 1) }, reference: { r in
            var y = RefTensor(shape: [2, 5, 4])
            for i in 0..<2 { for j in 0..<5 { for k in 0..<4 { y[i, j, k] = j < 3 ? r[0][i, j, k] : r[1][i, j - 3, k] } } }
            return y
        }), "concat")
        expectPass(gradientCheck([a], seed: seed, { $0[0].slice(alongAxis: 2, 1..<3) }, reference: { r in
            var y = RefTensor(shape: [2, 3, 2])
            for i in 0..<2 { for j in 0..<3 { for k in 0..<2 { y[i, j, k] = r[0][i, j, k + 1] } } }
            return y
        }), "slice")
        // A variable used twice (a residual-style branch) must receive the sum of both gradients.
        expectPass(gradientCheck([a], seed: seed, { x in x[0] * x[0] + x[0].relu() }, reference: { r in
            r[0].map { $0 * $0 + max($0, 0) }
        }), "fan-out")
    }

    @Test(arguments: seeds)
    func unaryMathsAndActivations(seed: UInt64) {
        let x = Tensor.random([2, 3, 5], seed: seed, scale: 3)
        let pos = x.map { abs($0) + 0.1 }
        typealias Case = (String, (Variable) -> Variable, (Double) -> Double, Tensor)
        let sig = { (v: Double) in 1 / (1 + Foundation.exp(-v)) }
        let cases: [Case] = [
            ("relu", { $0.relu() }, { max($0, 0) }, x),
            ("leaky", { $0.leakyRelu(negativeSlope: 0.1) }, { $0 > 0 ? $0 : 0.1 * $0 }, x),
            ("relu6", { $0.relu6() }, { min(max($0, 0), 6) }, x * 3),
            ("sigmoid", { $0.sigmoid() }, sig, x),
            ("tanh", { $0.tanh() }, { Foundation.tanh($0) }, x),
            ("silu", { $0.silu() }, { $0 * sig($0) }, x),
            ("exp", { $0.exp() }, { Foundation.exp($0) }, x),
            ("log", { $0.log() }, { Foundation.log($0) }, pos),
            ("sqrt", { $0.sqrt() }, { $0.squareRoot() }, pos),
            ("square", { $0.squared() }, { $0 * $0 }, x),
            ("pow", { $0.pow(1.5) }, { Foundation.pow($0, 1.5) }, pos),
        ]
        for (name, f, r, input) in cases {
            expectPass(gradientCheck([input], seed: seed, atol: 2e-4, { f($0[0]) }, reference: { $0[0].map(r) }), name)
        }
        // relu(a + b) as one op; and with one operand twice (both gradients are the same tensor, summed).
        let other = Tensor.random([2, 3, 5], seed: seed + 10, scale: 3)
        expectPass(gradientCheck([x, other], seed: seed, atol: 2e-4, { addReLU($0[0], $0[1]) }, reference: { r in
            RefTensor(shape: r[0].shape, data: zip(r[0].data, r[1].data).map { max($0 + $1, 0) })
        }), "add + relu")
        expectPass(gradientCheck([x], seed: seed, atol: 2e-4, { addReLU($0[0], $0[0]) }, reference: { r in
            r[0].map { max(2 * $0, 0) }
        }), "add + relu of one operand")
    }

    @Test(arguments: seeds)
    func softmaxAndLogSoftmax(seed: UInt64) {
        let x = Tensor.random([3, 5, 2], seed: seed, scale: 4)
        for axis in [1, 2] {
            expectPass(gradientCheck([x], seed: seed, { $0[0].softmax(alongAxis: axis) },
                                     reference: { Ref.softmax($0[0], axis: axis, log: false) }), "softmax \(axis)")
            expectPass(gradientCheck([x], seed: seed, { $0[0].logSoftmax(alongAxis: axis) },
                                     reference: { Ref.softmax($0[0], axis: axis, log: true) }), "log softmax \(axis)")
        }
        // Large logits: the per-row maximum keeps it finite.
        let big = Tensor(shape: [1, 3], scalars: [1000, 999, -1000])
        let p = Variable(big).softmax().value.scalars
        #expect(p.allSatisfy { $0.isFinite })
        #expect(abs(p[0] - 0.7310586) < 1e-6)
    }

    @Test(arguments: ConvCaseNN.all)
    func conv2dGradients(_ t: ConvCaseNN) {
        let x = Tensor.random([t.n, t.c, t.h, t.w], seed: 11)
        let w = Tensor.random([t.cout, t.c / t.groups, t.k, t.k], seed: 12)
        let b = Tensor.random([t.cout], seed: 13)
        let g = ConvGeometry(kernel: t.k, stride: t.stride, padding: t.pad, dilation: t.dilation, groups: t.groups)
        expectPass(gradientCheck([x, w, b], seed: 5, { conv2d($0[0], weight: $0[1], bias: $0[2], geometry: g) }, reference: {
            Ref.conv2d($0[0], $0[1], $0[2], stride: (t.stride, t.stride), padding: (t.pad, t.pad),
                       dilation: (t.dilation, t.dilation), groups: t.groups)
        }), "conv2d \(t)")
    }

    @Test(arguments: ConvCaseNN.transposed)
    func convTranspose2dGradients(_ t: ConvCaseNN) {
        let x = Tensor.random([t.n, t.c, t.h, t.w], seed: 21)
        let w = Tensor.random([t.c, t.cout / t.groups, t.k, t.k], seed: 22)
        let b = Tensor.random([t.cout], seed: 23)
        let g = ConvGeometry(kernel: t.k, stride: t.stride, padding: t.pad, dilation: t.dilation, groups: t.groups)
        let op = (t.outputPadding, t.outputPadding)
        expectPass(gradientCheck([x, w, b], seed: 6, {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], geometry: g, outputPadding: op)
        }, reference: {
            Ref.convTranspose2d($0[0], $0[1], $0[2], stride: (t.stride, t.stride), padding: (t.pad, t.pad),
                                outputPadding: op, dilation: (t.dilation, t.dilation), groups: t.groups)
        }), "conv transpose \(t)")
    }

    @Test(arguments: seeds)
    func linearGradients(seed: UInt64) {
        let x = Tensor.random([4, 7], seed: seed), w = Tensor.random([3, 7], seed: seed + 1), b = Tensor.random([3], seed: seed + 2)
        expectPass(gradientCheck([x, w, b], seed: seed, { linear($0[0], weight: $0[1], bias: $0[2]) },
                                 reference: { Ref.linear($0[0], $0[1], $0[2]) }), "linear")
        expectPass(gradientCheck([Tensor.random([1, 7], seed: seed), w], seed: seed, { linear($0[0], weight: $0[1], bias: nil) },
                                 reference: { Ref.linear($0[0], $0[1], nil) }), "linear batch 1, no bias")
        // Depth 70: the dot products' vector loop and tail (2 rows), and the GEMM (5 rows).
        let wide = Tensor.random([9, 70], seed: seed + 3), bw = Tensor.random([9], seed: seed + 4)
        for rows in [2, 5] {
            expectPass(gradientCheck([Tensor.random([rows, 70], seed: seed + 5), wide, bw], seed: seed,
                                     { linear($0[0], weight: $0[1], bias: $0[2]) },
                                     reference: { Ref.linear($0[0], $0[1], $0[2]) }), "linear \(rows) rows, depth 70")
        }
    }

    @Test(arguments: seeds)
    func poolingGradients(seed: UInt64) {
        let x = Tensor.random([2, 3, 7, 5], seed: seed)
        for (k, s, p) in [(2, 2, 0), (3, 2, 1), (3, 1, 1)] {
            let g = ConvGeometry(kernel: k, stride: s, padding: p)
            expectPass(gradientCheck([x], seed: seed, { maxPool2d($0[0], geometry: g).output },
                                     reference: { Ref.pool($0[0], kernel: (k, k), stride: (s, s), padding: (p, p), max: true) }),
                       "max pool k\(k) s\(s) p\(p)")
            for include in [true, false] {
                expectPass(gradientCheck([x], seed: seed, { avgPool2d($0[0], geometry: g, countIncludePad: include) }, reference: {
                    Ref.pool($0[0], kernel: (k, k), stride: (s, s), padding: (p, p), max: false, countIncludePad: include)
                }), "avg pool k\(k) s\(s) p\(p) include \(include)")
            }
        }
        expectPass(gradientCheck([x], seed: seed, { globalAvgPool2d($0[0]) }, reference: {
            Ref.pool($0[0], kernel: (7, 5), stride: (1, 1), padding: (0, 0), max: false)
        }), "global average pool")
    }

    @Test(arguments: seeds)
    func maxUnpoolInvertsThePositions(seed: UInt64) {
        let x = Tensor.random([1, 2, 6, 4], seed: seed)
        let pooled = maxPool2d(Variable(x), geometry: ConvGeometry(kernel: 2, stride: 2), indices: true)
        let up = maxUnpool2d(pooled.output, indices: pooled.indices, outputSize: (6, 4)).value
        // Every non-zero of the unpooled map is the window maximum at its original position.
        for c in 0..<2 { for i in 0..<6 { for j in 0..<4 where up[0, c, i, j] != 0 {
            #expect(up[0, c, i, j] == x[0, c, i, j])
        } } }
        #expect(up.scalars.filter { $0 != 0 }.count == 12)
        let y = Tensor.random([1, 2, 3, 2], seed: seed + 1)
        let indices = pooled.indices
        expectPass(gradientCheck([y], seed: seed, { maxUnpool2d($0[0], indices: indices, outputSize: (6, 4)) }, reference: { r in
            var out = RefTensor(shape: [1, 2, 6, 4])
            for p in 0..<2 { for k in 0..<6 { out.data[p * 24 + Int(indices[p * 6 + k])] = r[0].data[p * 6 + k] } }
            return out
        }), "max unpool")
    }

    @Test(arguments: seeds)
    func upsampleGradients(seed: UInt64) {
        let x = Tensor.random([2, 2, 3, 4], seed: seed)
        for (oh, ow) in [(6, 8), (7, 5)] {
            expectPass(gradientCheck([x], seed: seed, { upsample2d($0[0], height: oh, width: ow, mode: .nearest) },
                                     reference: { Ref.upsample($0[0], oh: oh, ow: ow, bilinear: false, alignCorners: false) }),
                       "nearest \(oh)x\(ow)")
            for align in [false, true] {
                expectPass(gradientCheck([x], seed: seed, {
                    upsample2d($0[0], height: oh, width: ow, mode: .bilinear(alignCorners: align))
                }, reference: { Ref.upsample($0[0], oh: oh, ow: ow, bilinear: true, alignCorners: align) }),
                           "bilinear \(oh)x\(ow) align \(align)")
            }
        }
    }

    @Test(arguments: seeds)
    func normalizationGradients(seed: UInt64) {
        let x = Tensor.random([3, 4, 3, 2], seed: seed, scale: 2)
        let gamma = Tensor.random([4], seed: seed + 1), beta = Tensor.random([4], seed: seed + 2)
        expectPass(gradientCheck([x, gamma, beta], seed: seed, atol: 3e-4, { batchNormTraining($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5).0 },
                                 reference: { Ref.batchNorm($0[0], $0[1], $0[2], eps: 1e-5) }), "batch norm (train)")
        // Planes of 63: one 32-wide vector block of the vectorised sums plus a 31-element tail.
        let xWide = Tensor.random([2, 3, 7, 9], seed: seed, scale: 2)
        expectPass(gradientCheck([xWide, Tensor.random([3], seed: seed + 3), Tensor.random([3], seed: seed + 4)], seed: seed,
                                 atol: 3e-4, { batchNormTraining($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5).0 },
                                 reference: { Ref.batchNorm($0[0], $0[1], $0[2], eps: 1e-5) }), "batch norm (train, 63-wide planes)")
        // With the ReLU folded in: the gate recomputed from x in the backward, on whole vectors and on the tail.
        for (input, g, b) in [(x, gamma, beta), (xWide, Tensor.random([3], seed: seed + 3), Tensor.random([3], seed: seed + 4))] {
            expectPass(gradientCheck([input, g, b], seed: seed, atol: 3e-4, {
                batchNormTraining($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5, relu: true).0
            }, reference: { Ref.batchNorm($0[0], $0[1], $0[2], eps: 1e-5).map { Swift.max($0, 0) } }),
                       "batch norm + ReLU (train) \(input.shape)")
        }
        // With a residual (and the ReLU after the sum): the gate taken from the output, the residual's gradient.
        for relu in [false, true] {
            let r = Tensor.random(xWide.shape, seed: seed + 5)
            expectPass(gradientCheck([xWide, Tensor.random([3], seed: seed + 3), Tensor.random([3], seed: seed + 4), r],
                                     seed: seed, atol: 3e-4, {
                batchNormTraining($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5, relu: relu, residual: $0[3]).0
            }, reference: { t in
                var y = Ref.batchNorm(t[0], t[1], t[2], eps: 1e-5)
                for e in 0..<y.data.count { y.data[e] += t[3].data[e] }
                return relu ? y.map { Swift.max($0, 0) } : y
            }), "batch norm + residual\(relu ? " + ReLU" : "") (train)")
        }
        let x2 = Tensor.random([5, 3], seed: seed)
        expectPass(gradientCheck([x2, Tensor.random([3], seed: 8), Tensor.random([3], seed: 9)], seed: seed, atol: 3e-4, {
            batchNormTraining($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5).0
        }, reference: { Ref.batchNorm($0[0], $0[1], $0[2], eps: 1e-5) }), "batch norm [N, C]")
        let rm = Tensor.random([4], seed: 30), rv = Tensor.random([4], seed: 31).map { abs($0) + 0.5 }
        expectPass(gradientCheck([x, gamma, beta], seed: seed, { batchNormInference($0[0], gamma: $0[1], beta: $0[2], runningMean: rm, runningVariance: rv, eps: 1e-5) }, reference: { r in
            var y = r[0]
            for e in 0..<y.count {
                let ch = (e / 6) % 4
                y.data[e] = r[1].data[ch] * (r[0].data[e] - Double(rm.scalars[ch])) / (Double(rv.scalars[ch]) + 1e-5).squareRoot() + r[2].data[ch]
            }
            return y
        }), "batch norm (eval)")
        let lnG = Tensor.random([4, 3, 2], seed: seed + 3), lnB = Tensor.random([4, 3, 2], seed: seed + 4)
        expectPass(gradientCheck([x, lnG, lnB], seed: seed, atol: 3e-4, { layerNorm($0[0], gamma: $0[1], beta: $0[2]) },
                                 reference: { Ref.groupedNorm($0[0], size: 24, gamma: $0[1], beta: $0[2], run: 1, eps: 1e-5) }), "layer norm")
        for groups in [1, 2, 4] {
            expectPass(gradientCheck([x, gamma, beta], seed: seed, atol: 3e-4, { groupNorm($0[0], groups: groups, gamma: $0[1], beta: $0[2]) },
                                     reference: { Ref.groupedNorm($0[0], size: 24 / groups, gamma: $0[1], beta: $0[2], run: 6, eps: 1e-5) }),
                       "group norm \(groups)")
        }
        expectPass(gradientCheck([x], seed: seed, atol: 3e-4, { groupNorm($0[0], groups: 4, gamma: nil, beta: nil) },
                                 reference: { Ref.groupedNorm($0[0], size: 6, gamma: nil, beta: nil, run: 6, eps: 1e-5) }), "instance norm")
    }

    @Test(arguments: seeds)
    func lossGradients(seed: UInt64) {
        let p = Tensor.random([4, 3], seed: seed, scale: 2), t = Tensor.random([4, 3], seed: seed + 1, scale: 2)
        let td = t.scalars.map(Double.init)
        expectPass(gradientCheck([p], seed: seed, { mseLoss($0[0], t) }, reference: { r in
            let terms: [Double] = zip(r[0].data, td).map { a, b in (a - b) * (a - b) }
            return scalar(total(terms) / 12)
        }), "mse")
        expectPass(gradientCheck([p], seed: seed, { smoothL1Loss($0[0], t, beta: 0.7) }, reference: { r in
            let terms: [Double] = zip(r[0].data, td).map { a, b in
                let d = abs(a - b)
                return d < 0.7 ? 0.5 * d * d / 0.7 : d - 0.35
            }
            return scalar(total(terms) / 12)
        }), "smooth l1")
        let bt = t.map { $0 > 0 ? 1 : 0 }
        let btd = bt.scalars.map(Double.init)
        expectPass(gradientCheck([p], seed: seed, { binaryCrossEntropyWithLogits($0[0], bt, positiveWeight: 1.7) }, reference: { r in
            let terms: [Double] = zip(r[0].data, btd).map { x, y in
                let s = 1 / (1 + Foundation.exp(-x))
                return -(1.7 * y * Foundation.log(s) + (1 - y) * Foundation.log(1 - s))
            }
            return scalar(total(terms) / 12)
        }), "bce with logits")
        let targets = [2, 0, 1, 2]
        for (weights, ignore, smoothing) in [(nil, nil, 0.0), ([0.5, 2, 1] as [Float]?, nil, 0.0), (nil, 1 as Int?, 0.1),
                                              ([0.5, 2, 1], 0, 0.2)] {
            let opts = CrossEntropyOptions(classWeights: weights, ignoreIndex: ignore, labelSmoothing: Float(smoothing))
            expectPass(gradientCheck([p], seed: seed, { crossEntropyLoss($0[0], targets: targets, options: opts) }, reference: { r in
                scalar(Ref.crossEntropy(r[0], targets: targets, weights: weights?.map(Double.init), ignore: ignore,
                                        smoothing: smoothing))
            }), "cross entropy w\(String(describing: weights)) ignore \(String(describing: ignore)) ε\(smoothing)")
        }
        // Segmentation shape [N, C, H, W] with ignored pixels.
        let seg = Tensor.random([2, 3, 2, 2], seed: seed, scale: 2)
        let pix = [0, 1, 255, 2, 2, 255, 0, 1]
        let segOpts = CrossEntropyOptions(ignoreIndex: 255)
        expectPass(gradientCheck([seg], seed: seed, { crossEntropyLoss($0[0], targets: pix, options: segOpts) }, reference: { r in
            scalar(Ref.crossEntropy(r[0], targets: pix, weights: nil, ignore: 255, smoothing: 0))
        }), "pixel cross entropy")
        // Every target ignored: 0, not NaN.
        let allIgnored = crossEntropyLoss(Variable(seg), targets: [Int](repeating: 255, count: 8), options: segOpts)
        #expect(allIgnored.value.item == 0)
        // Soft targets (mixup): rows sum to 1.
        let soft = Tensor(shape: [4, 3], scalars: [0.7, 0.3, 0, 0, 1, 0, 0.2, 0.2, 0.6, 1, 0, 0])
        expectPass(gradientCheck([p], seed: seed, { crossEntropyLoss($0[0], probabilities: soft) }, reference: { r in
            let lp = Ref.softmax(r[0], axis: 1, log: true)
            let terms: [Double] = zip(lp.data, soft.scalars).map { a, b in a * Double(b) }
            return scalar(-total(terms) / 4)
        }), "soft cross entropy")
    }

    @Test func dropoutIsInvertedAndSeeded() {
        var r1 = RandomSource(seed: 3), r2 = RandomSource(seed: 3)
        let x = Variable(Tensor.ones([1000]), requiresGrad: true)
        let y = dropout(x, p: 0.25, using: &r1)
        let kept = y.value.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
        #expect(abs(Double(kept.count) / 1000 - 0.75) < 0.06)
        #expect(y.value.isIdentical(to: dropout(Variable(Tensor.ones([1000])), p: 0.25, using: &r2).value))
        y.sum().backward()
        #expect(x.grad!.isIdentical(to: y.value))  // gradient is the same mask
    }
}

struct ConvCaseNN: Sendable, CustomTestStringConvertible {
    var n: Int, c: Int, h: Int, w: Int, cout: Int, k: Int, stride: Int, pad: Int, dilation: Int, groups: Int
    var outputPadding = 0
    var testDescription: String { "x[\(n),\(c),\(h),\(w)]→\(cout) k\(k) s\(stride) p\(pad) d\(dilation) g\(groups) op\(outputPadding)" }

    static let all: [ConvCaseNN] = [
        ConvCaseNN(n: 1, c: 2, h: 5, w: 6, cout: 3, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1),
        ConvCaseNN(n: 2, c: 2, h: 7, w: 5, cout: 2, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1),
        ConvCaseNN(n: 2, c: 3, h: 4, w: 5, cout: 4, k: 1, stride: 1, pad: 0, dilation: 1, groups: 1),
        ConvCaseNN(n: 1, c: 2, h: 7, w: 7, cout: 2, k: 3, stride: 1, pad: 2, dilation: 2, groups: 1),
        ConvCaseNN(n: 2, c: 4, h: 5, w: 5, cout: 6, k: 3, stride: 1, pad: 1, dilation: 1, groups: 2),
        ConvCaseNN(n: 1, c: 3, h: 6, w: 5, cout: 3, k: 3, stride: 2, pad: 1, dilation: 1, groups: 3),
    ]
    static let transposed: [ConvCaseNN] = [
        ConvCaseNN(n: 1, c: 2, h: 3, w: 4, cout: 3, k: 4, stride: 2, pad: 1, dilation: 1, groups: 1),
        ConvCaseNN(n: 2, c: 3, h: 3, w: 3, cout: 2, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1, outputPadding: 1),
        ConvCaseNN(n: 1, c: 4, h: 4, w: 3, cout: 2, k: 3, stride: 1, pad: 1, dilation: 2, groups: 2),
        ConvCaseNN(n: 2, c: 2, h: 3, w: 2, cout: 2, k: 1, stride: 1, pad: 0, dilation: 1, groups: 1),
    ]
}

func scalar(_ v: Double) -> RefTensor { RefTensor(shape: [], data: [v]) }
func total(_ v: [Double]) -> Double { v.reduce(0, +) }

@Suite struct ConventionTests {
    @Test func maxPoolRoutesTiesToTheFirstMaximum() {
        // One 2x2 window of equal values: the gradient goes to the first in row-major order.
        let x = Variable(Tensor(shape: [1, 1, 2, 2], scalars: [5, 5, 5, 5]), requiresGrad: true)
        let r = maxPool2d(x, geometry: ConvGeometry(kernel: 2, stride: 2))
        #expect(r.indices == [0])
        r.output.sum().backward()
        #expect(x.grad!.scalars == [1, 0, 0, 0])
    }

    @Test func reluPassesNoGradientAtZero() {
        let x = Variable(Tensor(shape: [3], scalars: [-1, 0, 2]), requiresGrad: true)
        x.relu().sum().backward()
        #expect(x.grad!.scalars == [0, 0, 1])
    }

    @Test func gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let w = Variable(Tensor(shape: [2], scalars: [1, 2]), requiresGrad: true)
        (w * w).sum().backward()
        (w * w).sum().backward()
        #expect(w.grad!.scalars == [4, 8])
        w.zeroGrad()
        #expect(w.grad == nil)
    }

    @Test func noGraphIsRecordedWithoutGradients() {
        let w = Variable(Tensor.ones([2]), requiresGrad: true)
        let y = GradMode.withoutGradients { (w * w).sum() }
        #expect(!y.needsGrad)
        let z = (w * w).sum()
        #expect(z.needsGrad)
    }

    @Test func severalHeadsOnOneBackbone() {
        // Two outputs computed from one shared variable: backward through their sum reaches both branches.
        let x = Variable(Tensor(shape: [2], scalars: [1, 3]), requiresGrad: true)
        let trunk = x * 2
        let headA = trunk.squared().sum()
        let headB = (trunk * 3).sum()
        (headA + headB).backward()
        // d/dx [(2x)^2 + 6x] = 8x + 6
        #expect(x.grad!.scalars == [14, 30])
    }
}

@Suite struct ModelOpTests {
    @Test(arguments: [1, 2] as [UInt64])
    func adaptiveAveragePooling(seed: UInt64) {
        let x = Tensor.random([2, 2, 7, 5], seed: seed)
        for (oh, ow) in [(3, 2), (7, 5), (10, 8), (1, 1)] {
            let failures = gradientCheck([x], seed: seed, { adaptiveAvgPool2d($0[0], outputSize: (oh, ow)) }, reference: { r in
                var y = RefTensor(shape: [2, 2, oh, ow])
                for b in 0..<2 { for c in 0..<2 { for p in 0..<oh { for q in 0..<ow {
                    let r0 = p * 7 / oh, r1 = ((p + 1) * 7 + oh - 1) / oh
                    let c0 = q * 5 / ow, c1 = ((q + 1) * 5 + ow - 1) / ow
                    var acc = 0.0
                    for i in r0..<r1 { for j in c0..<c1 { acc += r[0][b, c, i, j] } }
                    y[b, c, p, q] = acc / Double((r1 - r0) * (c1 - c0))
                } } } }
                return y
            })
            #expect(failures.isEmpty, "\(oh)x\(ow): \(failures)")
        }
    }

    @Test(arguments: [1, 2] as [UInt64])
    func resnetShortcutA(seed: UInt64) {
        let x = Tensor.random([2, 3, 5, 6], seed: seed)
        let failures = gradientCheck([x], seed: seed, { subsampleAndPadChannels($0[0], stride: 2, before: 2, after: 1) }, reference: { r in
            var y = RefTensor(shape: [2, 6, 3, 3])
            for b in 0..<2 { for c in 0..<3 { for i in 0..<3 { for j in 0..<3 { y[b, c + 2, i, j] = r[0][b, c, 2 * i, 2 * j] } } } }
            return y
        })
        #expect(failures.isEmpty, "\(failures)")
    }
}

@Suite struct DetectionOpTests {
    @Test(arguments: [1, 2] as [UInt64])
    func l2Normalize(seed: UInt64) {
        let x = Tensor.random([2, 5, 3, 2], seed: seed)
        let failures = gradientCheck([x], seed: seed, { KestrelNN.l2Normalize($0[0]) }, reference: { r in
            var y = r[0]
            for b in 0..<2 { for i in 0..<6 {
                let norm = (0..<5).map { r[0].data[(b * 5 + $0) * 6 + i] }.map { $0 * $0 }.reduce(0, +).squareRoot()
                for c in 0..<5 { y.data[(b * 5 + c) * 6 + i] = r[0].data[(b * 5 + c) * 6 + i] / norm }
            } }
            return y
        })
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func maxPoolCeilModeKeepsTheEdgeWindow() {
        // 75 → 38 with k2 s2 (PyTorch ceil_mode) instead of 37; 5 → 3 and the last window holds only column 4.
        let big = maxPool2d(Variable(Tensor.zeros([1, 1, 75, 75])), geometry: ConvGeometry(kernel: 2, stride: 2), ceilMode: true)
        #expect(big.output.shape == [1, 1, 38, 38])
        let x = Tensor(shape: [1, 1, 1, 5], scalars: [1, 5, 2, 3, 9])
        let r = maxPool2d(Variable(x), geometry: ConvGeometry(kernel: (1, 2), stride: (1, 2)), ceilMode: true, indices: true)
        #expect(r.output.value.scalars == [5, 3, 9])
        #expect(r.indices == [1, 3, 4])
        let failures = gradientCheck([Tensor.random([1, 2, 7, 5], seed: 3)], seed: 3, {
            maxPool2d($0[0], geometry: ConvGeometry(kernel: 3, stride: 2), ceilMode: true).output
        }, reference: { r in
            var y = RefTensor(shape: [1, 2, 3, 2])
            for c in 0..<2 { for p in 0..<3 { for q in 0..<2 {
                var best = -Double.infinity
                for i in (2 * p)..<min(2 * p + 3, 7) { for j in (2 * q)..<min(2 * q + 3, 5) { best = max(best, r[0][0, c, i, j]) } }
                y[0, c, p, q] = best
            } } }
            return y
        })
        #expect(failures.isEmpty, "\(failures)")
    }
}
