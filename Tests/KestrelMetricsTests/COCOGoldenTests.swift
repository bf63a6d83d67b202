import KestrelAnnotations
import KestrelMetrics
import Testing
import _KestrelTestSupport

/// Every golden case of tools/make_eval_goldens.py: Kestrel's numbers must equal pycocotools' exactly.
@Suite struct COCOGoldenTests {
    static let cases = Goldens.shared.coco.keys.sorted()

    @Test(arguments: cases)
    func equalsPycocotools(name: String) throws {
        let golden = Goldens.shared.coco[name]!
        let input = golden.case ?? name
        var p = COCOEvalParameters()
        if let md = golden.options.maxDets { p.maxDetections = md }
        p.fixGroundTruthIDZero = golden.options.fixGTIDZero ?? false
        p.fixStats0MaxDetections = golden.options.fixStats0MaxDets ?? false
        let r = try COCOEvaluator.evaluate(
            groundTruth: try Goldens.dataset(input), detections: try Goldens.detections(input), parameters: p)

        #expect(r.categoryIDs == golden.catIds)
        let stats = golden.stats
        #expect(r.stats == stats, "stats differ")
        for (i, (a, b)) in zip(r.stats, stats).enumerated() where a != b {
            Issue.record("stats[\(i)]: kestrel \(a) pycocotools \(b) (diff \(a - b))")
        }
        #expect(r.recall == golden.recall, "recall differs")
        #expect(golden.precisionShape == [10, 101, r.categoryIDs.count, 4, 3])
        if let full = golden.precision {
            let diffs = zip(r.precision, full).enumerated().filter { $0.1.0 != $0.1.1 }
            #expect(diffs.isEmpty, "precision differs at \(diffs.prefix(5).map { "\($0.0): \($0.1.0) vs \($0.1.1)" })")
        }
        #expect(Goldens.sha256(r.precision) == golden.precisionSHA256, "precision array differs")
        #expect(r.perCategory.count == golden.perCategory.count)
        for (mine, theirs) in zip(r.perCategory, golden.perCategory) {
            #expect(mine.id == theirs.id)
            #expect(mine.ap == theirs.ap)
            #expect(mine.ap50 == theirs.ap50)
            #expect(mine.ap75 == theirs.ap75)
            #expect(mine.ar == theirs.ar)
        }
        if let summary = golden.summary {
            #expect(r.summaryLines == summary)
        }
    }

    @Test func thresholdsAreNumPysLinspace() {
        let p = COCOEvalParameters()
        #expect(p.iouThresholds == Goldens.shared.params.iouThrs)
        #expect(p.recallThresholds == Goldens.shared.params.recThrs)
        // The naive 0.5 + 0.05·k is not the same list: this is why linspace matters.
        #expect((0..<10).map { 0.5 + 0.05 * Double($0) } != p.iouThresholds)
    }
}
