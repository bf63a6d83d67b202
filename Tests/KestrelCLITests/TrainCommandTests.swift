import Foundation
import Testing
import _KestrelTestSupport

@Suite struct TrainCommandTests {
    let digits = Fixtures.dataset("digits")

    @Test func trainClassifyTestOnDigits() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        var r = try KestrelCLI.run(["train", "--data", digits, "--model", "simple_convnet", "--input-size", "8", "--epochs", "2",
                                    "--batch-size", "64", "--lr", "0.003", "--optimizer", "adam", "--out", run, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((summary?["bestAccuracy"] as? Double ?? 0) > 0.8)
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 2)
        // classify: top-k with probabilities, one JSON object per file, errors per file.
        r = try KestrelCLI.run(["classify", "--model", run, "--json", "--top", "2", digits + "/7/0007.png", Fixtures.path("images/bad_empty.png")])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n")
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let top = first?["top"] as? [[String: Any]]
        #expect(top?.count == 2)
        #expect(top?.first?["class"] as? String == "7")
        #expect((lines[1]).contains("\"error\""))
        // test: accuracy and the confusion matrix over a dataset.
        r = try KestrelCLI.run(["test", "--model", run, "--data", digits, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect((report?["images"] as? Int) == 1797)
        #expect((report?["confusion"] as? [[Int]])?.count == 10)
        #expect((report?["perClass"] as? [[String: Any]])?.count == 10)
        // A second train into the same folder is refused.
        r = try KestrelCLI.run(["train", "--data", digits, "--model", "simple_convnet", "--input-size", "8", "--out", run])
        #expect(r.status == 1)
        #expect(r.stderr.contains("already holds a training run"))
    }

    @Test func badDataIsAClearError() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("only/cats"), withIntermediateDirectories: true)
        let r = try KestrelCLI.run(["train", "--data", dir.path + "/only", "--out", dir.path + "/run"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("at least 2"))
        let r2 = try KestrelCLI.run(["train", "--data", digits, "--model", "nonet", "--out", dir.path + "/run"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("unknown model"))
    }

    @Test func modelsListsTheZoo() throws {
        let r = try KestrelCLI.run(["models", "--json"])
        #expect(r.status == 0)
        let rows = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == 12)
        let r18 = rows.first { $0["name"] as? String == "resnet18" }
        #expect(r18?["parameters"] as? Int == 11_689_512)
        #expect(r18?["inputSize"] as? Int == 224 && r18?["classes"] as? Int == 1000)
    }

    /// Ctrl-C saves a checkpoint and exits with 130; --resume finishes the run.
    @Test func interruptAndResume() throws {
        guard KestrelCLI.executable != nil else { Issue.record("no kestrel binary"); return }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        // Ctrl-C once the first epoch is recorded.
        let status = try KestrelCLI.interruptAfterFirstEpoch(
            ["train", "--data", digits, "--model", "simple_convnet", "--input-size", "8", "--epochs", "60",
             "--batch-size", "16", "--out", run, "--threads", "1"], runDirectory: run)
        if status == 0 {
            // The run finished before the signal arrived: nothing to resume (rare on a fast machine).
            return
        }
        #expect(status == 130)
        #expect(FileManager.default.fileExists(atPath: run + "/resume.safetensors"))
        let r = try KestrelCLI.run(["train", "--resume", run, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("resuming"))
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 60)
    }
}
