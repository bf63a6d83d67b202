import ArgumentParser
import KestrelDetection
import KestrelModels
import KestrelSegmentation

/// Shared options of the model benchmarks.
struct ModelBenchOptions: ParsableArguments {
    @Option(parsing: .upToNextOption, help: "Models (see `kestrel models`), including the detectors (ssd300_vgg16, ssd_mobilenet, ssd_tiny).")
    var model: [String] = ["resnet20"]

    @Option(help: "Square input side (default: each model's own).")
    var input: Int?

    @Option(name: .customLong("batch-size"), parsing: .upToNextOption, help: "Batch sizes.")
    var batchSize: [Int] = [1]

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [2]

    @Option(help: "Classes of the classifier head (default: 1000 for ImageNet-size models, 10 otherwise).")
    var classes: Int?

    @Flag(help: "CIFAR ResNets with 1x1 projection shortcuts (option B), as ../shared/anchors/models_ort.py builds them.")
    var projection = false

    func validate() throws {
        for m in model where !ModelZoo.names.contains(m) && !SegmentationZoo.contains(m) && !DetectorZoo.names.contains(m) {
            throw ValidationError("unknown model \(m); known: \((ModelZoo.names + SegmentationZoo.names + DetectorZoo.names).joined(separator: ", "))")
        }
        guard batchSize.allSatisfy({ $0 > 0 }), threads.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("batch sizes and threads must be positive")
        }
    }

    /// A forward pass in evaluation mode, and its input side: a classifier's logits, a segmentation model's
    /// per-pixel scores, or a detector's raw scores
    /// and offsets (before post-processing; `classes` foreground classes, default 20 as Pascal VOC).
    func makeForward(_ name: String) throws -> (forward: (Variable) -> Void, size: Int) {
        if DetectorZoo.names.contains(name) {
            let ssd = try DetectorZoo.make(name, classes: classes ?? 20, inputSize: input)
            ssd.eval()
            return ({ x in _ = ssd.predict(x) }, ssd.inputSize)
        }
        let (model, size, _, _) = try makeAny(name)
        model.eval()
        return ({ x in _ = model(x) }, size)
    }

    func make(_ name: String) throws -> (any ImageClassifier, Int) {
        let e = try ModelZoo.entry(name)
        let size = input ?? e.defaultInputSize
        let classes = self.classes ?? (e.defaultInputSize >= 224 ? 1000 : 10)
        if projection, name == "resnet20" || name == "resnet56" {
            var rng = RandomSource(seed: 0)
            return (CIFARResNet(depth: name == "resnet20" ? 20 : 56, classes: classes, projection: true, rng: &rng), size)
        }
        return (try ModelZoo.make(name, classes: classes, inputSize: size), size)
    }

    /// A classifier or a segmentation model (default input 320, 21 classes as Pascal VOC); `perPixel` when its
    /// output is class scores per pixel.
    func makeAny(_ name: String) throws -> (model: Module, size: Int, classes: Int, perPixel: Bool) {
        guard SegmentationZoo.contains(name) else {
            let (m, size) = try make(name)
            return (m, size, m.classes, false)
        }
        let m = try SegmentationZoo.make(name, classes: classes ?? 21)
        return (m, input ?? 320, m.classes, true)
    }
}

struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Inference time per batch (eval mode, no gradients), beside ../shared/anchors/models_ort.py.")

    @OptionGroup var models: ModelBenchOptions
    @OptionGroup var options: BenchOptions

    @Flag(help: "After measuring, run a few more passes with per-op timing and print where the time goes (op, ms, share); with --json, one object per op.")
    var profile = false

    func run() throws {
        for name in models.model {
            let (forward, size) = try models.makeForward(name)
            for t in models.threads {
                for n in models.batchSize {
                    Compute.withThreads(t) {
                        let x = Variable(Tensor.random(seed: 1, [n, 3, size, size]))
                        let (seconds, guardInfo) = options.guarded {
                            measure(repeats: options.repeats, minTime: options.minTime) {
                                GradMode.withoutGradients { forward(x) }
                            }
                        }
                        reportModelBench(options, name: name, work: "inference", size: size, batch: n, threads: t,
                                         seconds: seconds, extra: guardInfo)
                        if profile {
                            printProfile(steps: 5, json: options.output.json, name: name) {
                                OpProfile.mark()
                                GradMode.withoutGradients { forward(x) }
                            }
                        }
                    }
                }
            }
        }
    }

}

