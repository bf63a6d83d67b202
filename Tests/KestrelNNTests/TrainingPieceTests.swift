import Foundation
import KestrelNN
import Testing
import _KestrelTestSupport

/// Goldens from PyTorch (tools/make_nn_goldens.py).
struct OptimizerGoldens: Decodable {
    let p0: [Float], a: [Float], b: [Float], steps: Int
    let cases: [String: [[Double]]]
    static let shared: OptimizerGoldens? = try? JSONDecoder().decode(
        OptimizerGoldens.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("nn/optimizers.json"))))
}

struct ScheduleGoldens: Decodable {
    let base: Float
    let cases: [String: [Double]]
    static let shared: ScheduleGoldens? = try? JSONDecoder().decode(
        ScheduleGoldens.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("nn/schedules.json"))))
}

@Suite struct OptimizerTests {
    /// Runs `steps` steps on L(p) = Σ a·p² + b·p, like the golden script.
    func run<R: UpdateRule>(_ rule: R, lr: Float, transforms: [GradientTransform] = []) throws -> [[Float]] {
        let g = try #require(OptimizerGoldens.shared)
        let p = Parameter(Tensor(shape: [6], scalars: g.p0))
        let opt = try Optimizer([("p", p)], rule: rule, learningRate: lr, transforms: transforms)
        let a = Tensor(shape: [6], scalars: g.a), b = Tensor(shape: [6], scalars: g.b)
        var out: [[Float]] = []
        for _ in 0..<g.steps {
            opt.zeroGrad()
            let pv = p.variable
            (Variable(a) * pv * pv + Variable(b) * pv).sum().backward()
            opt.step()
            out.append(p.value.scalars)
        }
        return out
    }

    static let cases: [String] = ["sgd", "sgd_weight_decay", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                                  "adam_weight_decay", "adamw", "sgd_clip_norm", "sgd_clip_value"]

    @Test(arguments: cases)
    func matchesPyTorch(_ name: String) throws {
        let golden = try #require(OptimizerGoldens.shared?.cases[name], "missing golden \(name)")
        let got: [[Float]]
        switch name {
        case "sgd": got = try run(SGD(), lr: 0.1)
        case "sgd_weight_decay": got = try run(SGD(), lr: 0.1, transforms: [.weightDecay(0.05)])
        case "momentum": got = try run(Momentum(momentum: 0.9), lr: 0.05)
        case "nesterov": got = try run(Momentum(momentum: 0.9, nesterov: true), lr: 0.05)
        case "adagrad": got = try run(AdaGrad(), lr: 0.3)
        case "rmsprop": got = try run(RMSProp(alpha: 0.99), lr: 0.01)
        case "adam": got = try run(Adam(), lr: 0.05)
        case "adam_weight_decay": got = try run(Adam(), lr: 0.05, transforms: [.weightDecay(0.1)])
        case "adamw": got = try run(Adam.adamW(weightDecay: 0.1), lr: 0.05)
        case "sgd_clip_norm": got = try run(SGD(), lr: 0.1, transforms: [.clipGlobalNorm(0.5)])
        case "sgd_clip_value": got = try run(SGD(), lr: 0.1, transforms: [.clipValue(0.3)])
        default: Issue.record("unknown case \(name)"); return
        }
        for (step, (mine, theirs)) in zip(got, golden).enumerated() {
            let c = closeness(mine, theirs, atol: 2e-6, rtol: 2e-5)
            #expect(c.ok, "\(name) step \(step + 1): \(c.message)")
        }
    }

    @Test func l1PushesTowardZeroBySign() throws {
        let p = Parameter(Tensor(shape: [3], scalars: [0.5, -0.5, 0]))
        p.grad = Tensor.zeros([3])
        let opt = try Optimizer([("p", p)], rule: SGD(), learningRate: 0.1, transforms: [.l1(0.2)])
        opt.step()
        #expect(p.value.scalars == [0.48, -0.48, 0])
    }

