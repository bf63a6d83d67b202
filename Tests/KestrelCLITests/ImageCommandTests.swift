import KestrelImage
import Foundation
import Testing
import _KestrelTestSupport

@Suite struct ImageCommandTests {
    let good = Fixtures.path("images/jpeg_exif_orient6.jpg")
    let bad = Fixtures.path("images/bad_truncated_header.jpg")

    @Test func executableIsBuilt() {
        #expect(KestrelCLI.executable != nil)
    }

    @Test func infoPrintsEveryFileAndFailsIfOneIsBad() throws {
        let r = try KestrelCLI.run(["info", good, bad, Fixtures.path("images/png_gray16.png")])
        #expect(r.status == 1)
        #expect(r.stdout.contains("JPEG 67x45 RGB 8-bit"))
        #expect(r.stdout.contains("EXIF orientation 6"))
        #expect(r.stdout.contains("PNG 23x17 gray 16-bit"))
        #expect(r.stderr.contains(bad + ": truncated"))
    }

    @Test func infoJSONHasTheDocumentedKeys() throws {
        let r = try KestrelCLI.run(["info", "--json", good, bad])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["path"] as? String == good)
        #expect(first?["format"] as? String == "jpeg")
        #expect(first?["width"] as? Int == 67)
        #expect(first?["height"] as? Int == 45)
        #expect(first?["channels"] as? Int == 3)
        #expect(first?["bitDepth"] as? Int == 8)
        #expect(first?["orientation"] as? Int == 6)
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect(second?["path"] as? String == bad)
        #expect((second?["error"] as? String)?.hasPrefix("truncated") == true)
    }

    @Test func verifyCatchesDamageTheHeaderHides() throws {
        let truncated = Fixtures.path("images/bad_truncated.png")
        #expect(try KestrelCLI.run(["info", truncated]).status == 0)
        let r = try KestrelCLI.run(["info", "--verify", truncated])
        #expect(r.status == 1)
        #expect(r.stderr.contains("truncated"))
    }

    @Test func convertAppliesOrientationAndRefusesToOverwrite() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("upright.png").path
        var r = try KestrelCLI.run(["convert", good, out])
        #expect(r.status == 0, "\(r.stderr)")
        r = try KestrelCLI.run(["info", "--json", out])
        #expect(r.stdout.contains("\"width\": 45, \"height\": 67"))  // rotated upright
        // An existing output needs --force; the input can never be the output, however it is spelled.
        r = try KestrelCLI.run(["convert", good, out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("exists"))
        #expect(try KestrelCLI.run(["convert", good, out, "--force"]).status == 0)
        let copy = dir.appendingPathComponent("in.png").path
        try FileManager.default.copyItem(atPath: out, toPath: copy)
        r = try KestrelCLI.run(["convert", "in.png", "./in.png", "--force"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("input file"))
    }

    @Test func convertKeeps16BitsAndFlattensAlphaForJPEG() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png16 = dir.appendingPathComponent("deep.png").path
        #expect(try KestrelCLI.run(["convert", Fixtures.path("images/png_rgba16.png"), png16]).status == 0)
        #expect(try KestrelCLI.run(["info", png16]).stdout.contains("RGBA 16-bit"))
        let jpg = dir.appendingPathComponent("flat.jpg").path
        let r = try KestrelCLI.run(["convert", Fixtures.path("images/png_rgba8.png"), jpg])
        #expect(r.status == 0)
        #expect(r.stderr.contains("flattening"))
    }

    @Test func convertRejectsBadArguments() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try KestrelCLI.run(["convert", good, dir.appendingPathComponent("x.gif").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot tell the output format"))
        #expect(try KestrelCLI.run(["convert", good, dir.appendingPathComponent("x.jpg").path, "--quality", "0"]).status != 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// A header claiming 60000 x 60000 must be refused before allocation: under a 4 GB address-space limit a
    /// 10.8 GB pixel buffer would make the process fail, so this test fails if the guard is ever skipped.
    @Test(arguments: ["bad_huge_60000.jpg", "bad_huge_100000.png", "bad_huge_60000.png"])
    func decompressionBombsAreRefusedWithBoundedMemory(_ name: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.png").path
        let r = try KestrelCLI.run(["convert", Fixtures.path("images/" + name), out], shellPrefix: "ulimit -v 4000000;")
        #expect(r.status == 1)
        #expect(r.stderr.contains("over the limit of 178956970"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func benchDecodeEmitsAnchorCompatibleJSON() throws {
        let r = try KestrelCLI.run([
            "bench", "decode", "--json", "--repeats", "1", "--min-time", "0",
            Fixtures.path("images/png_rgb8.png"), Fixtures.path("images/jpeg_420.jpg"),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            for key in ["suite", "tool", "work", "size", "threads", "median", "unit", "runs", "min", "max"] {
                #expect(obj?[key] != nil, "missing \(key)")
            }
            #expect(obj?["unit"] as? String == "MP/s")
        }
    }
}

@Suite struct GenerateShapesTests {
    @Test func deterministicForAnyThreadCount() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        var r = try KestrelCLI.run(["generate-shapes", "--out", a, "--train", "6", "--val", "3", "--size", "64", "--threads", "1",
                                    "--backgrounds", Fixtures.dataset("photos")])
        #expect(r.status == 0, "\(r.stderr)")
        r = try KestrelCLI.run(["generate-shapes", "--out", b, "--train", "6", "--val", "3", "--size", "64", "--threads", "3",
                                "--backgrounds", Fixtures.dataset("photos"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        for rel in ["train/annotations.json", "val/annotations.json", "train/images/000005.jpg", "val/masks/000002.png"] {
            #expect(FileManager.default.contents(atPath: a + "/" + rel) == FileManager.default.contents(atPath: b + "/" + rel), "\(rel)")
        }
        let labels = try ImageCodec.decodeLabels(contentsOfFile: a + "/val/masks/000000.png")
        #expect(labels.width == 64 && labels.pixels.allSatisfy { $0 <= 4 })
        // An existing folder is refused without --force.
        #expect(try KestrelCLI.run(["generate-shapes", "--out", a, "--train", "1", "--val", "0"]).status == 1)
    }
}
