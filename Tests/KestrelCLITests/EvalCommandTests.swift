import Foundation
import Testing
import _KestrelTestSupport

/// `kestrel eval`, `convert-annotations` and `bench nms` end to end.
@Suite struct EvalCommandTests {
    struct COCOOutput: Decodable {
        struct PerClass: Decodable {
            var id: Int
            var name: String
            var ap: Double
            var ap50: Double
            var ap75: Double
            var ar100: Double
        }
        var metric: String
        var stats: [Double]
        var perClass: [PerClass]
    }

    struct VOCOutput: Decodable {
        struct PerClass: Decodable {
            var id: Int
            var name: String
            var ap: Double?
        }
        var metric: String
        var variant: String
        var map: Double
        var perClass: [PerClass]
    }

    struct Golden: Decodable {
        struct Case: Decodable {
            var stats: [Double]
            var summary: [String]?
        }
        var coco: [String: Case]
    }

    static let golden = try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("eval/goldens.json"))))

    func eval(_ name: String, _ extra: [String] = []) throws -> KestrelCLI.Result {
        try KestrelCLI.run(["eval", "--gt", Fixtures.path("eval/\(name)/gt.json"), "--dets", Fixtures.path("eval/\(name)/dets.json")] + extra)
    }

    @Test func jsonStatsEqualPycocotools() throws {
        let r = try eval("random", ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try JSONDecoder().decode(COCOOutput.self, from: Data(r.stdout.utf8))
        #expect(out.metric == "coco")
        #expect(out.stats == Self.golden.coco["random"]!.stats)
        #expect(out.perClass.map(\.id) == [1, 2, 3, 5, 8, 13, 21, 90])
        #expect(out.perClass.last!.ap == -1)  // no ground truth
        #expect(r.stderr.contains("detection(s) have category ids not in the ground truth's categories (99)"))
    }

    @Test func textIsPycocotoolsTableThenPerClass() throws {
        let r = try eval("basic")
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(12)) == Self.golden.coco["basic"]!.summary!)
        #expect(r.stdout.contains("Per class (area all, maxDets 100):"))
        #expect(r.stdout.contains("class1"))
    }

    @Test func bugFixFlags() throws {
        let buggy = try JSONDecoder().decode(COCOOutput.self, from: Data(try eval("gt_id_zero", ["--json"]).stdout.utf8))
        let fixed = try JSONDecoder().decode(COCOOutput.self, from: Data(try eval("gt_id_zero", ["--json", "--fix-gt-id-zero"]).stdout.utf8))
        #expect(buggy.stats == Self.golden.coco["gt_id_zero"]!.stats)
        #expect(fixed.stats == Self.golden.coco["gt_id_zero_fixed"]!.stats)
        let r = try eval("max_dets", ["--json", "--max-dets", "1,10,300", "--fix-stats0"])
        #expect(try JSONDecoder().decode(COCOOutput.self, from: Data(r.stdout.utf8)).stats == Self.golden.coco["max_dets_300_fixed"]!.stats)
    }

    @Test func vocFolderFormat() throws {
        let root = Fixtures.path("voc")
        let r = try KestrelCLI.run(["eval", "--format", "voc", "--metric", "voc07", "--gt", root, "--dets", root + "/results", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try JSONDecoder().decode(VOCOutput.self, from: Data(r.stdout.utf8))
        #expect(out.metric == "voc07" && abs(out.map - 0.75) < 1e-12)  // eleven 1/11 steps: 0.7499999999999999
        #expect(out.variant == "VOC2007 11-point AP, IoU > 0.5, devkit +1 pixel convention")
        #expect(out.perClass.map(\.name) == ["dog", "person", "person & co", "train"])
        let text = try KestrelCLI.run(["eval", "--format", "voc", "--metric", "voc12", "--continuous", "--iou", "0.7",
                                       "--gt", root, "--dets", root + "/results"])
        #expect(text.stdout.hasPrefix("VOC2010+ all-point AP, IoU > 0.7, continuous coordinates"))
    }

    @Test func badInputIsAClearErrorNotACrash() throws {
        let gt = Fixtures.path("eval/basic/gt.json")
        var r = try KestrelCLI.run(["eval", "--gt", gt, "--dets", Fixtures.path("coco-bad/nan_bbox.json")])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("error: " + Fixtures.path("coco-bad/nan_bbox.json") + ":2:48: $[1].bbox[1]"))
        r = try KestrelCLI.run(["eval", "--gt", gt, "--dets", Fixtures.path("coco-bad/unknown_image.json")])
        #expect(r.status == 1)
        #expect(r.stderr.contains(Fixtures.path("coco-bad/unknown_image.json") + ": inconsistent: 1 detection(s) name image ids"))
        r = try KestrelCLI.run(["eval", "--gt", gt, "--dets", Fixtures.path("coco-bad/unknown_image.json"), "--drop-unknown-images"])
        #expect(r.status == 0 && r.stderr.contains("dropped"))
        r = try KestrelCLI.run(["eval", "--gt", "/nonexistent/gt.json", "--dets", gt])
        #expect(r.status == 1 && r.stderr.contains("/nonexistent/gt.json: cannot open"))
        r = try KestrelCLI.run(["eval", "--gt", gt, "--dets", gt])  // a ground-truth file given as results
        #expect(r.status == 1 && r.stderr.contains("expected a COCO results array"))
        r = try KestrelCLI.run(["eval", "--gt", gt, "--dets", gt, "--iou", "0.6"])
        #expect(r.status != 0 && r.stderr.contains("--iou applies to --metric voc07/voc12"))
    }

    @Test func plotsAndConversionRoundTrip() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var r = try eval("crowd", ["--plots", dir.path + "/plots"])
        #expect(r.status == 0)
        let pngs = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/plots").sorted()
        #expect(pngs == ["pr_1_class1.png", "pr_all.png"])
        #expect(try KestrelCLI.run(["info", dir.path + "/plots/pr_all.png"]).stdout.contains("PNG 640x480 RGB"))
        // VOC → COCO (ground truth and detections) → evaluate: the same mAP as on the VOC files.
        let voc = Fixtures.path("voc")
        r = try KestrelCLI.run(["convert-annotations", voc, dir.path + "/gt.json", "--from", "voc", "--to", "coco"])
        #expect(r.status == 0 && r.stdout.contains("wrote 3 images, 6 annotations, 4 categories"))
        r = try KestrelCLI.run(["convert-annotations", voc + "/results", dir.path + "/dets.json", "--from", "voc", "--to", "coco",
                                "--dets", "--gt", voc])
        #expect(r.status == 0)
        r = try KestrelCLI.run(["eval", "--gt", dir.path + "/gt.json", "--dets", dir.path + "/dets.json", "--metric", "voc07", "--json"])
        #expect(abs(try JSONDecoder().decode(VOCOutput.self, from: Data(r.stdout.utf8)).map - 0.75) < 1e-12)
        r = try KestrelCLI.run(["convert-annotations", voc, dir.path + "/gt.json", "--from", "voc", "--to", "coco"])
        #expect(r.status == 1 && r.stderr.contains("exists"))
    }

    @Test func benchNMSReportsKeptBoxes() throws {
        let r = try KestrelCLI.run(["bench", "nms", "--boxes", "300", "--repeats", "1", "--min-time", "0", "--no-guard", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"suite\": \"nms\"") && r.stdout.contains("\"kept\": "))
    }
}