    @Test func frozenParametersAreNotUpdated() throws {
        let a = Parameter(Tensor.ones([2])), b = Parameter(Tensor.ones([2]))
        b.isFrozen = true
        let opt = try Optimizer([("a", a), ("b", b)], rule: SGD(), learningRate: 1)
        (a.variable * b.variable).sum().backward()
        #expect(b.grad == nil)
        opt.step()
        #expect(a.value.scalars == [0, 0])
        #expect(b.value.scalars == [1, 1])
    }

    @Test func badHyperParametersAreRejected() {
        #expect(throws: OptimizerError.self) { try Momentum(momentum: 1.5) }
        #expect(throws: OptimizerError.self) { try Adam(beta1: 1) }
        #expect(throws: OptimizerError.self) { try Optimizer([], rule: SGD(), learningRate: -1) }
        #expect(throws: OptimizerError.self) { try Optimizer([], rule: SGD(), learningRate: 0.1, transforms: [.clipGlobalNorm(0)]) }
        #expect(throws: OptimizerError.self) { try LearningRateSchedule.multiStep(milestones: [5, 2], gamma: 0.1).validate() }
    }

    @Test(arguments: ["step", "multistep", "cosine", "warmup_cosine"])
    func schedulesMatchPyTorch(_ name: String) throws {
        let g = try #require(ScheduleGoldens.shared)
        let golden = try #require(g.cases[name])
        let schedule: LearningRateSchedule =
            switch name {
            case "step": .step(stepSize: 3, gamma: 0.5)
            case "multistep": .multiStep(milestones: [2, 5, 9], gamma: 0.1)
            case "cosine": .cosine(period: 10, minimum: 0.001)
            default: .warmup(steps: 4, startFactor: 0.1, then: .cosine(period: 8, minimum: 0))
            }
        try schedule.validate()
        let mine = (0..<golden.count).map { schedule.rate(at: $0, base: g.base) }
        let c = closeness(mine, golden, atol: 1e-7, rtol: 1e-5)
        #expect(c.ok, "\(name): \(c.message)")
        // Per batch: the same rates at whole epochs.
        let fractional = (0..<golden.count).map { schedule.rate(atFraction: Double($0), base: g.base) }
        #expect(closeness(fractional, golden, atol: 1e-7, rtol: 1e-5).ok, "\(name) per batch")
    }

    @Test func perBatchRatesMoveWithinAnEpoch() {
        let base: Float = 0.1
        let warm = LearningRateSchedule.warmup(steps: 2, startFactor: 0.1, then: .cosine(period: 4, minimum: 0))
        // Half-way through the first warm-up epoch: a quarter of the way from 0.1·base to base.
        #expect(abs(warm.rate(atFraction: 0.5, base: base) - base * (0.1 + 0.9 * 0.25)) < 1e-7)
        // Half-way through the cosine's second epoch (t = 1.5 after warm-up): (1 + cos(1.5π/4))/2 of base.
        #expect(abs(warm.rate(atFraction: 3.5, base: base) - base * Float((1 + cos(Double.pi * 1.5 / 4)) / 2)) < 1e-7)
        // Step schedules change only at their boundaries.
        let step = LearningRateSchedule.multiStep(milestones: [2], gamma: 0.1)
        #expect(step.rate(atFraction: 1.99, base: base) == base && step.rate(atFraction: 2, base: base) == base * 0.1)
    }
}

@Suite struct ModuleTests {
    final class Block: Module {
        let conv: Conv2D, bn: BatchNorm2D
        init(rng: inout RandomSource) {
            conv = Conv2D(2, 3, kernel: 3, padding: 1, bias: false, rng: &rng)
            bn = BatchNorm2D(3)
            super.init()
            register("conv1", conv)
            register("bn1", bn)
        }
        override func forward(_ x: Variable) -> Variable { bn(conv(x)).relu() }
    }

