import KestrelTensor
import Testing
import _KestrelTestSupport

/// A convolution configuration: the odd shapes the issue asks for (batch 1, odd sizes with stride 2, 1×1
/// kernels, dilation 2, groups, depthwise) and batches that exercise the multi-image column path.
struct ConvCase: Sendable, CustomTestStringConvertible {
    var n: Int, c: Int, h: Int, w: Int, cout: Int
    var k: (Int, Int), stride: (Int, Int), pad: (Int, Int), dilation: (Int, Int), groups: Int
    var testDescription: String {
        "x[\(n),\(c),\(h),\(w)] cout\(cout) k\(k) s\(stride) p\(pad) d\(dilation) g\(groups)"
    }
    var geometry: ConvGeometry { ConvGeometry(kernel: k, stride: stride, padding: pad, dilation: dilation, groups: groups) }

    static let all: [ConvCase] = [
        ConvCase(n: 1, c: 3, h: 7, w: 9, cout: 4, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        ConvCase(n: 2, c: 3, h: 9, w: 7, cout: 5, k: (3, 3), stride: (2, 2), pad: (1, 1), dilation: (1, 1), groups: 1),
        ConvCase(n: 1, c: 4, h: 5, w: 6, cout: 6, k: (1, 1), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 1),
        ConvCase(n: 3, c: 4, h: 5, w: 5, cout: 2, k: (1, 1), stride: (2, 2), pad: (0, 0), dilation: (1, 1), groups: 2),
        ConvCase(n: 2, c: 2, h: 11, w: 10, cout: 3, k: (3, 3), stride: (1, 1), pad: (2, 2), dilation: (2, 2), groups: 1),
        ConvCase(n: 2, c: 6, h: 8, w: 7, cout: 9, k: (3, 3), stride: (1, 2), pad: (1, 0), dilation: (1, 1), groups: 3),
        ConvCase(n: 2, c: 5, h: 7, w: 7, cout: 5, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 5),
        ConvCase(n: 1, c: 4, h: 9, w: 9, cout: 8, k: (3, 3), stride: (2, 2), pad: (1, 1), dilation: (1, 1), groups: 4),
        ConvCase(n: 1, c: 3, h: 12, w: 10, cout: 2, k: (5, 3), stride: (3, 2), pad: (2, 1), dilation: (1, 2), groups: 1),
        // Many small images: several images share one column matrix.
        ConvCase(n: 37, c: 3, h: 4, w: 5, cout: 4, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        ConvCase(n: 20, c: 4, h: 3, w: 3, cout: 6, k: (2, 2), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 2),
        // Rows wider than a register tile, register tiles that straddle two images, more output channels than
        // a tile has rows: the packing-from-images path's edges.
        ConvCase(n: 3, c: 3, h: 6, w: 37, cout: 11, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        ConvCase(n: 2, c: 2, h: 5, w: 70, cout: 17, k: (3, 3), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 1),
        // Depth 576 > one 512-deep GEMM block, through the indirect kernel (144 positions, 9 channels).
        ConvCase(n: 1, c: 64, h: 12, w: 12, cout: 9, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        // 49 and 196 positions: the indirect kernel's 7-position tiles (AVX-512).
        ConvCase(n: 1, c: 12, h: 7, w: 7, cout: 40, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        ConvCase(n: 1, c: 8, h: 14, w: 14, cout: 9, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        // Few tiles and depth 288 > 256: the indirect kernel takes the depth in stretches.
        ConvCase(n: 1, c: 32, h: 7, w: 7, cout: 33, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        // Depthwise 3×3 (the direct kernel): stride 1 and 2, padding 0 and 1, planes of width 1–2 and odd sizes.
        ConvCase(n: 2, c: 3, h: 1, w: 1, cout: 3, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 3),
        ConvCase(n: 1, c: 2, h: 2, w: 5, cout: 2, k: (3, 3), stride: (2, 2), pad: (1, 1), dilation: (1, 1), groups: 2),
        ConvCase(n: 2, c: 4, h: 9, w: 21, cout: 4, k: (3, 3), stride: (2, 2), pad: (0, 0), dilation: (1, 1), groups: 4),
        ConvCase(n: 1, c: 3, h: 6, w: 35, cout: 3, k: (3, 3), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 3),
        ConvCase(n: 3, c: 5, h: 17, w: 19, cout: 5, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 5),
        // Small planes by blocks of 16 channels (AVX-512): 37 channels (a last block of 5) at 7×7, stride 1, and
        // 20 at 13×14, stride 2 (outputs 7×7: a part chunk of 1 position after three whole ones).
        ConvCase(n: 2, c: 37, h: 7, w: 7, cout: 37, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 37),
        ConvCase(n: 1, c: 20, h: 13, w: 14, cout: 20, k: (3, 3), stride: (2, 2), pad: (1, 1), dilation: (1, 1), groups: 20),
        // Stride 2 over rows wider than one 32-column chunk of the even/odd split (padding 1 carries a column
        // from chunk to chunk), and an odd width with padding 0.
        ConvCase(n: 1, c: 3, h: 7, w: 70, cout: 3, k: (3, 3), stride: (2, 2), pad: (1, 1), dilation: (1, 1), groups: 3),
        ConvCase(n: 2, c: 2, h: 6, w: 67, cout: 2, k: (3, 3), stride: (2, 2), pad: (0, 0), dilation: (1, 1), groups: 2),
        // dx as the convolution of dy with flipped weights (stride 1, at least 8 input channels per group):
        // dilation and groups, an asymmetric kernel with padding 0 on one side, and padding beyond (k − 1)·d
        // (no flipped convolution exists: the column path).
        ConvCase(n: 2, c: 16, h: 9, w: 11, cout: 8, k: (3, 3), stride: (1, 1), pad: (2, 2), dilation: (2, 2), groups: 2),
        ConvCase(n: 3, c: 8, h: 6, w: 7, cout: 12, k: (3, 5), stride: (1, 1), pad: (0, 2), dilation: (1, 1), groups: 1),
        ConvCase(n: 1, c: 8, h: 5, w: 5, cout: 4, k: (3, 3), stride: (1, 1), pad: (3, 3), dilation: (1, 1), groups: 1),
        // More than 128 output channels: dW by the packed GEMM rather than the direct 3×3 kernel.
        ConvCase(n: 2, c: 4, h: 5, w: 6, cout: 130, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        // dW over several blocks of images (8 × 300² output floats per image: two images per gathered block).
        ConvCase(n: 3, c: 2, h: 300, w: 300, cout: 8, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        // The direct weight gradients: 20 images in chunks of 3 (stride 1: read in place); stride 3 with dilation 2
        // (the grid: 9 phase planes per channel, taps shifted by whole phase rows and columns); and stride 1 in
        // place with a 5×5 kernel over one row of 19 positions (a last step of 3; the rows above and below masked
        // off) and with dilation 2 over 9×7 (rows of 7 straddling steps of 16).
        ConvCase(n: 20, c: 8, h: 64, w: 64, cout: 8, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        ConvCase(n: 2, c: 5, h: 13, w: 14, cout: 6, k: (5, 5), stride: (3, 3), pad: (2, 2), dilation: (2, 2), groups: 1),
        ConvCase(n: 3, c: 7, h: 1, w: 19, cout: 5, k: (5, 5), stride: (1, 1), pad: (2, 2), dilation: (1, 1), groups: 1),
        ConvCase(n: 4, c: 3, h: 9, w: 7, cout: 6, k: (3, 3), stride: (1, 1), pad: (2, 2), dilation: (2, 2), groups: 1),
        // A padded batch larger than L2: the indirect kernel over blocks of images, each padded by the thread that
        // convolves it (three 16-channel images of 35×33 padded per block, the last block one image short), in two
        // groups, at stride 2.
        ConvCase(n: 17, c: 16, h: 33, w: 31, cout: 24, k: (3, 3), stride: (2, 2), pad: (1, 1), dilation: (1, 1), groups: 2),
        // At most 16 output channels on rows a multiple of 16 wide: tiles of 16 positions in one row (13 channels
        // of a 16-channel panel).
        ConvCase(n: 2, c: 12, h: 5, w: 16, cout: 13, k: (3, 3), stride: (1, 1), pad: (1, 1), dilation: (1, 1), groups: 1),
        // dx of strided convolutions by phases: strides 3 and 2 on a 5×3 kernel (phases of one and two taps, a
        // window starting above dy), and a 1×1 kernel at stride 2 (three of the four phases have no taps: zeros).
        ConvCase(n: 2, c: 8, h: 11, w: 13, cout: 6, k: (5, 3), stride: (3, 2), pad: (2, 0), dilation: (1, 1), groups: 1),
        ConvCase(n: 3, c: 8, h: 9, w: 8, cout: 10, k: (1, 1), stride: (2, 2), pad: (0, 0), dilation: (1, 1), groups: 1),
        // 1×1 by runs of 48 positions (AVX-512): 899 positions (18 runs and one of 35) × 37 channels (two weight
        // panels, a last tile of 5 rows); and depth 128, where 5 runs are packed together (784 = 16 runs + 16).
        ConvCase(n: 2, c: 5, h: 29, w: 31, cout: 37, k: (1, 1), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 1),
        ConvCase(n: 1, c: 128, h: 28, w: 28, cout: 40, k: (1, 1), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 1),
        // 1×1 by runs of 16 positions: 210 positions (13 runs and one of 2) × 37 channels (tiles of 16, 16 and 5,
        // the last in a second weight panel); and depth 200 over 196 positions.
        ConvCase(n: 2, c: 9, h: 14, w: 15, cout: 37, k: (1, 1), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 1),
        ConvCase(n: 1, c: 200, h: 14, w: 14, cout: 24, k: (1, 1), stride: (1, 1), pad: (0, 0), dilation: (1, 1), groups: 1),
    ]

    /// The GEMMs every test runs with: the default FastGEMM (packing straight from the images), FastGEMM held to
    /// AVX2 + FMA where the CPU has more (the kernels a CPU without AVX-512 runs), OpenBLAS and the portable kernel
    /// (both through the plain im2col path).
    static let kernels: [any GEMMKernel] = [FastGEMM()] + (FastGEMM.bestISA == .avx512 ? [FastGEMM(isa: .avx2)!] : [])
        + [BLASGEMM(), PortableGEMM()]
}

@Suite struct ConvolutionTests {
    @Test(arguments: ConvCase.all)
    func forwardMatchesTheReference(_ t: ConvCase) {
        let x = Tensor.random([t.n, t.c, t.h, t.w], seed: 1)
        let w = Tensor.random([t.cout, t.c / t.groups, t.k.0, t.k.1], seed: 2)
        let b = Tensor.random([t.cout], seed: 3)
        let ref = Ref.conv2d(RefTensor(x), RefTensor(w), RefTensor(b), stride: t.stride, padding: t.pad,
                             dilation: t.dilation, groups: t.groups)
        for kernel in ConvCase.kernels {
            Compute.withGEMM(kernel) {
                for (path, y) in [("forward", Convolution.forward(x, weight: w, bias: b, geometry: t.geometry)),
                                  ("forwardIm2col", Convolution.forwardIm2col(x, weight: w, bias: b, geometry: t.geometry))] {
                    #expect(y.shape.dims == ref.shape)
                    let check = closeness(y.scalars, ref.data, atol: 1e-5, rtol: 1e-5)
                    #expect(check.ok, "\(kernel) \(path): \(check.message)")
                }
            }
        }
    }

    @Test(arguments: ConvCase.all.filter {
        ($0.groups < $0.c || $0.k != (3, 3) || $0.dilation != (1, 1)) && $0.c / $0.groups * $0.k.0 * $0.k.1 <= 512
    })
    func fastPathsEqualIm2colBitForBit(_ t: ConvCase) {
        // Packing from the images feeds the micro-kernel the same panels as im2col; the indirect kernel runs the
        // same FMA chain as the GEMM when the depth fits one 512-deep block. Either way: the same bits.
        let x = Tensor.random([t.n, t.c, t.h, t.w], seed: 7)
        let w = Tensor.random([t.cout, t.c / t.groups, t.k.0, t.k.1], seed: 8)
        Compute.withGEMM(FastGEMM()) {
            let fused = Convolution.forward(x, weight: w, bias: nil, geometry: t.geometry)
            let plain = Convolution.forwardIm2col(x, weight: w, bias: nil, geometry: t.geometry)
            #expect(fused.isIdentical(to: plain), "\(t.testDescription)")
        }
    }

    @Test(arguments: ConvCase.all)
    func backwardMatchesTheReference(_ t: ConvCase) {
        let x = Tensor.random([t.n, t.c, t.h, t.w], seed: 4)
        let w = Tensor.random([t.cout, t.c / t.groups, t.k.0, t.k.1], seed: 5)
        let (oh, ow) = t.geometry.outputSize(h: t.h, w: t.w)
        let dy = Tensor.random([t.n, t.cout, oh, ow], seed: 6)
        let ref = Ref.conv2dBackward(RefTensor(x), RefTensor(w), RefTensor(dy), stride: t.stride, padding: t.pad,
                                     dilation: t.dilation, groups: t.groups)
        for kernel in ConvCase.kernels {
            Compute.withGEMM(kernel) {
                let dx = Convolution.backwardData(dy, weight: w, inputShape: x.shape, geometry: t.geometry)
                let dw = Convolution.backwardWeight(dy, input: x, weightShape: w.shape, geometry: t.geometry)
                let db = Convolution.backwardBias(dy)
                // dW and db sum N·OH·OW products in Float: their rounding grows with √(that depth), so beyond
                // 4,096 terms the absolute tolerance grows with it (270,000 terms in the 300×300 case: 8·10⁻⁴).
                let depthScale = max(1, (Double(t.n * oh * ow) / 4096).squareRoot())
                for (name, got, want, scale) in [("dx", dx, ref.dx, 1.0), ("dw", dw, ref.dw, depthScale), ("db", db, ref.db, depthScale)] {
                    let check = closeness(got.scalars, want.data, atol: 1e-4 * scale, rtol: 1e-4)
                    #expect(check.ok, "\(kernel) \(name): \(check.message)")
                }
            }
        }
    }

    @Test func outputSizeIsZeroWhenTheWindowDoesNotFit() {
        // 2 rows under a 3-row window at stride 2: (2 − 3) / 2 truncates to 0, which must not become 1 output.
        let g = ConvGeometry(kernel: 3, stride: 2)
        #expect(g.outputSize(h: 2, w: 3) == (0, 1))
        #expect(ConvGeometry(kernel: 3, stride: 2, padding: 1).outputSize(h: 1, w: 2) == (1, 1))
        #expect(ConvGeometry(kernel: 2, stride: 3, dilation: 2).outputSize(h: 2, w: 4) == (0, 1))
    }

    @Test func im2colOnArange() {
        // 1 channel 3x3 image 0...8, 2x2 kernel, stride 1, no padding: columns are the four 2x2 windows.
        let x: [Float] = (0..<9).map(Float.init)
        let g = ConvGeometry(kernel: 2)
        var cols = [Float](repeating: -1, count: 4 * 4)
        x.withUnsafeBufferPointer { px in
            cols.withUnsafeMutableBufferPointer { pc in
                Im2col.im2col(px.baseAddress!, channels: 1, height: 3, width: 3, geometry: g, into: pc.baseAddress!, ld: 4)
            }
        }
        // Row (i, j) lists x[oh + i, ow + j] for the 4 output positions.
        #expect(cols == [0, 1, 3, 4,  1, 2, 4, 5,  3, 4, 6, 7,  4, 5, 7, 8])
        // With padding 1 and stride 2: output 2x2, tap (0, 0) reads (-1,-1) (-1,1) (1,-1) (1,1).
        let gp = ConvGeometry(kernel: 3, stride: 2, padding: 1)
        var colsP = [Float](repeating: -1, count: 9 * 4)
        x.withUnsafeBufferPointer { px in
            colsP.withUnsafeMutableBufferPointer { pc in
                Im2col.im2col(px.baseAddress!, channels: 1, height: 3, width: 3, geometry: gp, into: pc.baseAddress!, ld: 4)
            }
        }
        #expect(Array(colsP[0..<4]) == [0, 0, 0, 4])
        #expect(Array(colsP[16..<20]) == [0, 2, 6, 8])  // centre tap (1, 1)
    }

    @Test(arguments: [([3, 8, 15, 13], 6), ([1, 64, 10, 16], 40), ([2, 16, 9, 10], 16), ([1, 64, 15, 16], 12),
                      ([12, 8, 9, 10], 6), ([20, 16, 30, 30], 16), ([3, 16, 8, 32], 16)])
    func resultsDoNotDependOnTheThreadCountOrRun(_ input: [Int], _ cout: Int) {
        // 160 positions at depth 576 are 20 tiles on one thread, and 10 or 7 per thread on two or three: the
        // indirect kernel's whole-depth and stretched loops must give the same bits. The third and fourth take
        // the 16-channel tile (12 positions): 240 positions are 20 tiles on one thread, 10 on each of two.
        // dW: one to three images, or twelve 9×10 ones (a single chunk: at least 2,048 positions per chunk), split
        // their tiles among the threads; twenty 30×30 images are seven chunks (six of 3, one of 2), summed apart.
        // Twenty 16-channel 30×30 images (1.3 MB padded) go in five blocks of four on one or two threads, and as one
        // padded batch on three (too few blocks to share). 16 channels on 32-wide rows: 48 row tiles of 16.
        let x = Tensor.random(Shape(input), seed: 9)
        let w = Tensor.random([cout, input[1], 3, 3], seed: 10)
        let g = ConvGeometry(kernel: 3, stride: 1, padding: 1)
        // Kestrel's own kernels (FastGEMM, portable GEMM) are bit-identical for any thread count.
        for kernel in [FastGEMM(), PortableGEMM()] as [any GEMMKernel] {
            let runs = [1, 2, 3, 1].map { threads in
                Compute.withThreads(threads) {
                    Compute.withGEMM(kernel) {
                        let y = Convolution.forward(x, weight: w, bias: nil, geometry: g)
                        let dx = Convolution.backwardData(y, weight: w, inputShape: x.shape, geometry: g)
                        let dw = Convolution.backwardWeight(y, input: x, weightShape: w.shape, geometry: g)
                        return (y, dx, dw)
                    }
                }
            }
            for r in runs.dropFirst() {
                #expect(r.0.isIdentical(to: runs[0].0), "\(kernel)")
                #expect(r.1.isIdentical(to: runs[0].1), "\(kernel)")
                #expect(r.2.isIdentical(to: runs[0].2), "\(kernel)")
            }
        }
    }
}
