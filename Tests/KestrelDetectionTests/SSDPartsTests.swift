import Foundation
import KestrelDetection
import KestrelGeometry
import KestrelNN
import Testing
import _KestrelTestSupport

@Suite struct DefaultBoxTests {
    struct Golden: Decodable {
        let count: Int
        let boxes: [Double]
    }

    @Test func ssd300MatchesTheNumpyConstruction() throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("detection/ssd300_priors.json"))))
        let config = DefaultBoxConfig.ssd300
        #expect(config.minSizes == [30, 60, 111, 162, 213, 264])
        #expect(config.maxSizes == [60, 111, 162, 213, 264, 315])
        let boxes = config.boxes()
        #expect(boxes.count == 8732 && config.count == 8732 && golden.count == 8732)
        var worst = 0.0
        for (i, b) in boxes.enumerated() {
            for (k, v) in [b.cx, b.cy, b.width, b.height].enumerated() { worst = max(worst, abs(v - golden.boxes[i * 4 + k])) }
        }
        #expect(worst < 1e-9)
    }
}

@Suite struct BoxCoderTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func encodeDecodeRoundTrip(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let coder = BoxCoder()
        for _ in 0..<200 {
            let d = BoxCXCYWH(cx: .random(in: 0...1, using: &rng), cy: .random(in: 0...1, using: &rng),
                              width: .random(in: 0.05...0.9, using: &rng), height: .random(in: 0.05...0.9, using: &rng))
            let g = BoxCXCYWH(cx: .random(in: 0...1, using: &rng), cy: .random(in: 0...1, using: &rng),
                              width: .random(in: 0.01...1, using: &rng), height: .random(in: 0.01...1, using: &rng))
            let back = coder.decode(coder.encode(g, relativeTo: d), relativeTo: d)
            #expect(abs(back.cx - g.cx) < 1e-12 && abs(back.width - g.width) < 1e-12 && abs(back.height - g.height) < 1e-12)
        }
    }

    @Test func encodingByHandAndClampedDecoding() {
        let coder = BoxCoder()
        let d = BoxCXCYWH(cx: 0.5, cy: 0.5, width: 0.2, height: 0.4)
        let t = coder.encode(BoxCXCYWH(cx: 0.52, cy: 0.46, width: 0.4, height: 0.4), relativeTo: d)
        #expect(abs(t.0 - 1.0) < 1e-12)  // 0.02 / (0.2·0.1)
        #expect(abs(t.1 - (-1.0)) < 1e-12)  // −0.04 / (0.4·0.1)
        #expect(abs(t.2 - log(2) / 0.2) < 1e-12 && abs(t.3) < 1e-12)
        let wild = coder.decode((0, 0, 1e6, 1e6), relativeTo: d)
        #expect(wild.width.isFinite && abs(wild.width - 0.2 * 1000 / 16) < 1e-9)
    }
}

@Suite struct MatcherTests {
    func box(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> BoxXYXY { BoxXYXY(x1: x1, y1: y1, x2: x2, y2: y2) }

    @Test func everyGroundTruthGetsItsOwnDefaultBox() {
        // Two ground truths whose best default box is the same one (index 0): the pair with the higher IoU keeps
        // it (gt 1, IoU 0.91) and gt 0 takes its next best free box (index 1, IoU 0.64).
        let defaults = [box(0, 0, 10, 10), box(5, 0, 14, 10), box(50, 50, 60, 60)]
        let gts = [box(0, 0, 14, 10), box(0, 0, 10, 11)]
        #expect(gts[0].iou(defaults[0]) > gts[0].iou(defaults[1]))
        #expect(gts[1].iou(defaults[0]) > gts[0].iou(defaults[0]))
        let m = Matcher(threshold: 0.5).match(groundTruth: gts, defaults: defaults)
        #expect(m == [1, 0, nil])
    }

    @Test func thresholdDecidesTheRest() {
        let defaults = [box(0, 0, 10, 10), box(1, 0, 11, 10), box(5, 0, 15, 10), box(40, 40, 50, 50)]
        let m = Matcher(threshold: 0.5).match(groundTruth: [box(0, 0, 10, 10)], defaults: defaults)
        // Box 0 is the bipartite match; box 1 (IoU 0.818) passes the threshold; box 2 (IoU 0.333) does not.
        #expect(m == [0, 0, nil, nil])
        #expect(Matcher().match(groundTruth: [], defaults: defaults) == [nil, nil, nil, nil])
    }
}

@Suite struct MultiBoxLossTests {
    func targets(seed: UInt64, n: Int, p: Int, classes: Int, positivesPerImage: [Int]) -> MultiBoxTargets {
        var rng = SeededRandom(seed: seed)
        var labels = [Int](repeating: 0, count: n * p)
        for img in 0..<n {
            for j in Array(0..<p).shuffled(using: &rng).prefix(positivesPerImage[img]) { labels[img * p + j] = Int.random(in: 1...classes, using: &rng) }
        }
        let offsets = (0..<(n * p * 4)).map { _ in Float.random(in: -2...2, using: &rng) }
        return MultiBoxTargets(labels: labels, offsets: offsets, images: n, defaults: p)
    }