    @Test func dottedNamesFollowPyTorch() {
        var rng = RandomSource(seed: 1)
        let model = Sequential(Block(rng: &rng), Block(rng: &rng))
        let names = model.namedParameters().map(\.name)
        #expect(names == ["0.conv1.weight", "0.bn1.weight", "0.bn1.bias", "1.conv1.weight", "1.bn1.weight", "1.bn1.bias"])
        #expect(model.namedBuffers().map(\.name).prefix(3) == ["0.bn1.running_mean", "0.bn1.running_var", "0.bn1.num_batches_tracked"])
        #expect(model.parameterCount == 2 * (3 * 2 * 9 + 3 + 3))
    }

    @Test func batchNormRunningStatisticsFollowPyTorchsUpdate() {
        let bn = BatchNorm2D(1, momentum: 0.1)
        let x = Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 6])  // mean 3, biased var 3.5, unbiased 14/3
        _ = bn(Variable(x))
        #expect(abs(bn.runningMean.value.scalars[0] - 0.3) < 1e-6)
        #expect(abs(bn.runningVar.value.scalars[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6)
        #expect(bn.batchesTracked.value.item == 1)
        bn.eval()
        let y = bn(Variable(x)).value.scalars
        let expected = [1, 2, 3, 6].map { (Float($0) - 0.3) / (bn.runningVar.value.scalars[0] + 1e-5).squareRoot() }
        #expect(closeness(y, expected.map(Double.init), atol: 1e-6, rtol: 1e-6).ok)
    }

    @Test func initializersHaveTheirStatedSpread() {
        var rng = RandomSource(seed: 4)
        let shape: Shape = [64, 32, 3, 3]  // fanIn 288, fanOut 576
        let ku = Initializer.kaimingUniform().make(shape, using: &rng)
        let bound = (2.0 * 3 / 288).squareRoot()
        #expect(Double(ku.max()) <= bound && Double(ku.min()) >= -bound)
        #expect(Double(ku.max()) > bound * 0.99)
        let kn = Initializer.kaimingNormal().make(shape, using: &rng)
        let std = Double((kn * kn).mean()).squareRoot()
        #expect(abs(std - (2.0 / 288).squareRoot()) < 0.005)
        let xu = Initializer.xavierUniform().make(shape, using: &rng)
        #expect(Double(xu.max()) <= (6.0 / 864).squareRoot())
        let td = Initializer.torchDefault.make(shape, using: &rng)
        #expect(Double(td.max()) <= 1 / 288.0.squareRoot() + 1e-7)
        #expect(Initializer.constant(3).make([2], using: &rng).scalars == [3, 3])
    }
}