/// One model-benchmark record: ms per batch (lower is better) and images/s.
func reportModelBench(_ options: BenchOptions, name: String, work: String, size: Int, batch: Int, threads: Int,
                      seconds: [Double], extra: [(String, JSON)]) {
        let ms = seconds.map { $0 * 1e3 }
        if options.output.json {
            var r = benchRecord(suite: "models", work: "\(name) \(work)", size: "\(size)x\(size) batch \(batch)",
                                threads: threads, values: ms, unit: "ms", extra: [("images_per_s", .double(round6(Double(batch) / median(seconds))))] + extra)
            if case .object(var pairs) = r {
                if let i = pairs.firstIndex(where: { $0.0 == "higher_is_better" }) { pairs[i].1 = .bool(false) }
                r = .object(pairs)
            }
            Console.out(r.text)
        } else {
            Console.out("\(name) \(work) \(size)x\(size) batch \(batch), \(threads) threads: \(fixed(median(ms), 2)) ms/batch, \(fixed(Double(batch) / median(seconds), 1)) images/s")
        }
}

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "One full training step (forward, the loss — cross-entropy, or multibox for the detectors — backward, momentum-SGD update) per batch; --profile shows where its time goes.")

    @OptionGroup var models: ModelBenchOptions
    @OptionGroup var options: BenchOptions

    @Flag(help: "After measuring, run a few more steps with per-op timing and print where the time goes (op, forward ms, backward ms, share); with --json, one object per op.")
    var profile = false

    @Flag(help: "Also time inference of the same architecture (eval mode, no gradients), interleaved with the training step repetition by repetition, and report the step's cost as a multiple of inference: the median of the per-pair ratios, so that the machine's drift cancels.")
    var versusInference = false

    func run() throws {
        for name in models.model {
            for t in models.threads {
                for n in models.batchSize {
                    let (step, size) = try makeStep(name, batch: n)
                    let infer = try versusInference ? inferenceBody(name, batch: n) : nil
                    Compute.withThreads(t) {
                        let (seconds, guardInfo) = options.guarded {
                            measure(repeats: options.repeats, minTime: options.minTime, step)
                        }
                        reportModelBench(options, name: name, work: "training step", size: size, batch: n, threads: t,
                                         seconds: seconds, extra: guardInfo)
                        if let infer { reportVersusInference(name: name, size: size, batch: n, threads: t, step, infer) }
                        if profile { printProfile(steps: 3, json: options.output.json, name: name, step) }
                    }
                }
            }
        }
    }

    /// One inference pass of a fresh eval-mode model of the same architecture on a batch of `n`.
    func inferenceBody(_ name: String, batch n: Int) throws -> () -> Void {
        let (forward, size) = try models.makeForward(name)
        let x = Variable(Tensor.random(seed: 1, [n, 3, size, size]))
        return { GradMode.withoutGradients { forward(x) } }
    }

    /// Training step ÷ inference, from `repeats` interleaved pairs (each side timed for at least --min-time).
    func reportVersusInference(name: String, size: Int, batch n: Int, threads t: Int, _ step: () -> Void,
                               _ infer: () -> Void) {
        let (pairs, guardInfo) = options.guarded {
            (0..<options.repeats).map { _ in
                (measure(repeats: 1, minTime: options.minTime, step)[0], measure(repeats: 1, minTime: options.minTime, infer)[0])
            }
        }
        let ratios = pairs.map { $0.0 / $0.1 }
        if options.output.json {
            let extra: [(String, JSON)] = [("step_ms", .double(round6(median(pairs.map { $0.0 }) * 1e3))),
                                           ("inference_ms", .double(round6(median(pairs.map { $0.1 }) * 1e3)))] + guardInfo
            Console.out(benchRecord(suite: "models", work: "\(name) training step / inference",
                                    size: "\(size)x\(size) batch \(n)", threads: t, values: ratios, unit: "x",
                                    extra: extra, higherIsBetter: false).text)
        } else {
            Console.out("\(name) training step ÷ inference \(size)x\(size) batch \(n), \(t) threads: "
                        + "\(fixed(median(ratios), 2))× (median of \(ratios.count) interleaved pairs, "
                        + "\(fixed(ratios.min() ?? 0, 2))–\(fixed(ratios.max() ?? 0, 2)); step \(fixed(median(pairs.map { $0.0 }) * 1e3, 1)) ms, "
                        + "inference \(fixed(median(pairs.map { $0.1 }) * 1e3, 1)) ms)")
        }
    }

    /// One training step of a fresh model on a fixed random batch, and the input side. Classifiers and
    /// segmentation models: cross-entropy (per pixel for segmentation). Detectors: the multibox loss with every
    /// 50th default box a positive (a few per object, as matching gives), the rest background.
    func makeStep(_ name: String, batch n: Int) throws -> (step: () -> Void, size: Int) {
        let forwardLoss: (Variable) -> Variable
        let parameters: [(name: String, parameter: Parameter)]
        let size: Int
        if DetectorZoo.names.contains(name) {
            let ssd = try DetectorZoo.make(name, classes: models.classes ?? 20, inputSize: models.input)
            ssd.train()
            let p = ssd.defaultBoxes.count
            let labels = (0..<(n * p)).map { $0 % 50 == 0 ? 1 + ($0 / 50) % ssd.classes : 0 }
            let targets = MultiBoxTargets(labels: labels, offsets: (0..<(n * p * 4)).map { Float($0 % 7) * 0.1 - 0.3 },
                                          images: n, defaults: p)
            forwardLoss = { x in
                let (scores, offsets) = ssd.predict(x)
                return multiBoxLoss(confidences: scores, offsets: offsets, targets: targets).total
            }
            parameters = ssd.namedParameters()
            size = ssd.inputSize
        } else {
            let (model, side, classes, perPixel) = try models.makeAny(name)
            model.train()
            let targets = (0..<(perPixel ? n * side * side : n)).map { $0 % classes }
            forwardLoss = { x in crossEntropyLoss(model(x), targets: targets) }
            parameters = model.namedParameters()
            size = side
        }
        let optimizer = try Optimizer(parameters, rule: Momentum(momentum: 0.9), learningRate: 0.01)
        let x = Variable(Tensor.random(seed: 1, [n, 3, size, size]))
        return ({
            optimizer.zeroGrad()
            OpProfile.mark()
            forwardLoss(x).backward()
            optimizer.step()
        }, size)
    }
}