    /// The literal definition in Double: positives + the 3·pos hardest negatives per image, over max(1, pos).
    func reference(_ conf: RefTensor, _ loc: RefTensor, _ t: MultiBoxTargets) -> Double {
        let (n, p, c) = (conf.shape[0], conf.shape[1], conf.shape[2])
        var total = 0.0, positives = 0
        for img in 0..<n {
            var terms: [(neg: Bool, background: Double, loss: Double, index: Int)] = []
            var pos = 0
            for j in 0..<p {
                let row = (0..<c).map { conf.data[(img * p + j) * c + $0] }
                let m = row.max()!
                let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
                let label = t.labels[img * p + j]
                terms.append((label == 0, lse - row[0], lse - row[label], j))
                if label > 0 {
                    pos += 1
                    for q in 0..<4 {
                        let d = abs(loc.data[(img * p + j) * 4 + q] - Double(t.offsets[(img * p + j) * 4 + q]))
                        total += d < 1 ? 0.5 * d * d : d - 0.5
                    }
                }
            }
            total += terms.filter { !$0.neg }.map(\.loss).reduce(0, +)
            let negs = terms.filter(\.neg).sorted { $0.background > $1.background || ($0.background == $1.background && $0.index < $1.index) }
            total += negs.prefix(min(3 * pos, negs.count)).map(\.loss).reduce(0, +)
            positives += pos
        }
        return total / Double(max(1, positives))
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func gradientsAndValueMatchTheReference(seed: UInt64) {
        let (n, p, c) = (2, 13, 4)
        let t = targets(seed: seed, n: n, p: p, classes: c - 1, positivesPerImage: [2, 0])
        let conf = Tensor.random([n, p, c], seed: seed, scale: 3), loc = Tensor.random([n, p, 4], seed: seed + 9, scale: 2)
        let failures = gradientCheck([conf, loc], seed: seed, { v in multiBoxLoss(confidences: v[0], offsets: v[1], targets: t).total },
                                     reference: { r in RefTensor(shape: [], data: [reference(r[0], r[1], t)]) })
        #expect(failures.isEmpty, "\(failures)")
        let result = multiBoxLoss(confidences: Variable(conf), offsets: Variable(loc), targets: t)
        #expect(result.positives == 2 && result.negatives == 6)  // 3 per positive; the image without positives adds none
    }

    @Test func noPositivesGiveNoNaN() {
        let t = MultiBoxTargets(labels: [Int](repeating: 0, count: 10), offsets: [Float](repeating: 0, count: 40), images: 2, defaults: 5)
        let r = multiBoxLoss(confidences: Variable(Tensor.random([2, 5, 3], seed: 1)), offsets: Variable(Tensor.zeros([2, 5, 4])), targets: t)
        #expect(r.total.value.item == 0)
        #expect(r.positives == 0 && r.negatives == 0)
    }
}

@Suite struct SSDModelTests {
    @Test func ssd300HasTorchvisionsShapeAndSize() throws {
        let ssd = try DetectorZoo.make("ssd300_vgg16", classes: 90)  // torchvision's COCO head: 91 scores
        #expect(ssd.parameterCount == 35_641_826)
        #expect(ssd.defaultBoxes.count == 8732)
        let names = ssd.namedParameters().map(\.name)
        #expect(names.contains("backbone.features.0.weight") && names.contains("backbone.scale_weight"))
        #expect(names.contains("backbone.extra.0.7.1.weight"))  // fc6 inside extra.0's fc block
        #expect(names.contains("head.classification_head.module_list.5.weight"))
        #expect(names.contains("head.regression_head.module_list.0.bias"))
    }

    @Test func mobileNetSSDOutputsOneRowPerDefaultBox() throws {
        let ssd = try DetectorZoo.make("ssd_mobilenet", classes: 4, inputSize: 128, width: 0.5)
        #expect(ssd.boxConfig.featureMapSizes == [16, 8, 4, 2, 1])
        let out = GradMode.withoutGradients { ssd.predict(Variable(Tensor.random([2, 3, 128, 128], seed: 1))) }
        #expect(out.scores.shape == [2, ssd.defaultBoxes.count, 5])
        #expect(out.offsets.shape == [2, ssd.defaultBoxes.count, 4])
        #expect(throws: ModelError.self) { try DetectorZoo.make("ssd_mobilenet", classes: 4, inputSize: 100) }
    }
}
