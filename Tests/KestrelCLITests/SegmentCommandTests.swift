import Foundation
import KestrelImage
import Testing
import _KestrelTestSupport

/// `kestrel train --task segment`, `kestrel segment` and `kestrel eval --task segment` end to end on a few
/// images of datasets/shapes (training to accuracy is a benchmark, not a test: one short epoch here).
@Suite struct SegmentCommandTests {
    static let names = "background,circle,square,triangle,star"

    /// train/{images,masks} (12 pairs) and val/{images,masks} (4 pairs) copied from datasets/shapes.
    static func smallShapes(_ dir: URL) throws -> String {
        let fm = FileManager.default
        for (split, count) in [("train", 12), ("val", 4)] {
            for kind in ["images", "masks"] {
                try fm.createDirectory(at: dir.appendingPathComponent("\(split)/\(kind)"), withIntermediateDirectories: true)
            }
            for i in 0..<count {
                let stem = String(format: "%06d", i)
                try fm.copyItem(atPath: Fixtures.dataset("shapes/\(split)/images/\(stem).jpg"),
                                toPath: dir.appendingPathComponent("\(split)/images/\(stem).jpg").path)
                try fm.copyItem(atPath: Fixtures.dataset("shapes/\(split)/masks/\(stem).png"),
                                toPath: dir.appendingPathComponent("\(split)/masks/\(stem).png").path)
            }
        }
        return dir.path
    }

    static func trainArguments(_ data: String, run: String) -> [String] {
        ["train", "--task", "segment", "--images", data + "/train/images", "--masks", data + "/train/masks",
         "--val-images", data + "/val/images", "--val-masks", data + "/val/masks", "--class-names", names,
         "--model", "segnet_small", "--input-size", "64", "--epochs", "1", "--batch-size", "6", "--optimizer", "adam",
         "--lr", "0.003", "--hflip", "--class-weights", "median-frequency", "--out", run, "--json"]
    }

