import Foundation
import KestrelAugment
import KestrelData
import KestrelImage
import KestrelSegmentation
import KestrelTraining
import Testing
import _KestrelTestSupport

@Suite struct SegNetTests {
    @Test func paperParameterCount() throws {
        // Badrinarayanan et al. (2017), Table 6: SegNet has 29.5M trainable parameters (CamVid, 11 classes):
        // VGG-16's 13 convolutions, their mirror in the decoder, and batch norm.
        let m = try SegmentationZoo.make("segnet_vgg16", classes: 11)
        #expect(m.parameterCount == 29_449_355)
        let names = Set(m.namedParameters().map(\.name))
        for key in ["conv1_1.weight", "conv1_1_bn.weight", "conv5_3_D.weight", "conv5_3_D_bn.bias", "conv1_2_D_bn.weight", "conv1_1_D.bias"] {
            #expect(names.contains(key), "\(key)")
        }
        #expect(!names.contains("conv1_1_D_bn.weight"))  // the score layer has no batch norm
    }

    @Test func unpoolingPutsValuesBackWhereTheMaximaWere() {
        // One encoder block: the decoder's input is the pooled map scattered back to the argmax positions, so
        // with identity-like layers the output is non-zero only where a 2×2 window had its maximum.
        var rng = RandomSource(seed: 3)
        let x = Variable(Tensor.uniform([1, 2, 5, 7], low: -1, high: 1, using: &rng))
        let r = maxPool2d(x, geometry: ConvGeometry(kernel: 2, stride: 2), ceilMode: true, indices: true)
        #expect(r.output.shape == [1, 2, 3, 4])
        let up = maxUnpool2d(r.output, indices: r.indices, outputSize: (5, 7)).value
        for c in 0..<2 {
            for i in 0..<3 {
                for j in 0..<4 {
                    // The window's maximum sits at its argmax; the other cells of the window are 0.
                    var best = -Float.infinity
                    var at = (0, 0)
                    for y in (2 * i)..<min(2 * i + 2, 5) {
                        for xx in (2 * j)..<min(2 * j + 2, 7) where x.value[0, c, y, xx] > best {
                            best = x.value[0, c, y, xx]
                            at = (y, xx)
                        }
                    }
                    for y in (2 * i)..<min(2 * i + 2, 5) {
                        for xx in (2 * j)..<min(2 * j + 2, 7) {
                            #expect(up[0, c, y, xx] == ((y, xx) == at ? best : 0))
                        }
                    }
                }
            }
        }
    }
}

@Suite struct SegmentationZooTests {
    @Test(arguments: ["fcn8s_resnet18", "fcn8s_mobilenet", "dilated_resnet18", "segnet_small", "fcn2s_small"])
    func keepsOddInputSizes(_ name: String) throws {
        let m = try SegmentationZoo.make(name, classes: 4)
        m.eval()
        for (h, w) in [(37, 45), (33, 20)] {
            let y = GradMode.withoutGradients { m(Variable(Tensor.random([1, 3, h, w], seed: 5))) }
            #expect(y.shape == [1, 4, h, w])
        }
    }

    @Test func headLayersAreNamedByStride() throws {
        let names = { (model: String) in
            Set(try SegmentationZoo.make(model, classes: 3).namedParameters().map(\.name).filter { !$0.hasPrefix("backbone.") })
        }
        #expect(try names("fcn8s_resnet18") == Set(["score32", "score16", "score8"].flatMap { [$0 + ".weight", $0 + ".bias"] }
            + ["up32.weight", "up16.weight", "up8.weight"]))
        #expect(try names("fcn2s_small") == Set(["score32", "score16", "score8", "score4", "score2"].flatMap { [$0 + ".weight", $0 + ".bias"] }
            + ["up32.weight", "up16.weight", "up8.weight", "up4.weight", "up2.weight"]))
    }

    /// Fits one 32×32 image's label map: a memorisation test, with the ×2 steps of the FCN-2s head in the way.
    @Test func fcn2sSmallFitsOneLabelMap() throws {
        let m = try SegmentationZoo.make("fcn2s_small", classes: 3)
        m.train()
        var rng = RandomSource(seed: 4)
        let x = Variable(Tensor.uniform([1, 3, 32, 32], low: -1, high: 1, using: &rng))
        // A disc (class 1) and a bar (class 2) on background.
        let targets = (0..<(32 * 32)).map { i -> Int in
            let (r, c) = (i / 32, i % 32)
            if (r - 10) * (r - 10) + (c - 12) * (c - 12) < 36 { return 1 }
            return r >= 22 && r < 27 && c >= 4 && c < 28 ? 2 : 0
        }
        let optimizer = try Optimizer(m.namedParameters(), rule: try Adam(), learningRate: 0.01)
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            optimizer.zeroGrad()
            let loss = crossEntropyLoss(m(x), targets: targets)
            if step == 0 { first = loss.value.scalars[0] }
            last = loss.value.scalars[0]
            loss.backward()
            optimizer.step()
        }
        // Still in training mode (batch statistics): the running statistics lag 60 fast-moving steps.
        let y = GradMode.withoutGradients { m(x) }.value
        var correct = 0
        for i in 0..<(32 * 32) {
            let scores = (0..<3).map { y[0, $0, i / 32, i % 32] }
            if scores.indices.max(by: { scores[$0] < scores[$1] }) == targets[i] { correct += 1 }
        }
        #expect(last < first / 5, "loss \(first) → \(last)")
        #expect(correct >= 32 * 32 * 95 / 100, "\(correct) of 1024 pixels")
    }

    @Test func segnetGradientsReachTheFirstLayer() throws {
        let m = try SegmentationZoo.make("segnet_small", classes: 3)
        m.train()
        let x = Variable(Tensor.random([2, 3, 17, 19], seed: 9))
        let targets = (0..<(2 * 17 * 19)).map { $0 % 7 == 0 ? 255 : $0 % 3 }
        crossEntropyLoss(m(x), targets: targets, options: CrossEntropyOptions(ignoreIndex: 255)).backward()
        let g = try #require(m.namedParameters().first { $0.name == "conv1_1.weight" }?.parameter.variable.grad)
        #expect(g.scalars.contains { $0 != 0 })
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: ModelError.self) { try SegmentationZoo.make("fcn4s", classes: 3) }
        #expect(throws: ModelError.self) { try SegmentationZoo.make("segnet_small", classes: 1) }
    }
}

