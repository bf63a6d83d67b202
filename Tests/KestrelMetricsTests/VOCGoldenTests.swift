import KestrelAnnotations
import KestrelMetrics
import Testing
import _KestrelTestSupport

/// VOC07 / VOC12 AP against tools/make_eval_goldens.py's numpy implementation of py-faster-rcnn's voc_eval.
@Suite struct VOCGoldenTests {
    static let cases = Goldens.shared.voc.keys.sorted()

    @Test(arguments: cases)
    func equalsVocEval(key: String) throws {
        let golden = Goldens.shared.voc[key]!
        var p = VOCEvalParameters()
        p.interpolation = golden.metric == "voc07" ? .elevenPoint : .allPoint
        p.plusOnePixel = golden.plusOne
        p.iouThreshold = golden.iou
        let r = try VOCEvaluator.evaluate(groundTruth: try Goldens.dataset(golden.case),
                                          detections: try Goldens.detections(golden.case), parameters: p)
        #expect(r.map == golden.map)
        for c in r.perClass {
            let expected = golden.perClass[String(c.id)]!
            #expect(c.ap == expected?.ap, "class \(c.id)")
            #expect(c.recall == expected?.recall ?? [])
            #expect(c.precision == expected?.precision ?? [])
        }
        #expect(r.variantDescription.contains(golden.metric == "voc07" ? "11-point" : "all-point"))
    }

    @Test func plusOneChangesSmallBoxes() throws {
        // 10×10 boxes offset by 4: continuous IoU 60/140 ≈ 0.43 (a miss at 0.5); with +1, 11×7 / (121+121−77) ≈ 0.47.
        // Offset 3: continuous 70/130 ≈ 0.54 (a hit), +1: 88/154 ≈ 0.571 (a hit).
        var gt = DetectionDataset(images: [ImageEntry(id: 1, fileName: "a.jpg")], categories: [Category(id: 1, name: "x")])
        gt.annotations = [Annotation(id: 1, imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(0, 0, 10, 10))]
        let hit = [Detection(imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(3, 0, 10, 10), score: 1)]
        let miss = [Detection(imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(4, 0, 10, 10), score: 1)]
        var p = VOCEvalParameters()
        #expect(try VOCEvaluator.evaluate(groundTruth: gt, detections: hit, parameters: p).map == 1)
        #expect(try VOCEvaluator.evaluate(groundTruth: gt, detections: miss, parameters: p).map == 0)
        p.plusOnePixel = false
        #expect(try VOCEvaluator.evaluate(groundTruth: gt, detections: hit, parameters: p).map == 1)
        p.iouThreshold = 0.55
        #expect(try VOCEvaluator.evaluate(groundTruth: gt, detections: hit, parameters: p).map == 0)
        p.plusOnePixel = true
        #expect(try VOCEvaluator.evaluate(groundTruth: gt, detections: hit, parameters: p).map == 1)
    }

    @Test func difficultObjectsAreNeitherRightNorWrong() throws {
        var gt = DetectionDataset(images: [ImageEntry(id: 1, fileName: "a.jpg")], categories: [Category(id: 1, name: "x")])
        gt.annotations = [
            Annotation(id: 1, imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(0, 0, 10, 10)),
            Annotation(id: 2, imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(50, 50, 10, 10), difficult: true),
        ]
        let dets = [Detection(imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(50, 50, 10, 10), score: 0.9),
                    Detection(imageID: 1, categoryID: 1, bbox: BoxXYWHTestable.box(0, 0, 10, 10), score: 0.8)]
        let r = try VOCEvaluator.evaluate(groundTruth: gt, detections: dets)
        #expect(r.perClass[0].groundTruthCount == 1)
        #expect(r.map == 1)  // the difficult hit is not a false positive
        #expect(r.perClass[0].recall == [0, 1])
    }
}
