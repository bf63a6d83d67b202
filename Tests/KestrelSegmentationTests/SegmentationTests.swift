import Foundation
import KestrelMetrics
import KestrelSegmentation
import Testing
import _KestrelTestSupport

@Suite struct UpsamplingTests {
    @Test(arguments: [3, 4, 15, 16, 32, 64])
    func bilinearKernelEqualsTheReference(size: Int) throws {
        let golden = try JSONDecoder().decode([String: [Double]].self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("segmentation/bilinear_kernels.json"))))
        let expected = try #require(golden[String(size)])
        #expect(closeness(bilinearKernel(size: size), expected, atol: 1e-7, rtol: 0).ok)
    }

    @Test func referenceOffsetsAreDerived() {
        // The offsets hard-coded in fcn.berkeleyvision.org's nets, derived here from the layers.
        let o32 = FCNVGG.referenceOffsets(.fcn32s), o16 = FCNVGG.referenceOffsets(.fcn16s), o8 = FCNVGG.referenceOffsets(.fcn8s)
        #expect(o32.final == 19)
        #expect(o16.pool4 == 5 && o16.final == 27)
        #expect(o8.pool4 == 5 && o8.pool3 == 9 && o8.final == 31)
    }

    @Test(arguments: [2, 8])
    func latticeUpsamplingIsExactLinearInterpolation(factor f: Int) {
        // A linear function sampled on the coarse lattice (cell i at fine pixel f·i) comes back exactly on
        // every fine pixel between lattice points.
        let (n, m) = (5, 4)
        let coarse = Tensor(shape: [1, 1, n, m], scalars: (0..<(n * m)).map { Float(3 * ($0 / m) + 2 * ($0 % m) + 1) })
        let up = BilinearUpsample(channels: 1, factor: f, alignment: .lattice, learnable: false)
        let y = GradMode.withoutGradients { up(Variable(coarse)) }.value
        #expect(y.shape == [1, 1, n * f, m * f])
        for r in 0..<((n - 1) * f + 1) {
            for c in 0..<((m - 1) * f + 1) {
                let expected = 3 * Double(r) / Double(f) + 2 * Double(c) / Double(f) + 1
                #expect(abs(Double(y[0, 0, r, c]) - expected) < 1e-5, "(\(r), \(c))")
            }
        }
    }
}

@Suite struct SegmentationModelTests {
    @Test(arguments: [(37, 45), (64, 48), (33, 33)])
    func headModelsKeepTheInputSize(_ h: Int, _ w: Int) {
        var rng = RandomSource(seed: 1)
        let models: [any Segmenter] = [
            FCNHeadModel(backbone: ResNetSegmentationBackbone(dilated: false, rng: &rng), classes: 5, rng: &rng),
            FCNHeadModel(backbone: ResNetSegmentationBackbone(dilated: true, rng: &rng), classes: 5, dilated: true, rng: &rng),
            FCNHeadModel(backbone: MobileNetSegmentationBackbone(width: 0.5, rng: &rng), classes: 5, rng: &rng),
            FCNHeadModel(backbone: SmallSegmentationBackbone(width: 0.5, rng: &rng), classes: 5, rng: &rng),
        ]
        for m in models {
            m.eval()
            let y = GradMode.withoutGradients { m(Variable(Tensor.random([1, 3, h, w], seed: 2))) }
            #expect(y.shape == [1, 5, h, w])
        }
    }

    @Test func fcn8sVGGKeepsOddInputSizes() {
        var rng = RandomSource(seed: 1)
        let m = FCNVGG(.fcn8s, classes: 3, rng: &rng)
        m.eval()
        for (h, w) in [(37, 41), (50, 31)] {
            let y = GradMode.withoutGradients { m(Variable(Tensor.random([1, 3, h, w], seed: 3))) }
            #expect(y.shape == [1, 3, h, w])
        }
        #expect(m.namedParameters().map(\.name).contains("score_pool3.weight"))
        #expect(m.namedParameters().first { $0.name == "upscore8.weight" }?.parameter.isFrozen == true)
    }
}

@Suite struct SegmentationMetricTests {
    struct Case: Decodable {
        let classes: Int
        let truth: [Int]
        let prediction: [Int]
        let confusion: [[Int]]
        let pixel_accuracy: Double
        let mean_class_accuracy: Double
        let mean_iu: Double
        let frequency_weighted_iu: Double
        let per_class_iu: [Double?]
    }

    @Test func equalTheReferenceScores() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("segmentation/segmentation_metrics.json"))))
        #expect(cases.count == 3)
        for c in cases {
            var m = SegmentationConfusion(classes: c.classes)
            m.add(truth: c.truth.map { UInt8($0) }, prediction: c.prediction.map { UInt8($0) })
            #expect(m.counts == c.confusion)
            #expect(abs(m.pixelAccuracy - c.pixel_accuracy) < 1e-12)
            #expect(abs(m.meanClassAccuracy - c.mean_class_accuracy) < 1e-12)
            #expect(abs(m.meanIoU - c.mean_iu) < 1e-12)
            #expect(abs(m.frequencyWeightedIoU - c.frequency_weighted_iu) < 1e-12)
            for (a, b) in zip(m.iou, c.per_class_iu) {
                #expect((a == nil) == (b == nil))
                if let a, let b { #expect(abs(a - b) < 1e-12) }
            }
        }
    }
}