@Suite struct SafetensorsTests {
    @Test func readsWhatPythonWrote() throws {
        let contents = try Safetensors.read(Fixtures.path("nn/python_written.safetensors"))
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("nn/python_written.json")))) as! [String: [String: Any]]
        #expect(contents.metadata == ["source": "make_nn_goldens.py"])
        #expect(Set(contents.tensors.map(\.name)) == Set(expected.keys))
        for (name, info) in expected {
            let t = try #require(contents[name])
            #expect(t.shape.dims == info["shape"] as! [Int], "\(name)")
            let values = (info["values"] as! [NSNumber]).map { $0.doubleValue }
            // F16/F64 sources: Float32 holds F16 exactly and F64 to Float32 rounding.
            #expect(closeness(t.scalars, values, atol: 0, rtol: 1e-7).ok, "\(name)")
        }
    }

    /// The recipe tools/make_nn_goldens.py checks Python reads back.
    func kestrelRecipe() -> [Safetensors.Entry] {
        let shapes: [(String, Shape)] = [("conv1.weight", [4, 3, 3, 3]), ("bn1.weight", [4]), ("bn1.running_mean", [4]), ("fc.bias", [10])]
        var entries = shapes.enumerated().map { k, e in
            Safetensors.Entry(e.0, Tensor(shape: e.1, scalars: (0..<e.1.count).map { (Float($0) - 3) * 0.25 + Float(k) }))
        }
        entries.append(Safetensors.Entry("bn1.num_batches_tracked", Tensor(7), isInteger: true))
        return entries
    }

    @Test func writesTheFilePythonReads() throws {
        let golden = Fixtures.path("nn/kestrel_written.safetensors")
        if ProcessInfo.processInfo.environment["KESTREL_WRITE_GOLDENS"] == "1" {
            try Safetensors.write(kestrelRecipe(), metadata: ["format": "pt"], to: golden)
        }
        let mine = try Safetensors.encode(kestrelRecipe(), metadata: ["format": "pt"])
        #expect(mine == Array(try Data(contentsOf: URL(fileURLWithPath: golden))))
    }

    @Test func roundTripsAModelExactly() throws {
        var rng = RandomSource(seed: 9)
        let a = Sequential(Conv2D(3, 4, kernel: 3, rng: &rng), BatchNorm2D(4), Linear(4, 2, rng: &rng))
        let b = Sequential(Conv2D(3, 4, kernel: 3, rng: &rng), BatchNorm2D(4), Linear(4, 2, rng: &rng))
        _ = (a.children[1].module as! BatchNorm2D)(Variable(Tensor.random([2, 4, 3, 3], seed: 1)))
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        try a.saveCheckpoint(to: path, metadata: ["epoch": "3"])
        #expect(try b.loadCheckpoint(from: path) == ["epoch": "3"])
        for (x, y) in zip(a.stateDict(), b.stateDict()) {
            #expect(x.name == y.name)
            #expect(x.tensor.isIdentical(to: y.tensor), "\(x.name)")
        }
    }

    @Test func mismatchesAreReportedAndLeaveTheModelUntouched() throws {
        var rng = RandomSource(seed: 2)
        let model = Sequential(Linear(3, 2, rng: &rng))
        let before = model.stateDict().map(\.tensor)
        #expect(throws: CheckpointError.self) { try model.load(stateDict: [("0.weight", Tensor.zeros([2, 3]))]) }
        #expect(throws: CheckpointError.self) {
            try model.load(stateDict: [("0.weight", Tensor.zeros([3, 2])), ("0.bias", Tensor.zeros([2]))])
        }
        for (x, y) in zip(before, model.stateDict().map(\.tensor)) { #expect(x.isIdentical(to: y)) }
        try model.load(stateDict: [("0.bias", Tensor.ones([2]))], strict: false)
        #expect(model.stateDict()[1].tensor.scalars == [1, 1])
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func damagedFilesAreErrorsNotCrashes(seed: UInt64) throws {
        let good = try Safetensors.encode(kestrelRecipe())
        var rng = RandomSource(seed: seed)
        for _ in 0..<200 {
            var bytes = good
            if rng.nextUnit() < 0.5 {
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            } else {
                for _ in 0..<4 { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            _ = try? Safetensors.decode(bytes)
        }
        #expect(throws: CheckpointError.self) { try Safetensors.decode([1, 2, 3]) }
        var huge = good
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: CheckpointError.self) { try Safetensors.decode(huge) }
    }
}

@Suite struct OpProfileTests {
    @Test func chargesForwardAndBackwardTimeToTheOpsThatRan() throws {
        var rng = RandomSource(seed: 3)
        let x = Variable(Tensor.uniform([2, 8, 12, 12], low: -1, high: 1, using: &rng))
        let w = Variable(Tensor.uniform([8, 8, 3, 3], low: -1, high: 1, using: &rng), requiresGrad: true)
        OpProfile.start()
        OpProfile.mark()
        let y = conv2d(x, weight: w, bias: nil, geometry: ConvGeometry(kernel: 3, padding: 1)).relu()
        (y + y).sum().backward()
        let entries = OpProfile.stop()
        // Other tests may record ops concurrently, so counts are lower bounds.
        let conv = try #require(entries.first { $0.name == "conv2d" })
        #expect(conv.calls >= 1 && conv.forwardSeconds > 0 && conv.backwardSeconds > 0)
        let relu = try #require(entries.first { $0.name == "relu" })
        #expect(relu.calls >= 1 && relu.backwardSeconds > 0)
        // y is used twice: its two gradients are summed.
        #expect(entries.contains { $0.name == "grad accumulate" && $0.backwardSeconds > 0 })
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.total >= $1.total }, "most expensive first")
    }
}
