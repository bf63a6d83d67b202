import Foundation
import Testing
import _KestrelTestSupport

/// `kestrel train --task detect`, `kestrel detect` and `kestrel eval` together, on the committed shapes set. The
/// models are tiny and trained for one epoch: these tests check the plumbing, not the accuracy (the recipe in
/// docs/detection.md measures that).
@Suite struct DetectCommandTests {
    let shapes = Fixtures.dataset("shapes")

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func trainDetectEvaluate() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        var r = try KestrelCLI.run([
            "train", "--task", "detect", "--data", shapes + "/train/annotations.json", "--images", shapes + "/train/images",
            "--val-data", shapes + "/val/annotations.json", "--val-images", shapes + "/val/images", "--model", "ssd_mobilenet",
            "--width", "0.25", "--input-size", "64", "--epochs", "1", "--batch-size", "16", "--out", run, "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try json(r.stdout) as? [String: Any]
        #expect(summary?["bestMAP50"] is Double)
        for file in ["config.json", "best.safetensors", "last.safetensors", "metrics.jsonl", "evaluation.json", "curves.png"] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + file), "\(file) missing")
        }
        let report = try json(String(contentsOfFile: run + "/evaluation.json", encoding: .utf8)) as? [String: Any]
        let trainedStats = try #require(report?["stats"] as? [Double])

        // detect --json over the validation set prints a COCO results list; kestrel eval scores it exactly as the
        // training run's validation did (same weights, same images).
        r = try KestrelCLI.run(["detect", "--model", run, "--data", shapes + "/val/annotations.json", "--images",
                                shapes + "/val/images", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let results = try #require(try json(r.stdout) as? [[String: Any]])
        #expect(!results.isEmpty)
        #expect(results.allSatisfy { $0["image_id"] is Int && $0["category_id"] is Int && ($0["bbox"] as? [Double])?.count == 4 })
        let dets = dir.appendingPathComponent("dets.json").path
        try r.stdout.write(toFile: dets, atomically: true, encoding: .utf8)
        r = try KestrelCLI.run(["eval", "--gt", shapes + "/val/annotations.json", "--dets", dets, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let evaluated = try #require((try json(r.stdout) as? [String: Any])?["stats"] as? [Double])
        #expect(evaluated == trainedStats)

        // Files: one JSON object per image, a bad file reported without stopping the others, drawings written.
        let drawn = dir.appendingPathComponent("drawn").path
        r = try KestrelCLI.run(["detect", "--model", run, "--score", "0.01", "--json", "--draw", drawn,
                                shapes + "/val/images/000000.jpg", Fixtures.path("images/bad_empty.png")])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let first = try json(lines[0]) as? [String: Any]
        #expect(first?["objects"] is [Any])
        #expect(lines[1].contains("\"error\"") && lines[1].contains("bad_empty.png"))
        #expect(FileManager.default.fileExists(atPath: drawn + "/000000.png"))

        // A classifier command refuses the detector's run folder.
        r = try KestrelCLI.run(["classify", "--model", run, shapes + "/val/images/000000.jpg"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("not") && r.stderr.contains("detect"))
    }

    /// Missing images, empty or outside boxes and undeclared classes stop training with the file named, or are
    /// skipped with --bad-annotations skip.
    @Test func badAnnotations() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ann = dir.appendingPathComponent("bad.json").path
        try """
            {"images": [{"id": 1, "file_name": "000000.jpg", "width": 128, "height": 128},
                        {"id": 2, "file_name": "000001.jpg", "width": 128, "height": 128},
                        {"id": 3, "file_name": "nowhere.jpg", "width": 128, "height": 128}],
             "categories": [{"id": 1, "name": "circle"}, {"id": 2, "name": "square"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30]},
                             {"id": 2, "image_id": 2, "category_id": 5, "bbox": [10, 10, 30, 30]},
                             {"id": 3, "image_id": 2, "category_id": 2, "bbox": [40, 40, 0, 20]}]}
            """.write(toFile: ann, atomically: true, encoding: .utf8)
        let base = ["train", "--task", "detect", "--data", ann, "--images", shapes + "/train/images", "--model", "ssd_mobilenet",
                    "--width", "0.25", "--input-size", "64", "--epochs", "1", "--batch-size", "2", "--val-split", "0"]
        var r = try KestrelCLI.run(base + ["--out", dir.path + "/stopped"])
        #expect(r.status == 1)
        // The first problem in file order: image 2's undeclared category.
        #expect(r.stderr.contains("000001.jpg") && r.stderr.contains("category 5") && r.stderr.contains("--bad-annotations skip"),
                "\(r.stderr)")
        r = try KestrelCLI.run(base + ["--bad-annotations", "skip", "--out", dir.path + "/skipped"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("nowhere.jpg") && r.stderr.contains("category 5") && r.stderr.contains("annotation 3"))
        #expect(r.stderr.contains("on 2 images"))
    }

    /// Ctrl-C saves a checkpoint and exits with 130; --resume finishes the run with the same settings.
    @Test func interruptAndResume() throws {
        guard KestrelCLI.executable != nil else { Issue.record("no kestrel binary"); return }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let status = try KestrelCLI.interruptAfterFirstEpoch(
            ["train", "--task", "detect", "--data", shapes + "/val/annotations.json", "--images", shapes + "/val/images",
             "--model", "ssd_mobilenet", "--width", "0.25", "--input-size", "64", "--epochs", "30",
             "--batch-size", "8", "--val-split", "0", "--augment", "none", "--threads", "1", "--out", run], runDirectory: run)
        if status == 0 { return }  // finished before the signal arrived: nothing to resume
        #expect(status == 130)
        let info = try json(String(contentsOfFile: run + "/data.json", encoding: .utf8)) as? [String: Any]
        #expect(info?["augment"] as? String == "none")
        let r = try KestrelCLI.run(["train", "--resume", run, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("resuming"))
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 30)
    }
}
