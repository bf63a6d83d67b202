import KestrelNN
import Testing
import _KestrelTestSupport

/// conv → batch norm → activation folded into one convolution for inference (``convBatchNorm``), and
/// Sequential's use of it: the same values as the three layers run one after another, and the unfused path
/// whenever a gradient is wanted or the batch norm is training.
@Suite struct FusedConvBatchNormTests {
    /// A conv (with or without bias, grouped or not) and a batch norm with non-trivial running statistics.
    func layers(cin: Int, cout: Int, groups: Int, bias: Bool, seed: UInt64) -> (Conv2D, BatchNorm2D) {
        var rng = RandomSource(seed: seed)
        let conv = Conv2D(cin, cout, kernel: 3, stride: 1, padding: 1, groups: groups, bias: bias, rng: &rng)
        let bn = BatchNorm2D(cout)
        bn.weight.value = Tensor.random([cout], seed: seed + 1)
        bn.bias.value = Tensor.random([cout], seed: seed + 2)
        bn.runningMean.value = Tensor.random([cout], seed: seed + 3, scale: 0.3)
        bn.runningVar.value = Tensor.random([cout], seed: seed + 4).map { 0.5 + $0 * $0 }
        bn.eval()
        return (conv, bn)
    }

    @Test(arguments: [(8, 40, 1, false), (6, 5, 1, true), (12, 12, 12, false), (16, 32, 2, true)])
    func fusedInferenceEqualsTheLayersInTurn(_ cin: Int, _ cout: Int, _ groups: Int, _ bias: Bool) {
        let (conv, bn) = layers(cin: cin, cout: cout, groups: groups, bias: bias, seed: 50)
        let x = Variable(Tensor.random([2, cin, 9, 7], seed: 51))
        for activation in [nil, Activation.Kind.relu, .relu6] {
            let unfused: Tensor = {
                let y = bn(conv(x))
                return (activation.map { Activation($0)(y) } ?? y).value
            }()
            let fused = GradMode.withoutGradients { convBatchNorm(x, conv, bn, activation: activation) }.value
            let check = closeness(fused.scalars, unfused.scalars.map(Double.init), atol: 1e-5, rtol: 1e-5)
            #expect(check.ok, "\(String(describing: activation)): \(check.message)")
        }
    }

    @Test(arguments: [(8, 40, 1, false), (16, 32, 2, true)])
    func residualFoldsIntoTheConvolutionInInference(_ cin: Int, _ cout: Int, _ groups: Int, _ bias: Bool) {
        // act(bn(conv(x)) + r), a ResNet block's end: fused in inference, the ops in turn when a gradient is
        // wanted (then the gradient reaches the residual too).
        let (conv, bn) = layers(cin: cin, cout: cout, groups: groups, bias: bias, seed: 55)
        let x = Variable(Tensor.random([2, cin, 9, 7], seed: 56))
        let r = Variable(Tensor.random([2, cout, 9, 7], seed: 57), requiresGrad: true)
        for activation in [nil, Activation.Kind.relu, .relu6] {
            let sum = bn(conv(x)) + r
            let unfused = (activation.map { Activation($0)(sum) } ?? sum).value
            let fused = GradMode.withoutGradients { convBatchNorm(x, conv, bn, activation: activation, residual: r) }.value
            let check = closeness(fused.scalars, unfused.scalars.map(Double.init), atol: 1e-5, rtol: 1e-5)
            #expect(check.ok, "\(String(describing: activation)): \(check.message)")
            let traced = convBatchNorm(x, conv, bn, activation: activation, residual: r)
            #expect(closeness(traced.value.scalars, unfused.scalars.map(Double.init), atol: 1e-5, rtol: 1e-5).ok)
            r.grad = nil
            traced.sum().backward()
            #expect(r.grad != nil, "\(String(describing: activation)): no gradient for the residual")
        }
    }

