import KestrelTensor
import Testing
import _KestrelTestSupport

/// The convolution epilogue `act((conv + bias)·scale + shift + residual)` on every forward path — the indirect
/// kernel (in its stores; the residual block by block on its blocked path), the GEMM path for few output
/// channels, the direct depthwise kernel, grouped convolutions (each group's slice of the per-channel
/// constants), 1×1 by runs of positions, strided 1×1 and the portable fallback — against the plain convolution
/// with the map applied afterwards, element by element.
@Suite struct ConvEpilogueTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var x: [Int], cout: Int, k: Int, stride: Int, pad: Int, groups: Int
        var testDescription: String { "x\(x) cout\(cout) k\(k) s\(stride) p\(pad) g\(groups)" }
    }

    static let cases: [Case] = [
        Case(x: [2, 8, 9, 11], cout: 40, k: 3, stride: 1, pad: 1, groups: 1),   // indirect, a full and a part panel
        Case(x: [2, 8, 9, 11], cout: 12, k: 3, stride: 1, pad: 1, groups: 1),   // the 16-channel tile, 12 used
        Case(x: [1, 32, 7, 7], cout: 33, k: 3, stride: 1, pad: 1, groups: 1),   // depth 288 in stretches
        Case(x: [2, 8, 6, 32], cout: 12, k: 3, stride: 1, pad: 1, groups: 1),   // 16-position row tiles
        Case(x: [1, 32, 4, 16], cout: 10, k: 3, stride: 1, pad: 1, groups: 1),  // row tiles, depth in stretches
        Case(x: [1, 6, 7, 7], cout: 5, k: 3, stride: 2, pad: 1, groups: 1),     // < 8 channels: the GEMM path
        Case(x: [1, 16, 12, 10], cout: 32, k: 3, stride: 1, pad: 1, groups: 2), // two groups of 16 channels
        Case(x: [2, 12, 9, 9], cout: 12, k: 3, stride: 1, pad: 1, groups: 12),  // depthwise, stride 1
        Case(x: [1, 12, 9, 8], cout: 12, k: 3, stride: 2, pad: 1, groups: 12),  // depthwise, stride 2
        Case(x: [1, 8, 5, 6], cout: 16, k: 1, stride: 1, pad: 0, groups: 1),    // 1×1
        Case(x: [2, 8, 28, 29], cout: 37, k: 1, stride: 1, pad: 0, groups: 1), // 1×1 by runs of positions, part tiles
        Case(x: [2, 12, 14, 15], cout: 37, k: 1, stride: 1, pad: 0, groups: 1), // 1×1 by runs of 16 positions
        Case(x: [11, 16, 40, 40], cout: 32, k: 3, stride: 1, pad: 1, groups: 2), // blocks of images, padded per thread
        Case(x: [2, 8, 9, 9], cout: 16, k: 1, stride: 2, pad: 0, groups: 1),    // strided 1×1: subsampled, then 1×1
    ]

    @Test(arguments: cases)
    func epilogueEqualsTheMapAppliedAfterwards(_ t: Case) {
        let x = Tensor.random(Shape(t.x), seed: 30)
        let w = Tensor.random([t.cout, t.x[1] / t.groups, t.k, t.k], seed: 31)
        let b = Tensor.random([t.cout], seed: 32)
        let g = ConvGeometry(kernel: t.k, stride: t.stride, padding: t.pad, groups: t.groups)
        let scale = Tensor.random([t.cout], seed: 33).scalars.map { $0 * 2 }
        let shift = Tensor.random([t.cout], seed: 34).scalars
        let (oh, ow) = g.outputSize(h: t.x[2], w: t.x[3])
        let r = Tensor.random([t.x[0], t.cout, oh, ow], seed: 35)
        for kernel in ConvCase.kernels where !(kernel is BLASGEMM) {
            for activation in [ConvEpilogue.Activation.none, .relu, .relu6] {
                for (bias, residual) in [(nil, nil), (b, nil), (nil, r), (b, r)] {
                    Compute.withGEMM(kernel) {
                        let plain = Convolution.forwardIm2col(x, weight: w, bias: bias, geometry: g)
                        let l = plain.count / (plain.shape[0] * t.cout)
                        let rs = residual?.scalars
                        let want = plain.scalars.enumerated().map { i, v -> Double in
                            let o = i / l % t.cout
                            var y = Double(v) * Double(scale[o]) + Double(shift[o]) + Double(rs?[i] ?? 0)
                            if activation != .none { y = max(y, 0) }
                            if activation == .relu6 { y = min(y, 6) }
                            return y
                        }
                        let epilogue = ConvEpilogue(scale: scale, shift: shift, activation: activation, residual: residual)
                        let got = Convolution.forward(x, weight: w, bias: bias, geometry: g, epilogue: epilogue)
                        let check = closeness(got.scalars, want, atol: 1e-5, rtol: 1e-5)
                        #expect(check.ok, "\(kernel) \(activation) bias \(bias != nil) residual \(residual != nil): \(check.message)")
                    }
                }
            }
        }
    }

    @Test(arguments: [[11, 16, 40, 40], [2, 16, 9, 11]])
    func residualAloneGivesTheSameBitsAsAddingAfterwards(_ shape: [Int]) {
        // No affine map: the kernels store the plain sums, then relu(y + r) as the separate add and ReLU compute it
        // (the blocked path adds the residual block by block, the other after the whole output).
        let x = Tensor.random(Shape(shape), seed: 42)
        let w = Tensor.random([24, shape[1], 3, 3], seed: 43)
        let g = ConvGeometry(kernel: 3, stride: 1, padding: 1)
        let r = Tensor.random([shape[0], 24, shape[2], shape[3]], seed: 44)
        let plain = Convolution.forward(x, weight: w, bias: nil, geometry: g).scalars
        let want = zip(plain, r.scalars).map { p, q -> Float in let v = p + q; return v > 0 ? v : 0 }
        let got = Convolution.forward(x, weight: w, bias: nil, geometry: g,
                                      epilogue: ConvEpilogue(activation: .relu, residual: r))
        // (Counted, not `==` on the arrays: a failing comparison of 400,000 floats would be diffed for minutes.)
        let differing = zip(got.scalars, want).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(want.count) outputs differ")
    }

    @Test func relu6ClampsAndScaleOrShiftAlone() {
        // Large activations reach the clamp at 6; scale alone and shift alone are each the identity elsewhere.
        let x = Tensor.random([1, 8, 6, 6], seed: 40, scale: 20)
        let w = Tensor.random([16, 8, 3, 3], seed: 41)
        let g = ConvGeometry(kernel: 3, stride: 1, padding: 1)
        let plain = Convolution.forwardIm2col(x, weight: w, bias: nil, geometry: g).scalars
        let clamped = Convolution.forward(x, weight: w, bias: nil, geometry: g, epilogue: ConvEpilogue(activation: .relu6)).scalars
        #expect(clamped.contains(6) && clamped.contains(0))
        #expect(closeness(clamped, plain.map { Double(min(max($0, 0), 6)) }, atol: 1e-5, rtol: 1e-5).ok)
        let shifted = Convolution.forward(x, weight: w, bias: nil, geometry: g,
                                          epilogue: ConvEpilogue(shift: [Float](repeating: 1, count: 16))).scalars
        #expect(closeness(shifted, plain.map { Double($0) + 1 }, atol: 1e-5, rtol: 1e-5).ok)
    }
}