/// Runs `step` a few times with ``OpProfile`` on and prints the per-op totals per step (the optimizer update and
/// anything else outside recorded ops shows as "other"): a table, or with `json` one object per op
/// (`{"profile": model, "op", "calls", "forward_ms", "backward_ms", "share"}`, ms per step, share of the step).
func printProfile(steps: Int, json: Bool, name: String, _ step: () -> Void) {
    step()  // warm-up
    OpProfile.start()
    let t0 = now()
    for _ in 0..<steps { step() }
    let wall = (now() - t0) / Double(steps)
    let entries = OpProfile.stop()
    let per = 1e3 / Double(steps)
    let accounted = entries.reduce(0) { $0 + $1.total } / Double(steps)
    let rows = entries.map { ($0.name, $0.calls / steps, $0.forwardSeconds * per, $0.backwardSeconds * per) }
        + [("other", 0, 0, (wall - accounted) * 1e3)]
    if json {
        for (op, calls, f, b) in rows {
            Console.out(JSON.object([
                ("profile", .string(name)), ("op", .string(op)), ("calls", .int(calls)), ("forward_ms", .double(round6(f))),
                ("backward_ms", .double(round6(b))), ("share", .double(round6((f + b) / (wall * 1e3)))),
            ]).text)
        }
        return
    }
    Console.out("  per step: \(fixed(wall * 1e3, 1)) ms")
    Console.out("  \("op".padding(toLength: 22, withPad: " ", startingAt: 0))   calls  forward ms  backward ms  share")
    for (op, calls, f, b) in rows {
        Console.out("  \(op.padding(toLength: 22, withPad: " ", startingAt: 0)) \(pad(op == "other" ? "" : String(calls), 7)) \(pad(op == "other" ? "" : fixed(f, 2), 11)) \(pad(fixed(b, 2), 12)) \(pad(fixed((f + b) / (wall * 1e3) * 100, 1), 5))%")
    }
}

private func pad(_ v: some CustomStringConvertible, _ width: Int) -> String {
    let s = v.description
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

extension Tensor {
    static func random(seed: UInt64, _ shape: Shape) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor.uniform(shape, low: -1, high: 1, using: &rng)
    }
}
