import ArgumentParser
import KestrelTensor

struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Convolution GFLOP/s, forward and backward, beside the bare GEMMs the convolution calls.",
        discussion: """
            Shapes as ../shared/anchors/conv_bench.py: ResNet 3x3 convolutions (64ch 56x56 … 512ch 7x7),
            MobileNet depthwise 3x3, ConvTranspose 4x4 stride 2. GFLOP/s counts 2·multiply-adds of the
            convolution proper (bias excluded); backward is dx + dW (twice the forward's work). "gemm_gflops" is
            the rate of the same GEMM calls made bare on preallocated buffers, in the same run: the ratio shows
            what im2col/col2im and the data movement around the GEMM cost. Compare with ONNX Runtime and the
            curriculum's numpy im2col by running tools/bench_conv.sh.
            """)

    @Option(parsing: .upToNextOption, help: "Which ops: conv3x3, depthwise, convtranspose.")
    var ops: [String] = ["conv3x3", "depthwise", "convtranspose"]

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batches: [Int] = [1, 8]

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    @Option(parsing: .upToNextOption, help: "Directions: forward, backward (dx + dW), or one of its halves: dx, dw.")
    var directions: [String] = ["forward", "backward"]

    @Option(parsing: .upToNextOption, help: "3x3 convolution shapes to measure instead of ResNet's, as CxH (C channels in and out, H×H, stride 1, padding 1): e.g. 16x32 32x16 64x8 for ResNet-20.")
    var shapes: [String] = []

    @OptionGroup var options: BenchOptions

    func validate() throws {
        let known: Set = ["conv3x3", "depthwise", "convtranspose"]
        for op in ops where !known.contains(op) { throw ValidationError("unknown op \(op); use \(known.sorted().joined(separator: ", "))") }
        for d in directions where !["forward", "backward", "dx", "dw"].contains(d) {
            throw ValidationError("direction must be forward, backward, dx or dw")
        }
        _ = try customCases()
        guard batches.allSatisfy({ $0 > 0 }), threads.allSatisfy({ $0 > 0 }) else { throw ValidationError("batches and threads must be positive") }
    }

    struct Case {
        var op: String, work: String
        var c: Int, cout: Int, h: Int, k: Int, stride: Int, pad: Int, groups: Int
        var transposed: Bool
    }

    static let cases: [Case] =
        [(64, 56), (128, 28), (256, 14), (512, 7)].map {
            Case(op: "conv3x3", work: "conv3x3", c: $0.0, cout: $0.0, h: $0.1, k: 3, stride: 1, pad: 1, groups: 1, transposed: false)
        }
        + [(32, 112), (128, 56), (256, 28), (512, 14), (1024, 7)].map {
            Case(op: "depthwise", work: "depthwise conv3x3", c: $0.0, cout: $0.0, h: $0.1, k: 3, stride: 1, pad: 1,
                 groups: $0.0, transposed: false)
        }
        + [(21, 21, 28), (256, 128, 14), (64, 64, 56)].map {
            Case(op: "convtranspose", work: "convtranspose4x4 s2 p1", c: $0.0, cout: $0.1, h: $0.2, k: 4, stride: 2,
                 pad: 1, groups: 1, transposed: true)
        }

    /// The `--shapes` cases (3×3, stride 1, padding 1, C → C).
    func customCases() throws -> [Case] {
        try shapes.map { text in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("shape \(text) is not CxH (channels x side), e.g. 16x32")
            }
            return Case(op: "conv3x3", work: "conv3x3", c: parts[0], cout: parts[0], h: parts[1], k: 3, stride: 1, pad: 1,
                        groups: 1, transposed: false)
        }
    }

    func run() throws {
        let custom = try customCases()
        let cases = BenchConv.cases.filter { !(custom.count > 0 && $0.op == "conv3x3") } + custom
        for t in threads {
            try Compute.withThreads(t) {
                for n in batches {
                    for c in cases where ops.contains(c.op) {
                        for d in directions { try measureCase(c, batch: n, threads: t, direction: d) }
                    }
                }
            }
        }
    }

    func measureCase(_ c: Case, batch n: Int, threads t: Int, direction: String) throws {
        let backward = direction != "forward"
        let halves = direction == "backward" ? 2.0 : 1.0
        let g = ConvGeometry(kernel: c.k, stride: c.stride, padding: c.pad, groups: c.groups)
        var rng = RandomSource(seed: 1)
        let x = Tensor.uniform([n, c.c, c.h, c.h], low: -1, high: 1, using: &rng)
        // As a convolution from "conv input" to "conv output": for a transposed convolution the roles swap.
        let convInput: Shape, weightShape: Shape, outH: Int
        if c.transposed {
            outH = (c.h - 1) * c.stride - 2 * c.pad + c.k
            convInput = [n, c.cout, outH, outH]
            weightShape = [c.c, c.cout / c.groups, c.k, c.k]
        } else {
            outH = g.outputSize(h: c.h, w: c.h).h
            convInput = x.shape
            weightShape = [c.cout, c.c / c.groups, c.k, c.k]
        }
        let w = Tensor.uniform(weightShape, low: -0.05, high: 0.05, using: &rng)
        // 2·multiply-adds: each output element of a convolution (each input element of a transposed one) takes
        // (C/groups)·k² of them per output channel; backward does it twice (dx and dW), dx or dW alone once.
        let positions = c.transposed ? c.h * c.h : outH * outH
        let flops = 2.0 * Double(n) * Double(c.c / c.groups) * Double(c.cout) * Double(positions) * Double(c.k * c.k)
            * halves
        let convOutput = Tensor.uniform([n, weightShape[0], g.outputSize(h: convInput[2], w: convInput[3]).h,
                                         g.outputSize(h: convInput[2], w: convInput[3]).w], low: -1, high: 1, using: &rng)
        let convIn = Tensor.uniform(convInput, low: -1, high: 1, using: &rng)
        // The work, and the GEMM plan it runs.
        let work: () -> Void
        let passes: [Convolution.Pass]
        switch (c.transposed, backward) {
        case (false, false):
            work = { _ = Convolution.forward(x, weight: w, bias: nil, geometry: g) }
            passes = [.forward]
        case (false, true):
            let dx = direction != "dw", dw = direction != "dx"
            work = {
                if dx { _ = Convolution.backwardData(convOutput, weight: w, inputShape: x.shape, geometry: g) }
                if dw { _ = Convolution.backwardWeight(convOutput, input: x, weightShape: w.shape, geometry: g) }
            }
            passes = (dx ? [.backwardData] : []) + (dw ? [.backwardWeight] : [])
        case (true, false):
            work = { _ = Convolution.backwardData(x, weight: w, inputShape: convInput, geometry: g) }
            passes = [.backwardData]
        case (true, true):
            let dx = direction != "dw", dw = direction != "dx"
            work = {
                // Training changes the weights every step: a fresh copy keeps the forward convolution from
                // reusing weights packed by an earlier call (PackedWeightCache), as it never can in training.
                var fresh = w
                fresh.withUnsafeMutableBufferPointer { $0[0] = $0[0] }
                if dx { _ = Convolution.forward(convIn, weight: fresh, bias: nil, geometry: g) }
                if dw { _ = Convolution.backwardWeight(x, input: convIn, weightShape: w.shape, geometry: g) }
            }
            passes = (dx ? [.forward] : []) + (dw ? [.backwardWeight] : [])
        }
        let plan = passes.flatMap { Convolution.gemmPlan(inputShape: convInput, weightShape: weightShape, geometry: g, pass: $0) }
        let (seconds, guardInfo) = options.guarded { measure(repeats: options.repeats, minTime: options.minTime, work) }
        let (gemmSeconds, _) = options.guarded { bareGEMMs(plan) }
        let rates = seconds.map { flops / $0 / 1e9 }
        let gemmRate = flops / median(gemmSeconds) / 1e9
        // The anchors' size labels (conv_bench.py), so tools/compare.py can match the records.
        let channels = c.groups == c.c && c.cout == c.c ? "C=\(c.c)" : "C=\(c.c)->\(c.cout)"
        let size = "N=\(n) \(channels) \(c.h)x\(c.h)" + (c.transposed ? "->\(outH)x\(outH)" : " k\(c.k) s\(c.stride) p\(c.pad)")
            + (c.groups > 1 ? " group=\(c.groups)" : "")
        if options.output.json {
            var record = benchRecord(suite: "conv", work: backward ? c.work + " " + direction : c.work, size: size, threads: t,
                                     values: rates, unit: "GFLOP/s",
                                     extra: [("ms", .double(round6(median(seconds) * 1e3))), ("gemm_calls", .int(plan.count))] + guardInfo)
            if case .object(var pairs) = record {
                pairs.insert(contentsOf: [
                    ("op", .string(c.op)), ("shape", .array([n, c.c, c.h, c.h].map { JSON.int($0) })),
                    ("outChannels", .int(c.cout)), ("batch", .int(n)), ("direction", .string(direction)),
                    ("gflops", .double(round6(median(rates)))), ("gemm_gflops", .double(round6(gemmRate))),
                ], at: 0)
                record = .object(pairs)
            }
            Console.out(record.text)
        } else {
            Console.out("\(c.work) \(direction) \(size) threads \(t): \(fixed(median(rates), 1)) GFLOP/s, bare GEMM \(fixed(gemmRate, 1)) GFLOP/s (\(fixed(100 * median(rates) / gemmRate, 0))%)")
        }
    }

    /// Times the plan's GEMMs on preallocated buffers (the same kernel the convolution uses).
    func bareGEMMs(_ plan: [Convolution.GEMMShape]) -> [Double] {
        let gemm = Compute.gemm
        let maxA = plan.map { $0.m * $0.k }.max() ?? 1, maxB = plan.map { $0.k * $0.n }.max() ?? 1
        let maxC = plan.map { $0.m * $0.n }.max() ?? 1
        var rng = RandomSource(seed: 2)
        let a = Tensor.uniform([maxA], low: -1, high: 1, using: &rng), b = Tensor.uniform([maxB], low: -1, high: 1, using: &rng)
        var cBuf = Tensor.zeros([maxC])
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                cBuf.withUnsafeMutableBufferPointer { pc in
                    measure(repeats: options.repeats, minTime: options.minTime) {
                        for s in plan {
                            gemm.sgemm(order: .rowMajor, transA: s.transA ? .transpose : .noTranspose,
                                       transB: s.transB ? .transpose : .noTranspose, m: s.m, n: s.n, k: s.k, alpha: 1,
                                       a: pa.baseAddress!, lda: s.transA ? s.m : s.k, b: pb.baseAddress!,
                                       ldb: s.transB ? s.k : s.n, beta: 0, c: pc.baseAddress!, ldc: s.n)
                        }
                    }
                }
            }
        }
    }
}