@Suite struct LabelMapTests {
    @Test(arguments: [(5, 7, 13, 11), (16, 16, 128, 128), (9, 6, 4, 3), (8, 8, 8, 8)])
    func resizedArgmaxEqualsUpsamplingThenArgmax(h: Int, w: Int, oh: Int, ow: Int) {
        // Independent path: KestrelNN's bilinear upsample2d (align_corners = false), then argmax over classes.
        let scores = Tensor.random([2, 5, h, w], seed: UInt64(h * 31 + ow), scale: 3)
        let reference = upsample2d(Variable(scores), height: oh, width: ow, mode: .bilinear(alignCorners: false)).value
        let classes = reference.argmax(alongAxis: 1)
        for n in 0..<2 {
            let labels = LabelMaps.resizedArgmax(scores, sample: n, height: oh, width: ow)
            #expect(labels.width == ow && labels.height == oh)
            let expected = classes[(n * oh * ow)..<((n + 1) * oh * ow)].map { UInt8($0) }
            let wrong = zip(labels.pixels, expected).filter { $0 != $1 }.count
            #expect(wrong == 0, "\(wrong) pixels differ")
        }
    }

    @Test func nearestResizeUsesPixelCentres() throws {
        let labels = try Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5])
        // 3 → 6 columns: each column twice; 2 → 1 row: source row ⌊0.5·2⌋ = 1.
        let r = LabelMaps.resizedNearest(labels, width: 6, height: 1)
        #expect(r.pixels == [3, 3, 4, 4, 5, 5])
    }

    @Test func overlayBlendsOnlyClassPixels() throws {
        let photo = try Image(width: 3, height: 1, channels: 3, pixels: [100, 100, 100, 100, 100, 100, 0, 255, 9])
        let labels = try Image(width: 3, height: 1, channels: 1, pixels: [0, 255, 1])
        let o = LabelMaps.overlay(photo, labels: labels, alpha: 0.25)
        // Class 1 is VOC (128, 0, 0): 0.75·(0, 255, 9) + 0.25·(128, 0, 0) = (32, 191.25, 6.75).
        #expect(o.pixels == [100, 100, 100, 100, 100, 100, 32, 191, 7])
    }
}

@Suite struct SegmentationPreparationTests {
    /// An image whose every channel is 40·label + 10, so any misalignment between image and mask shows.
    static func pair(_ w: Int, _ h: Int) throws -> (Image, Image) {
        var rng = SeededRandom(seed: 4)
        let labels = (0..<(w * h)).map { _ in UInt8(rng.next() % 4) }
        let rgb = labels.flatMap { l -> [UInt8] in let v = 40 * l + 10; return [v, v, v] }
        return (try Image(width: w, height: h, channels: 3, pixels: rgb), try Image(width: w, height: h, channels: 1, pixels: labels))
    }

    @Test func masksMoveWithThePixels() throws {
        let pipeline = """
            {"transforms": [{"name": "vflip", "p": 0.5}, {"name": "rot90"}, {"name": "random_crop", "width": 20, "height": 20}]}
            """
        let config = TrainingConfig(model: "segnet_small", classes: ["a", "b", "c", "d"],
                                    normalization: ImageNormalization(channels: 3, height: 20, width: 20, mean: [0, 0, 0], std: [1, 1, 1]),
                                    horizontalFlip: true, segmentation: SegmentationSettings(augmentation: pipeline))
        let (train, eval) = try SegmentationPreparations.make(config)
        let (image, mask) = try Self.pair(32, 27)
        var outputs: Set<[UInt8]> = []
        for index in 0..<12 {
            let (i, m) = try train(image, mask, 5, index)
            #expect(i.width == 20 && i.height == 20 && m.width == 20 && m.height == 20)
            for p in 0..<(20 * 20) {
                #expect(m.pixels[p] == 255 || i.pixels[3 * p] == 40 * m.pixels[p] + 10)
            }
            let again = try train(image, mask, 5, index)
            #expect(again.image == i && again.mask == m)
            outputs.insert(m.pixels)
        }
        #expect(outputs.count > 6)  // the random parameters do vary with the index
        // Evaluation resizes the image only; the mask keeps its own size for scoring.
        let (ei, em) = try eval(image, mask, 0, 0)
        #expect(ei.width == 20 && ei.height == 20 && em == mask)
    }

    @Test func aBadPipelineIsAnError() {
        let config = TrainingConfig(model: "segnet_small", classes: ["a", "b"], normalization: .centered(channels: 3, size: 8),
                                    segmentation: SegmentationSettings(augmentation: #"{"transforms": [{"name": "nope"}]}"#))
        #expect(throws: TrainingError.self) { try SegmentationPreparations.make(config) }
    }
}
