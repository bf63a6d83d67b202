import Foundation
import KestrelImage
import Testing
import _KestrelTestSupport

@Suite struct AugmentCommandTests {
    /// A temporary dataset: three photo files (one in a subfolder), one broken file, a pipeline file.
    func dataset() throws -> (URL, URL, URL) {
        let dir = try Fixtures.temporaryDirectory("kestrel-augment")
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(
            at: input.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Fixtures.path("augment/input.png"), toPath: input.appendingPathComponent("a.png").path)
        try FileManager.default.copyItem(
            atPath: Fixtures.path("images/jpeg_444.jpg"), toPath: input.appendingPathComponent("sub/b.jpg").path)
        try FileManager.default.copyItem(
            atPath: Fixtures.path("augment/hue_30.png"), toPath: input.appendingPathComponent("c.png").path)
        let pipeline = dir.appendingPathComponent("pipe.json")
        try """
        {"transforms": [{"name": "hflip", "p": 0.5}, {"name": "rotate", "degrees": 30},
                        {"name": "hue_saturation"}, {"name": "cutout", "holes": 2, "size": 0.2},
                        {"name": "mixup", "p": 0.5}]}
        """.write(to: pipeline, atomically: true, encoding: .utf8)
        return (dir, input, pipeline)
    }

    func bytes(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for rel in FileManager.default.enumerator(atPath: folder.path)!.compactMap({ $0 as? String }) {
            var isDir: ObjCBool = false
            let path = folder.appendingPathComponent(rel).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = FileManager.default.contents(atPath: path)
            }
        }
        return out
    }

    @Test func writesCopiesIdenticallyForAnyThreadCount() throws {
        let (dir, input, pipeline) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("one")
        let two = dir.appendingPathComponent("two")
        var r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", input.path, "--output", one.path,
            "--copies", "3", "--seed", "7", "--threads", "1", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["inputs"] as? Int == 3)
        #expect(summary?["written"] as? Int == 9)
        #expect((summary?["failed"] as? [Any])?.isEmpty == true)
        r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", input.path, "--output", two.path,
            "--copies", "3", "--seed", "7", "--threads", "3",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)  // no progress line when stderr is not a terminal
        let a = try bytes(one)
        #expect(
            Set(a.keys) == [
                "a_0.png", "a_1.png", "a_2.png", "c_0.png", "c_1.png", "c_2.png",
                "sub/b_0.jpg", "sub/b_1.jpg", "sub/b_2.jpg",
            ])
        #expect(a == (try bytes(two)))
        // A different seed gives different files.
        let three = dir.appendingPathComponent("three")
        r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", input.path, "--output", three.path,
            "--copies", "3", "--seed", "8",
        ])
        #expect(try bytes(three) != a)
    }

    @Test func refusesToWriteIntoTheInput() throws {
        let (dir, input, pipeline) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try bytes(input)
        for out in [input.path, input.appendingPathComponent("sub").path, input.path + "/../in/new", "in/x"] {
            let r = try KestrelCLI.run(
                ["augment", "--pipeline", pipeline.path, "--input", "in", "--output", out], in: dir)
            #expect(r.status == 2, "\(out)")
            #expect(r.stderr.contains("is the input folder or inside it"), "\(out): \(r.stderr)")
        }
        #expect(try bytes(input) == before)
    }

    @Test func reportsUnreadableImagesAndGoesOn() throws {
        let (dir, input, pipeline) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(
            atPath: Fixtures.path("images/bad_truncated.png"), toPath: input.appendingPathComponent("broken.png").path)
        let out = dir.appendingPathComponent("out")
        let r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", input.path, "--output", out.path, "--copies", "2",
        ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("broken.png: truncated"))
        #expect(r.stdout.contains("augmented 3 of 4 images"))
        #expect(try bytes(out).count == 6)
    }

    @Test func pipelineErrorsAreLocated() throws {
        let (dir, input, _) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json")
        try "{\"transforms\": [\n  {\"name\": \"rotate\", \"degrees\": \"lots\"}\n]}".write(
            to: bad, atomically: true, encoding: .utf8)
        let r = try KestrelCLI.run([
            "augment", "--pipeline", bad.path, "--input", input.path, "--output", dir.appendingPathComponent("o").path,
        ])
        #expect(r.status == 2)
        #expect(
            r.stderr.contains(
                "bad.json:2:33: transforms[0].degrees: rotate: \"degrees\" must be a number or [low, high]"))
    }

    @Test func masksTravelWithThePixelsAndThePreviewIsWritten() throws {
        let (dir, input, _) = try dataset()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: input.appendingPathComponent("sub"))
        try FileManager.default.removeItem(at: input.appendingPathComponent("c.png"))
        // A mask equal to the image's red channel, augmented with nearest-neighbour geometry only: the red
        // channel of every copy must still equal its mask.
        let masks = dir.appendingPathComponent("masks")
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        let pipeline = dir.appendingPathComponent("geo.json")
        try """
        {"transforms": [{"name": "rotate", "degrees": 40, "interpolation": "nearest", "fill": 255},
                        {"name": "random_crop", "width": 40, "height": 30}, {"name": "hflip", "p": 0.5}]}
        """.write(to: pipeline, atomically: true, encoding: .utf8)
        var r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", input.path, "--output",
            dir.appendingPathComponent("out").path, "--masks", masks.path, "--mask-output",
            dir.appendingPathComponent("mout").path, "--copies", "2",
        ])
        #expect(r.status == 1)  // no mask for a.png yet
        #expect(r.stderr.contains("its mask"))
        try writeRedChannelMask(from: input.appendingPathComponent("a.png"), to: masks.appendingPathComponent("a.png"))
        let sheet = dir.appendingPathComponent("sheet.png")
        r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", input.path, "--output",
            dir.appendingPathComponent("out").path, "--masks", masks.path, "--mask-output",
            dir.appendingPathComponent("mout").path, "--copies", "2", "--preview", sheet.path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        for k in 0..<2 {
            let image = try decodeRGB(dir.appendingPathComponent("out/a_\(k).png"))
            let mask = try decodeRGB(dir.appendingPathComponent("mout/a_\(k).png"))
            #expect(image.count == mask.count * 3)
            #expect(stride(from: 0, to: image.count, by: 3).map { image[$0] } == mask, "copy \(k)")
        }
        #expect(FileManager.default.fileExists(atPath: sheet.path))
    }

    /// hflip only, so every box has a hand-checkable destination: x' = W − x − w.
    func flipPipeline(_ dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("flip.json")
        try #"{"transforms": [{"name": "hflip"}]}"#.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    @Test func cocoAnnotationsDescribeTheCopies() throws {
        let dir = try Fixtures.temporaryDirectory("kestrel-augment-coco")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gt = Fixtures.dataset("detection/gt.json")
        let out = dir.appendingPathComponent("out")
        let r = try KestrelCLI.run([
            "augment", "--pipeline", try flipPipeline(dir).path, "--input", Fixtures.dataset("photos"),
            "--annotations", gt, "--output", out.path, "--copies", "2", "--preview", dir.appendingPathComponent("s.png").path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let source = try json(URL(fileURLWithPath: gt))
        let result = try json(out.appendingPathComponent("gt.json"))
        let sourceImages = source["images"] as! [[String: Any]]
        let images = result["images"] as! [[String: Any]]
        #expect(images.count == 2 * sourceImages.count)
        #expect((result["categories"] as! [[String: Any]]).count == (source["categories"] as! [[String: Any]]).count)
        let sourceAnnotations = source["annotations"] as! [[String: Any]]
        let annotations = result["annotations"] as! [[String: Any]]
        #expect(annotations.count == 2 * sourceAnnotations.count)
        #expect(annotations.map { $0["id"] as! Int } == Array(1...annotations.count))
        for (i, image) in sourceImages.enumerated() {
            let w = Double(image["width"] as! Int)
            let stem = ((image["file_name"] as! String) as NSString).deletingPathExtension
            let expected = sourceAnnotations.filter { $0["image_id"] as! Int == image["id"] as! Int }.map {
                a -> [Double] in
                let b = a["bbox"] as! [Double]
                return [w - b[0] - b[2], b[1], b[2], b[3], Double(a["category_id"] as! Int)]
            }
            for k in 0..<2 {
                let copy = images.first { ($0["file_name"] as! String).hasPrefix("\(stem)_\(k).") }!
                #expect(copy["id"] as! Int == i * 2 + k + 1)
                #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(copy["file_name"] as! String).path))
                let got = annotations.filter { $0["image_id"] as! Int == copy["id"] as! Int }.map {
                    a -> [Double] in (a["bbox"] as! [Double]) + [Double(a["category_id"] as! Int)]
                }
                #expect(got.count == expected.count)
                for (g, e) in zip(got, expected) {
                    #expect(zip(g, e).allSatisfy { abs($0 - $1) < 1e-9 }, "\(stem): \(g) vs \(e)")
                }
            }
        }
        // The input annotation file can never be replaced.
        let again = try KestrelCLI.run([
            "augment", "--pipeline", try flipPipeline(dir).path, "--input", Fixtures.dataset("photos"),
            "--annotations", gt, "--output", Fixtures.dataset("detection"),
        ])
        #expect(again.status == 2)
    }

    @Test func vocAndYoloAnnotationsAreWrittenInTheirFormat() throws {
        let dir = try Fixtures.temporaryDirectory("kestrel-augment-vocyolo")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gt = Fixtures.dataset("detection/gt.json")
        let voc = dir.appendingPathComponent("voc")
        let yolo = dir.appendingPathComponent("yolo")
        #expect(try KestrelCLI.run(["convert-annotations", gt, voc.path, "--from", "coco", "--to", "voc"]).status == 0)
        #expect(try KestrelCLI.run(["convert-annotations", gt, yolo.path, "--from", "coco", "--to", "yolo"]).status == 0)
        try FileManager.default.copyItem(atPath: Fixtures.dataset("photos"), toPath: yolo.appendingPathComponent("images").path)
        let pipeline = try flipPipeline(dir)

        var r = try KestrelCLI.run([
            "augment", "--pipeline", pipeline.path, "--input", Fixtures.dataset("photos"), "--voc", voc.path,
            "--output", dir.appendingPathComponent("voc-out").path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let xml = try String(contentsOf: dir.appendingPathComponent("voc-out/Annotations/chelsea_0.xml"), encoding: .utf8)
        let original = try String(contentsOf: voc.appendingPathComponent("Annotations/chelsea.xml"), encoding: .utf8)
        // chelsea is 451 wide: xmin' = 451 − xmax.
        func first(_ tag: String, _ text: String) -> Double {
            let open = text.range(of: "<\(tag)>")!
            let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex)!
            return Double(text[open.upperBound..<close.lowerBound])!
        }
        #expect(first("xmin", xml) == 451 - first("xmax", original))
        #expect(xml.contains("<filename>chelsea_0.png</filename>"))

        r = try KestrelCLI.run(["augment", "--pipeline", pipeline.path, "--yolo", yolo.path, "--output", dir.appendingPathComponent("yolo-out").path])
        #expect(r.status == 0, "\(r.stderr)")
        func rows(_ url: URL) throws -> [[Double]] {
            try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
        }
        let before = try rows(yolo.appendingPathComponent("labels/coffee.txt"))
        let after = try rows(dir.appendingPathComponent("yolo-out/labels/coffee_0.txt"))
        #expect(after.count == before.count)
        for (a, b) in zip(after, before) {
            #expect(a[0] == b[0] && abs(a[1] - (1 - b[1])) < 1e-9 && abs(a[2] - b[2]) < 1e-9 && abs(a[3] - b[3]) < 1e-9)
        }
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("yolo-out/images/coffee_0.png").path))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("yolo-out/classes.txt").path))
        // Writing inside the annotation folder would overwrite its labels: refused.
        r = try KestrelCLI.run(["augment", "--pipeline", pipeline.path, "--yolo", yolo.path, "--output", yolo.appendingPathComponent("x").path])
        #expect(r.status == 2)
    }

    func decodeRGB(_ url: URL) throws -> [UInt8] {
        try Image(contentsOfFile: url.path).pixels
    }

    /// A 1-channel PNG holding the image's red channel.
    func writeRedChannelMask(from image: URL, to mask: URL) throws {
        let rgb = try Image(contentsOfFile: image.path)
        let red = stride(from: 0, to: rgb.pixels.count, by: 3).map { rgb.pixels[$0] }
        try Image(width: rgb.width, height: rgb.height, channels: 1, pixels: red).write(toFile: mask.path)
    }
}
