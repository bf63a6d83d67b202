/// A model name that does not exist, or settings it cannot take.
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Every classifier Kestrel can build by name. Names follow torchvision where it has the model.
public enum ModelZoo {
    /// What the zoo knows about one architecture.
    public struct Entry: Sendable {
        public let name: String
        /// The input size the architecture was designed for (square).
        public let defaultInputSize: Int
        /// The smallest input it accepts.
        public let minimumInputSize: Int
        public let summary: String
    }

    public static let entries: [Entry] = [
        Entry(name: "simple_convnet", defaultInputSize: 28, minimumInputSize: 6,
              summary: "the curriculum's SimpleConvNet: conv 5x5 x30, ReLU, pool, affine 100, ReLU, affine"),
        Entry(name: "vgg_cifar", defaultInputSize: 32, minimumInputSize: 32, summary: "VGG-11 convolutions with batch norm, global pool, one linear layer"),
        Entry(name: "vgg16", defaultInputSize: 224, minimumInputSize: 32, summary: "torchvision vgg16"),
        Entry(name: "resnet18", defaultInputSize: 224, minimumInputSize: 32, summary: "torchvision resnet18"),
        Entry(name: "resnet34", defaultInputSize: 224, minimumInputSize: 32, summary: "torchvision resnet34"),
        Entry(name: "resnet50", defaultInputSize: 224, minimumInputSize: 32, summary: "torchvision resnet50"),
        Entry(name: "resnet20", defaultInputSize: 32, minimumInputSize: 8, summary: "CIFAR ResNet-20 (He et al. 2016), option A shortcuts"),
        Entry(name: "resnet56", defaultInputSize: 32, minimumInputSize: 8, summary: "CIFAR ResNet-56, option A shortcuts"),
        Entry(name: "mobilenet_v1", defaultInputSize: 224, minimumInputSize: 32, summary: "MobileNet V1, width 1.0"),
        Entry(name: "mobilenet_v2", defaultInputSize: 224, minimumInputSize: 32, summary: "torchvision mobilenet_v2"),
        Entry(name: "densenet121", defaultInputSize: 224, minimumInputSize: 32, summary: "torchvision densenet121"),
        Entry(name: "densenet_bc", defaultInputSize: 32, minimumInputSize: 8, summary: "DenseNet-BC depth 100, growth 12, for 32x32"),
    ]

    public static var names: [String] { entries.map(\.name) }

    public static func entry(_ name: String) throws(ModelError) -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw ModelError("unknown model '\(name)'; known: \(names.joined(separator: ", "))")
        }
        return e
    }

    /// Builds a freshly initialised classifier. `inputSize` is the square input side (needed by
    /// `simple_convnet`, checked against the others' minimum); initialisation draws from `seed`.
    public static func make(_ name: String, classes: Int, inputChannels: Int = 3, inputSize: Int? = nil,
                            seed: UInt64 = 0) throws(ModelError) -> any ImageClassifier {
        let e = try entry(name)
        let size = inputSize ?? e.defaultInputSize
        guard classes >= 1 else { throw ModelError("a classifier needs at least one class, got \(classes)") }
        guard inputChannels >= 1 else { throw ModelError("input channels must be positive") }
        guard size >= e.minimumInputSize else {
            throw ModelError("\(name) needs inputs of at least \(e.minimumInputSize)x\(e.minimumInputSize), got \(size)x\(size)")
        }
        var rng = RandomSource(seed: seed)
        switch name {
        case "simple_convnet":
            return SimpleConvNet(inputShape: (inputChannels, size, size), classes: classes, rng: &rng)
        case "vgg_cifar":
            return VGG(config: VGG.vgg11Config, batchNorm: true, imagenetHead: false, inputChannels: inputChannels,
                       classes: classes, rng: &rng)
        case "vgg16":
            return VGG(config: VGG.vgg16Config, batchNorm: false, imagenetHead: true, inputChannels: inputChannels,
                       classes: classes, rng: &rng)
        case "resnet18": return ResNet(.resnet18, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "resnet34": return ResNet(.resnet34, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "resnet50": return ResNet(.resnet50, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "resnet20": return CIFARResNet(depth: 20, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "resnet56": return CIFARResNet(depth: 56, classes: classes, inputChannels: inputChannels, rng: &rng)
        case "mobilenet_v1": return MobileNetV1(classes: classes, inputChannels: inputChannels, rng: &rng)
        case "mobilenet_v2": return MobileNetV2(classes: classes, inputChannels: inputChannels, rng: &rng)
        case "densenet121": return DenseNet(.densenet121, classes: classes, inputChannels: inputChannels, rng: &rng)
        default: return DenseNet(.bc(depth: 100, growth: 12), classes: classes, inputChannels: inputChannels, rng: &rng)
        }
    }
}