    @Test func trainingResidualIsOneBatchNormOpWithTheSameValues() {
        // In training, bn(z) + r → ReLU runs as one batch-norm op: the same bits as the batch norm and addReLU in
        // turn, and the same gradients for x and the residual.
        let (conv, bn) = layers(cin: 8, cout: 16, groups: 1, bias: false, seed: 95)
        bn.train()
        let x = Variable(Tensor.random([3, 8, 7, 9], seed: 96), requiresGrad: true)
        let r = Variable(Tensor.random([3, 16, 7, 9], seed: 97), requiresGrad: true)
        let fused = convBatchNorm(x, conv, bn, activation: .relu, residual: r)
        fused.sum().backward()
        let (gx, gr) = (x.grad!, r.grad!)
        x.grad = nil
        r.grad = nil
        let separate = addReLU(bn(conv(x)), r)
        separate.sum().backward()
        #expect(fused.value.isIdentical(to: separate.value))
        #expect(closeness(gx.scalars, x.grad!.scalars.map(Double.init), atol: 1e-5, rtol: 1e-5).ok)
        #expect(gr.isIdentical(to: r.grad!))
    }

    @Test func sequentialAddsAResidualToItsOutput() {
        // Ending in conv → batch norm (MobileNet V2's projection): folded into the convolution in inference.
        // Ending in an activation: added after it, as `forward(x) + residual`.
        let (conv, bn) = layers(cin: 8, cout: 8, groups: 1, bias: false, seed: 90)
        let x = Variable(Tensor.random([2, 8, 6, 6], seed: 91))
        for seq in [Sequential(conv, bn), Sequential(conv, bn, Activation(.relu6))] {
            seq.eval()
            let want = (seq(x) + x).value
            let got = GradMode.withoutGradients { seq.forward(x, residual: x) }.value
            #expect(closeness(got.scalars, want.scalars.map(Double.init), atol: 1e-5, rtol: 1e-5).ok)
        }
    }

    @Test func sequentialFusesConvBatchNormActivationInInference() {
        let (conv, bn) = layers(cin: 8, cout: 16, groups: 1, bias: false, seed: 60)
        let seq = Sequential(conv, bn, Activation(.relu6), Activation(.sigmoid))
        seq.eval()
        let x = Variable(Tensor.random([1, 8, 6, 6], seed: 61, scale: 3))
        let unfused = bn(conv(x)).relu6().sigmoid().value
        let fused = GradMode.withoutGradients { seq(x) }.value
        #expect(closeness(fused.scalars, unfused.scalars.map(Double.init), atol: 1e-6, rtol: 1e-5).ok)
        // With gradients on, Sequential runs the layers in turn: a gradient reaches the conv's weight.
        let xg = Variable(x.value, requiresGrad: true)
        seq(xg).sum().backward()
        #expect(conv.weight.variable.grad != nil && xg.grad != nil)
    }

    @Test func sequentialFusesConvActivationWithoutBatchNorm() {
        // VGG's conv → ReLU (bias folded into the epilogue's shift), then a conv with no activation.
        var rng = RandomSource(seed: 80)
        let conv1 = Conv2D(6, 12, kernel: 3, padding: 1, rng: &rng), conv2 = Conv2D(12, 9, kernel: 3, padding: 1, rng: &rng)
        let conv3 = Conv2D(9, 5, kernel: 1, rng: &rng)
        let seq = Sequential(conv1, ReLU(), conv2, ReLU6(), conv3)
        let x = Variable(Tensor.random([2, 6, 7, 7], seed: 81, scale: 4))
        let unfused = conv3(conv2(conv1(x).relu()).relu6()).value
        let fused = GradMode.withoutGradients { seq(x) }.value
        #expect(closeness(fused.scalars, unfused.scalars.map(Double.init), atol: 1e-5, rtol: 1e-5).ok)
    }

    @Test func trainingModeIsNotFused() {
        // In training the batch norm normalises with the batch's statistics and updates its running ones.
        let (conv, bn) = layers(cin: 4, cout: 8, groups: 1, bias: false, seed: 70)
        bn.train()
        let x = Variable(Tensor.random([3, 4, 5, 5], seed: 71))
        let before = bn.runningMean.value
        let y = GradMode.withoutGradients { convBatchNorm(x, conv, bn, activation: .relu) }.value
        #expect(!bn.runningMean.value.isIdentical(to: before))
        // Per channel, the batch-normalised output before the ReLU has mean β: with β = 0 and γ = 1, the ReLU
        // output is not the running-statistics inference output.
        bn.eval()
        let inference = GradMode.withoutGradients { convBatchNorm(x, conv, bn, activation: .relu) }.value
        #expect(!y.isIdentical(to: inference))
    }
}