@Suite struct BenchTrainCommandTests {
    @Test func profileListsTheOpsOfAStepAsJSON() throws {
        let r = try KestrelCLI.run(["bench", "train", "--model", "resnet20", "--batch-size", "2", "--input", "16", "--repeats", "1",
                                    "--min-time", "0", "--no-guard", "--profile", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        // The measurement, then one object per op.
        #expect(rows.first?["work"] as? String == "resnet20 training step")
        let ops = rows.dropFirst().compactMap { $0["op"] as? String }
        // ResNet-20: conv → BN → ReLU, and each block's BN → + shortcut → ReLU, as single ops.
        #expect(ops.contains("conv2d") && ops.contains("batch_norm_relu") && ops.contains("batch_norm_add_relu")
            && ops.contains("other"))
        let blockEnds = try #require(rows.first { $0["op"] as? String == "batch_norm_add_relu" })
        #expect(blockEnds["calls"] as? Int == 9)
        let conv = try #require(rows.first { $0["op"] as? String == "conv2d" })
        #expect(conv["calls"] as? Int == 19 && (conv["backward_ms"] as? Double ?? 0) > 0)
    }

    @Test func versusInferenceReportsTheStepAsAMultipleOfInference() throws {
        let r = try KestrelCLI.run(["bench", "train", "--model", "resnet20", "--batch-size", "2", "--input", "16", "--repeats", "3",
                                    "--min-time", "0", "--no-guard", "--versus-inference", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let ratio = try #require(rows.first { $0["work"] as? String == "resnet20 training step / inference" })
        let extra = try #require(ratio["extra"] as? [String: Any])
        let step = try #require(extra["step_ms"] as? Double), inference = try #require(extra["inference_ms"] as? Double)
        #expect(ratio["unit"] as? String == "x" && ratio["runs"] as? Int == 3)
        // A step (forward, backward, update) costs more than a forward pass.
        #expect(step > inference && inference > 0 && (ratio["median"] as? Double ?? 0) > 1)
    }
}
