import KestrelNN
import Testing
import _KestrelTestSupport

@Suite struct IntegrationTests {
    /// A small conv net forward + backward with Kestrel's own GEMM: gradients are bit-identical for 1 and 2
    /// threads and across runs.
    @Test func gradientsAreThreadCountIndependent() {
        func run(threads: Int) -> [Tensor] {
            Compute.withThreads(threads) {
                Compute.withGEMM(PortableGEMM()) {
                    var rng = RandomSource(seed: 5)
                    let net = Sequential(
                        Conv2D(3, 8, kernel: 3, padding: 1, rng: &rng), BatchNorm2D(8), ReLU(),
                        MaxPool2D(kernel: 2), Conv2D(8, 4, kernel: 3, stride: 2, padding: 1, groups: 4, rng: &rng),
                        GlobalAvgPool2D(), Flatten(), Linear(4, 3, rng: &rng))
                    let x = Variable(Tensor.random([4, 3, 12, 12], seed: 6))
                    crossEntropyLoss(net(x), targets: [0, 1, 2, 1]).backward()
                    return net.parameters.map { $0.grad! }
                }
            }
        }
        let a = run(threads: 1), b = run(threads: 2), c = run(threads: 2)
        for (x, (y, z)) in zip(a, zip(b, c)) {
            #expect(x.isIdentical(to: y))
            #expect(y.isIdentical(to: z))
        }
    }

    /// The stack learns: an MLP fits XOR with Adam in a few hundred steps.
    @Test func mlpLearnsXOR() throws {
        var rng = RandomSource(seed: 1)
        let net = Sequential(Linear(2, 8, rng: &rng), Activation(.tanh), Linear(8, 2, rng: &rng))
        let opt = try Optimizer(net.namedParameters(), rule: Adam(), learningRate: 0.05)
        let x = Variable(Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]))
        let y = [0, 1, 1, 0]
        var loss: Float = 0
        for _ in 0..<300 {
            opt.zeroGrad()
            let l = crossEntropyLoss(net(x), targets: y)
            l.backward()
            opt.step()
            loss = l.value.item
        }
        #expect(loss < 0.05)
        let predictions = GradMode.withoutGradients { net(x).value.argmax(alongAxis: 1) }
        #expect(predictions == y)
    }
}