    @Test func trainSegmentEvaluate() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.smallShapes(dir)
        let run = dir.path + "/run"
        var r = try KestrelCLI.run(Self.trainArguments(data, run: run))
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let best = try #require(summary?["best"] as? [String: Any])
        let trainMIoU = try #require(best["meanIoU"] as? Double)
        #expect((0...1).contains(trainMIoU))
        #expect((best["perClass"] as? [[String: Any]])?.count == 5)
        for file in ["config.json", "metrics.jsonl", "curves.png", "best.safetensors", "segmentation.json", "resume.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + file), "\(file)")
        }
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.contains("\"val_miou\"") && metrics.contains("\"val_fwiou\""))

        // segment: palette label maps at the input's size (128, not the model's 64), overlays, pixel counts.
        let out = dir.path + "/pred"
        let files = (0..<4).map { data + "/val/images/" + String(format: "%06d", $0) + ".jpg" }
        r = try KestrelCLI.run(["segment", "--model", run, "--out", out, "--overlay", "--json"] + files)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == 4)
        let counts = try #require(rows.first?["pixels"] as? [String: Int])
        #expect(counts.keys.sorted() == ["background", "circle", "square", "star", "triangle"])
        #expect(counts.values.reduce(0, +) == 128 * 128)
        let mask = try ImageCodec.decodeLabels(contentsOfFile: out + "/000000.png")
        #expect(mask.width == 128 && mask.height == 128 && mask.pixels.allSatisfy { $0 < 5 })
        let histogram = LabelHistogram(mask)
        for (k, name) in Self.names.split(separator: ",").enumerated() { #expect(counts[String(name)] == histogram[k, default: 0]) }
        let overlay = try Image(contentsOfFile: out + "/overlays/000000.png")
        #expect(overlay.width == 128 && overlay.channels == 3)

        // eval: the same four metrics validation measured with the best weights.
        r = try KestrelCLI.run(["eval", "--task", "segment", "--gt", data + "/val/masks", "--pred", out, "--class-names", Self.names, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(report?["images"] as? Int == 4)
        let evalMIoU = try #require(report?["meanIoU"] as? Double)
        #expect(abs(evalMIoU - trainMIoU) < 1e-12)
        #expect((report?["confusion"] as? [[Int]])?.count == 5)

        // The input folder is never an output folder; --resume recognises the segmentation run.
        r = try KestrelCLI.run(["segment", "--model", run, "--out", data + "/val/images/../images", files[0]])
        #expect(r.status == 1 && r.stderr.contains("holds the input"))
        r = try KestrelCLI.run(["train", "--resume", run, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try KestrelCLI.run(["classify", "--model", run, files[0]])
        #expect(r.status == 1)
    }

    @Test func modelsListsTheSegmentationZoo() throws {
        let r = try KestrelCLI.run(["models", "--task", "segment", "--classes", "21", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.map { $0["name"] as? String } == ["fcn32s_vgg", "fcn16s_vgg", "fcn8s_vgg", "fcn8s_resnet18", "fcn2s_small",
                                                      "fcn8s_mobilenet", "dilated_resnet18", "segnet_vgg16", "segnet_small"])
        // voc-fcn8s by hand, 21 classes: VGG-16's 13 convolutions, fc6 (7x7) and fc7 as convolutions, the three
        // 1x1 score layers, and the three bilinear transposed convolutions (kernels 4, 4, 16; no bias; frozen).
        let k = 21
        let vgg = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256), (256, 512),
                   (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)].reduce(0) { $0 + 9 * $1.0 * $1.1 + $1.1 }
        let fc = 512 * 49 * 4096 + 4096 + 4096 * 4096 + 4096
        let scores = (4096 + 1) * k + (512 + 1) * k + (256 + 1) * k
        let upsampling = k * k * (16 + 16 + 256)
        let fcn8s = rows.first { $0["name"] as? String == "fcn8s_vgg" }
        #expect(fcn8s?["parameters"] as? Int == vgg + fc + scores + upsampling)
        #expect(fcn8s?["classes"] as? Int == 21 && fcn8s?["inputSize"] is NSNull)
    }

    @Test func badMasksAreClearErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.smallShapes(dir)
        // eval: every ground-truth mask needs its prediction (the stems 000000…000003 are in both folders).
        var r = try KestrelCLI.run(["eval", "--task", "segment", "--gt", data + "/val/masks", "--pred", data + "/train/masks"])
        #expect(r.status == 0, "\(r.stderr)")
        try FileManager.default.copyItem(atPath: data + "/train/masks/000002.png", toPath: dir.path + "/keep.png")
        try FileManager.default.removeItem(atPath: data + "/train/masks/000002.png")
        r = try KestrelCLI.run(["eval", "--task", "segment", "--gt", data + "/val/masks", "--pred", data + "/train/masks"])
        #expect(r.status == 1 && r.stderr.contains("000002"), "\(r.stderr)")
        try FileManager.default.moveItem(atPath: dir.path + "/keep.png", toPath: data + "/train/masks/000002.png")
        // A label outside the classes (other than 255).
        let bad = data + "/train/masks/000003.png"
        var m = try ImageCodec.decodeLabels(contentsOfFile: bad)
        m.pixels[100] = 9
        try m.write(toFile: bad, options: .png(PNGEncodeOptions(palette: Palette.voc)))
        r = try KestrelCLI.run(Self.trainArguments(data, run: dir.path + "/run1"))
        #expect(r.status == 1)
        #expect(r.stderr.contains("000003.png") && r.stderr.contains("label 9"), "\(r.stderr)")
        // A mask of another size than its image.
        try Image(width: 64, height: 128, channels: 1, fill: 0).write(toFile: bad)
        r = try KestrelCLI.run(Self.trainArguments(data, run: dir.path + "/run2"))
        #expect(r.status == 1)
        #expect(r.stderr.contains("000003.png") && r.stderr.contains("64x128"), "\(r.stderr)")
        // Unknown models are refused before anything runs.
        r = try KestrelCLI.run(["train", "--task", "segment", "--images", data + "/train/images", "--masks", data + "/train/masks",
                                "--model", "fcn4s", "--out", dir.path + "/run3"])
        #expect(r.status != 0 && r.stderr.contains("unknown segmentation model"))
    }
}

/// Pixels per label present in a label map.
func LabelHistogram(_ m: Image) -> [Int: Int] {
    m.pixels.reduce(into: [Int: Int]()) { $0[Int($1), default: 0] += 1 }
}
