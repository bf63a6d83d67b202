import KestrelModels
import Testing
import _KestrelTestSupport

@Suite struct ModelZooTests {
    /// torchvision's published parameter counts (1000 classes).
    @Test(arguments: [("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032),
                      ("mobilenet_v2", 3_504_872), ("densenet121", 7_978_856), ("vgg16", 138_357_544)])
    func parameterCountsEqualTorchvision(_ name: String, _ count: Int) throws {
        let model = try ModelZoo.make(name, classes: 1000)
        #expect(model.parameterCount == count)
    }

    @Test func parameterCountsOfTheSmallModels() throws {
        // CIFAR ResNet-20 with option-A shortcuts: 0.27M in He et al. 2016, Table 6.
        #expect(try ModelZoo.make("resnet20", classes: 10).parameterCount == 269_722)
        // MobileNet V1, width 1: 4.2M in Howard et al. 2017, Table 8.
        let v1 = try ModelZoo.make("mobilenet_v1", classes: 1000).parameterCount
        #expect(v1 == 4_231_976)
        // DenseNet-BC (k = 12, depth 100): 0.8M in Huang et al. 2017, Table 2.
        let bc = try ModelZoo.make("densenet_bc", classes: 10).parameterCount
        #expect((760_000...800_000).contains(bc))
    }

    @Test func stateDictKeysFollowTorchvision() throws {
        let r18 = try ModelZoo.make("resnet18", classes: 10).namedParameters().map(\.name)
        #expect(r18.prefix(3) == ["conv1.weight", "bn1.weight", "bn1.bias"])
        #expect(r18.contains("layer2.0.downsample.0.weight") && r18.contains("layer4.1.bn2.bias"))
        #expect(r18.last == "fc.bias")
        let r50 = try ModelZoo.make("resnet50", classes: 10).namedBuffers().map(\.name)
        #expect(r50.contains("layer3.5.bn3.running_var") && r50.contains("layer1.0.downsample.1.num_batches_tracked"))
        let mv2 = try ModelZoo.make("mobilenet_v2", classes: 10).namedParameters().map(\.name)
        #expect(mv2.first == "features.0.0.weight")
        #expect(mv2.contains("features.1.conv.0.0.weight") && mv2.contains("features.1.conv.1.weight"))  // t = 1: no expansion
        #expect(mv2.contains("features.2.conv.0.0.weight") && mv2.contains("features.2.conv.3.bias"))
        #expect(mv2.contains("features.18.1.weight") && mv2.last == "classifier.1.bias")
        let d121 = try ModelZoo.make("densenet121", classes: 10).namedParameters().map(\.name)
        #expect(d121.first == "features.conv0.weight")
        #expect(d121.contains("features.denseblock3.denselayer24.conv2.weight"))
        #expect(d121.contains("features.transition2.conv.weight") && d121.contains("features.norm5.bias"))
        #expect(d121.last == "classifier.bias")
        let vgg = try ModelZoo.make("vgg16", classes: 10).namedParameters().map(\.name)
        #expect(vgg.contains("features.28.weight") && vgg.contains("classifier.6.weight"))
    }

    @Test(arguments: ModelZoo.names)
    func forwardShape(_ name: String) throws {
        let e = try ModelZoo.entry(name)
        let size = min(e.defaultInputSize, 64)
        let model = try ModelZoo.make(name, classes: 7, inputSize: size, seed: 1)
        model.eval()
        let y = GradMode.withoutGradients { model(Variable(Tensor.random([2, 3, size, size], seed: 2))) }
        #expect(y.shape == [2, 7])
        #expect(y.value.scalars.allSatisfy { $0.isFinite })
    }

    @Test func badNamesAndSizesAreErrors() {
        #expect(throws: ModelError.self) { try ModelZoo.make("resnet19", classes: 10) }
        #expect(throws: ModelError.self) { try ModelZoo.make("resnet18", classes: 10, inputSize: 16) }
        #expect(throws: ModelError.self) { try ModelZoo.make("resnet20", classes: 0) }
    }
}

@Suite struct ModeTests {
    @Test(arguments: ModelZoo.names)
    func evalReachesEveryModule(_ name: String) throws {
        let model = try ModelZoo.make(name, classes: 3, inputSize: 32)
        model.eval()
        var training = 0
        model.visit { _, m in if m.isTraining { training += 1 } }
        #expect(training == 0)
        model.train()
        model.visit { _, m in if !m.isTraining { training += 1 } }
        #expect(training == 0)
    }
}
