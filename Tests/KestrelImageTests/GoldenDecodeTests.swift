import Foundation
import KestrelImage
import Testing
import _KestrelTestSupport

/// The goldens written by tools/make_image_fixtures.py from what Pillow (and pypng, for 16-bit) decode.
struct Goldens: Decodable {
    struct Good: Decodable, Sendable, CustomTestStringConvertible {
        let file: String
        let width: Int
        let height: Int
        let channels: Int
        let sha256: String
        let sha256_raw: String?
        let sha256_16: String?
        let orientation: Int?
        var testDescription: String { file }
    }
    struct Bad: Decodable, Sendable, CustomTestStringConvertible {
        let file: String
        let error: String
        var testDescription: String { file }
    }
    let good: [Good]
    let bad: [Bad]

    static let shared: Goldens = {
        let url = URL(fileURLWithPath: Fixtures.path("images/goldens.json"))
        do {
            return try JSONDecoder().decode(Goldens.self, from: Data(contentsOf: url))
        } catch {
            // An empty list would make the parameterised tests pass vacuously; the count test below catches it.
            return Goldens(good: [], bad: [])
        }
    }()
}

@Suite struct GoldenDecodeTests {
    @Test func goldensArePresent() {
        #expect(Goldens.shared.good.count >= 50)
        #expect(Goldens.shared.bad.count >= 12)
    }

    @Test(arguments: Goldens.shared.good)
    func decodesLikePillow(_ golden: Goldens.Good) throws {
        let path = Fixtures.path("images/" + golden.file)
        let image = try Image(contentsOfFile: path)
        #expect(image.width == golden.width)
        #expect(image.height == golden.height)
        #expect(image.channels == golden.channels)
        #expect(SHA256.hex(image.pixels) == golden.sha256)
        if let raw = golden.sha256_raw {
            let stored = try Image(contentsOfFile: path, options: DecodeOptions(applyOrientation: false))
            #expect(SHA256.hex(stored.pixels) == raw)
        }
        if let expected = golden.orientation {
            #expect(try ImageCodec.info(contentsOfFile: path).orientation == expected)
        }
    }

    @Test(arguments: Goldens.shared.good.filter { $0.sha256_16 != nil })
    func decodes16BitExactly(_ golden: Goldens.Good) throws {
        let path = Fixtures.path("images/" + golden.file)
        let image16 = try Image16(contentsOfFile: path)
        #expect(SHA256.hex(littleEndian: image16.pixels) == golden.sha256_16)
        // Narrowing the 16-bit decode must give exactly the 8-bit decode (both keep the high byte).
        #expect(image16.narrowed() == (try Image(contentsOfFile: path)))
    }

    @Test(arguments: Goldens.shared.good)
    func decodesTheSameFromMemory(_ golden: Goldens.Good) throws {
        let path = Fixtures.path("images/" + golden.file)
        let bytes = try FileIO.read(path)
        #expect(try Image(decoding: bytes) == (try Image(contentsOfFile: path)))
    }

    @Test func infoDescribesTheHeader() throws {
        let png = try ImageCodec.info(contentsOfFile: Fixtures.path("images/png_pal4_trns.png"))
        #expect(png.format == .png)
        #expect(png.bitDepth == 4)
        #expect(png.colorModel == "palette")
        #expect(png.channels == 4)
        #expect(png.interlaced)
        let ycck = try ImageCodec.info(contentsOfFile: Fixtures.path("images/jpeg_ycck.jpg"))
        #expect(ycck.colorModel == "ycck")
        #expect(ycck.channels == 3)
        let progressive = try ImageCodec.info(contentsOfFile: Fixtures.path("images/jpeg_progressive.jpg"))
        #expect(progressive.interlaced)
        #expect(progressive.bitDepth == 8)
        let rotated = try ImageCodec.info(contentsOfFile: Fixtures.path("images/jpeg_exif_orient6.jpg"))
        #expect(rotated.orientation == 6)
        #expect(rotated.orientedSize.width == rotated.height)
    }

    @Test func gray16WithoutOrientationKeepsStoredPixels() throws {
        // A 16-bit gray PNG is one channel in both precisions.
        let path = Fixtures.path("images/png_gray16.png")
        #expect(try Image16(contentsOfFile: path).channels == 1)
    }
}

@Suite struct BadFileTests {
    @Test(arguments: Goldens.shared.bad)
    func badFilesGiveTypedErrorsNamingTheFile(_ bad: Goldens.Bad) throws {
        let path = Fixtures.path("images/" + bad.file)
        do {
            _ = try Image(contentsOfFile: path)
            Issue.record("\(bad.file) decoded without an error")
        } catch {
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(kindName(error.kind) == bad.error, "\(error)")
        }
    }

    @Test func truncatedJPEGCanBeAcceptedWithAWarning() throws {
        let path = Fixtures.path("images/bad_truncated.jpg")
        let decoded = try ImageCodec.decode(contentsOfFile: path, options: DecodeOptions(allowCorrupt: true))
        #expect(decoded.warnings.count == 1)
        #expect(decoded.warnings[0].contains("Premature end"))
        #expect(decoded.image.width == 67)
    }

    @Test func pixelLimitIsChecked() throws {
        let path = Fixtures.path("images/png_rgb8.png")  // 37 x 29 = 1073 pixels
        #expect(throws: ImageError(.tooLarge(width: 37, height: 29, limit: 1000), path: path)) {
            try Image(contentsOfFile: path, options: DecodeOptions(maxPixels: 1000))
        }
        _ = try Image(contentsOfFile: path, options: DecodeOptions(maxPixels: 1073))
    }

    @Test func fileSizeLimitIsChecked() throws {
        let path = Fixtures.path("images/png_rgb8.png")
        #expect(throws: ImageError.self) { try Image(contentsOfFile: path, options: DecodeOptions(maxFileBytes: 100)) }
    }

    @Test func missingFileAndDirectoryAreIOErrors() throws {
        for path in ["/nonexistent/kestrel.png", Fixtures.path("images")] {
            do {
                _ = try Image(contentsOfFile: path)
                Issue.record("no error for \(path)")
            } catch {
                #expect(kindName(error.kind) == "io")
                #expect(error.path == path)
            }
        }
    }

    /// Truncations and byte flips at seeded random places must give an image or an ImageError: never a crash,
    /// never a hang.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func damagedFilesNeverCrash(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let sources = ["png_rgb8.png", "png_pal4_trns.png", "png_rgba16_interlaced.png", "jpeg_420.jpg",
                       "jpeg_progressive.jpg", "jpeg_restart.jpg", "jpeg_ycck.jpg", "jpeg_exif_orient6.jpg"]
        for name in sources {
            let original = try FileIO.read(Fixtures.path("images/" + name))
            for _ in 0..<25 {
                var bytes = original
                if Bool.random(using: &rng) {
                    bytes.removeLast(Int.random(in: 1..<bytes.count, using: &rng))
                } else {
                    for _ in 0..<Int.random(in: 1...8, using: &rng) {
                        bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    }
                }
                _ = try? Image(decoding: bytes)
                _ = try? Image16(decoding: bytes)
                _ = try? bytes.withUnsafeBytes { try ImageCodec.info($0) }
            }
        }
    }
}

func kindName(_ kind: ImageError.Kind) -> String {
    switch kind {
    case .empty: "empty"
    case .unknownFormat: "unknownFormat"
    case .unsupported: "unsupported"
    case .truncated: "truncated"
    case .corrupt: "corrupt"
    case .tooLarge: "tooLarge"
    case .io: "io"
    case .invalidArgument: "invalidArgument"
    }
}
