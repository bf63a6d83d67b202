import KestrelModels
import Testing
import _KestrelTestSupport

/// Every model must be able to drive the training loss of a handful of images to near zero: the whole
/// forward/backward/update path works for its architecture (a broken gradient anywhere stops this).
@Suite struct OverfitTests {
    /// VGG-16 (138M parameters, no batch norm, 4096-unit dropout head) barely moves in a few dozen steps from
    /// torchvision's initialisation, and a step costs ~0.5 s here: its code path (the `VGG` class) is overfitted
    /// through `vgg_cifar`, and `vgg16` itself is covered by the parameter-count, key and forward-shape tests.
    static let models = ModelZoo.names.filter { $0 != "vgg16" }

    @Test(arguments: models)
    func overfitsAHandfulOfImages(_ name: String) throws {
        let e = try ModelZoo.entry(name)
        let size = max(e.minimumInputSize, 16)
        let model = try ModelZoo.make(name, classes: 4, inputSize: size, seed: 3)
        let x = Variable(Tensor.random([4, 3, size, size], seed: 4))
        let targets = [0, 1, 2, 3]
        let optimizer = try Optimizer(model.namedParameters(), rule: Adam(), learningRate: 0.005)
        var first: Float = 0, last: Float = 0
        let steps = 20
        for step in 0..<steps {
            optimizer.zeroGrad()
            let loss = crossEntropyLoss(model(x), targets: targets)
            loss.backward()
            optimizer.step()
            if step == 0 { first = loss.value.item }
            last = loss.value.item
        }
        #expect(last < 0.1 * first, "\(name): loss \(first) → \(last) in \(steps) steps")
        let predictions = GradMode.withoutGradients { model(x).value.argmax(alongAxis: 1) }
        #expect(predictions == targets, "\(name)")
    }
}

