import Foundation
import KestrelModels
import Testing
import _KestrelTestSupport

/// Weights written by Python (tools/make_model_goldens.py: numpy + safetensors, torchvision key names) load into
/// Kestrel's models, and the forward pass equals the script's independent numpy implementation.
@Suite struct WeightInteropTests {
    struct Golden: Decodable {
        let input_shape: [Int]
        let input: [Float]
        let logits: [Double]
    }

    func check(_ name: String, model: any ImageClassifier) throws {
        let golden = try JSONDecoder().decode(
            Golden.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/\(name).json"))))
        try model.loadCheckpoint(from: Fixtures.path("models/\(name).safetensors"))
        model.eval()
        let x = Variable(Tensor(shape: Shape(golden.input_shape), scalars: golden.input))
        let logits = GradMode.withoutGradients { model(x) }.value.scalars
        let c = closeness(logits, golden.logits, atol: 2e-3, rtol: 2e-3)
        #expect(c.ok, "\(name): \(c.message)")
    }

    @Test func resnet20() throws {
        try check("resnet20", model: try ModelZoo.make("resnet20", classes: 10))
    }

    @Test func mobilenetV2() throws {
        var rng = RandomSource(seed: 0)
        try check("mobilenet_v2", model: MobileNetV2(classes: 10, width: 0.35, rng: &rng))
    }

    @Test func strictLoadingNamesWhatIsMissing() throws {
        let model = try ModelZoo.make("resnet56", classes: 10)
        do {
            try model.loadCheckpoint(from: Fixtures.path("models/resnet20.safetensors"))
            Issue.record("a ResNet-20 checkpoint loaded into ResNet-56")
        } catch {
            #expect(error.description.contains("missing layer1.3"))
            #expect(error.path == Fixtures.path("models/resnet20.safetensors"))
        }
    }
}
