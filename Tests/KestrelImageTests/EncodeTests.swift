import Foundation
import KestrelImage
import Testing
import _KestrelTestSupport

func randomImage<S: RasterSample>(
    _ type: S.Type, width: Int, height: Int, channels: Int, seed: UInt64
) throws -> Raster<S> {
    var rng = SeededRandom(seed: seed)
    let pixels = (0..<(width * height * channels)).map { _ in S.random(in: S.min...S.max, using: &rng) }
    return try Raster(width: width, height: height, channels: channels, pixels: pixels)
}

/// A smooth image JPEG can reproduce closely (random noise is its worst case).
func smoothImage(width: Int, height: Int, channels: Int) throws -> Image {
    var pixels = [UInt8]()
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels { pixels.append(UInt8((x * 3 + y * 2 + c * 40) % 256)) }
        }
    }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite struct EncodeTests {
    @Test(arguments: [1, 2, 3, 4], [PNGFilter.adaptive, .sub, .none])
    func png8RoundTripsExactly(channels: Int, filter: PNGFilter) throws {
        let image = try randomImage(UInt8.self, width: 31, height: 17, channels: channels, seed: UInt64(channels))
        for level in [0, 1, 6, 9] {
            let bytes = try image.encoded(.png(PNGEncodeOptions(compressionLevel: level, filter: filter)))
            #expect(try Image(decoding: bytes) == image)
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func png16RoundTripsExactly(channels: Int) throws {
        let image = try randomImage(UInt16.self, width: 13, height: 11, channels: channels, seed: 99)
        let bytes = try image.encoded(.png)
        #expect(try Image16(decoding: bytes) == image)
        #expect(try bytes.withUnsafeBytes { try ImageCodec.info($0) }.bitDepth == 16)
        // The 8-bit view of a 16-bit file keeps the high byte.
        #expect(try Image(decoding: bytes) == image.narrowed())
    }

    @Test func pngStrategiesAllDecode() throws {
        let image = try smoothImage(width: 40, height: 30, channels: 3)
        for strategy in PNGStrategy.allCases {
            let bytes = try image.encoded(.png(PNGEncodeOptions(compressionLevel: 1, filter: .sub, strategy: strategy)))
            #expect(try Image(decoding: bytes) == image)
        }
    }

    @Test(arguments: ChromaSubsampling.allCases)
    func jpegRoundTripIsClose(subsampling: ChromaSubsampling) throws {
        let image = try smoothImage(width: 48, height: 32, channels: 3)
        let bytes = try image.encoded(.jpeg(JPEGEncodeOptions(quality: 95, subsampling: subsampling)))
        let back = try Image(decoding: bytes)
        #expect(back.width == 48 && back.height == 32 && back.channels == 3)
        #expect(psnr(image, back) > 30)
        // Lower quality must cost fidelity: the check above can fail.
        let poor = try Image(decoding: try image.encoded(.jpeg(JPEGEncodeOptions(quality: 5, subsampling: subsampling))))
        #expect(psnr(image, poor) < psnr(image, back))
    }

    @Test func jpegGrayAndProgressive() throws {
        let gray = try smoothImage(width: 33, height: 21, channels: 1)
        for progressive in [false, true] {
            let bytes = try gray.encoded(.jpeg(JPEGEncodeOptions(quality: 98, progressive: progressive, optimizeCoding: true)))
            let info = try bytes.withUnsafeBytes { try ImageCodec.info($0) }
            #expect(info.interlaced == progressive)
            #expect(info.channels == 1)
            #expect(psnr(gray, try Image(decoding: bytes)) > 35)
        }
    }

    @Test func jpegRefusesAlphaAndBadQuality() throws {
        let rgba = try smoothImage(width: 8, height: 8, channels: 4)
        #expect(throws: ImageError.self) { try rgba.encoded(.jpeg) }
        let rgb = try smoothImage(width: 8, height: 8, channels: 3)
        #expect(throws: ImageError(.invalidArgument("JPEG quality must be 1...100, got 0"))) {
            try rgb.encoded(.jpeg(JPEGEncodeOptions(quality: 0)))
        }
        #expect(throws: ImageError.self) { try rgb.encoded(.png(PNGEncodeOptions(compressionLevel: 10))) }
    }

    @Test func rasterInitValidates() {
        #expect(throws: ImageError.self) { try Image(width: 2, height: 2, channels: 3, pixels: [1, 2, 3]) }
        #expect(throws: ImageError.self) { try Image(width: 0, height: 2, channels: 3) }
        #expect(throws: ImageError.self) { try Image(width: 2, height: 2, channels: 5) }
    }
}

func psnr(_ a: Image, _ b: Image) -> Double {
    var se = 0.0
    for (x, y) in zip(a.pixels, b.pixels) {
        let d = Double(x) - Double(y)
        se += d * d
    }
    let mse = se / Double(a.pixels.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

@Suite struct WriteTests {
    @Test func writesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try smoothImage(width: 20, height: 10, channels: 3)
        let path = dir.appendingPathComponent("out.png").path
        try image.write(toFile: path)
        #expect(try Image(contentsOfFile: path) == image)
        try image.write(toFile: dir.appendingPathComponent("out.JPG").path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["out.JPG", "out.png"])
    }

    @Test func failedWriteKeepsTheOldFile() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("keep.jpg").path
        try FileIO.writeAtomically(Array("precious".utf8), to: path)
        let rgba = try smoothImage(width: 4, height: 4, channels: 4)
        do {
            try rgba.write(toFile: path)  // JPEG cannot hold alpha: must fail before touching the file
            Issue.record("RGBA written as JPEG")
        } catch {
            #expect(error.path == path)
        }
        #expect(try FileIO.read(path) == Array("precious".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["keep.jpg"])
    }

    @Test func unwritableFolderIsAnIOErrorNamingTheFile() throws {
        let image = try smoothImage(width: 4, height: 4, channels: 3)
        let path = "/nonexistent-kestrel-dir/x.png"
        do {
            try image.write(toFile: path)
            Issue.record("wrote into a missing folder")
        } catch {
            #expect(error.path == path)
            #expect(kindName(error.kind) == "io")
        }
        #expect(throws: ImageError.self) { try image.write(toFile: "/tmp/kestrel-no-extension") }
    }
}

@Suite struct LabelMapTests {
    @Test func vocPaletteByHand() {
        #expect(Palette.voc[0] == Color(0, 0, 0))
        #expect(Palette.voc[1] == Color(128, 0, 0))
        #expect(Palette.voc[2] == Color(0, 128, 0))
        #expect(Palette.voc[15] == Color(192, 128, 128))  // "person"
        #expect(Palette.voc[255] == Color(224, 224, 192))
    }

    @Test func paletteLabelMapsRoundTrip() throws {
        var rng = SeededRandom(seed: 5)
        let labels = (0..<(17 * 9)).map { _ in [0, 1, 2, 3, 4, 255].randomElement(using: &rng)! }.map(UInt8.init)
        let mask = try Image(width: 17, height: 9, channels: 1, pixels: labels)
        let bytes = try mask.encoded(.png(PNGEncodeOptions(palette: Palette.voc)))
        let info = try ImageCodec.info(bytes)
        #expect(info.colorModel == "palette")
        #expect(try ImageCodec.decodeLabels(bytes) == mask)
        // Decoded as a picture, the palette gives the VOC colours.
        let picture = try Image(decoding: bytes)
        #expect(picture.channels == 3)
        #expect(Array(picture.pixels[0..<3]) == [Palette.voc[Int(labels[0])].r, Palette.voc[Int(labels[0])].g, Palette.voc[Int(labels[0])].b])
    }

    @Test func labelMapsFromFixtures() throws {
        // A 4-bit palette PNG: indices unscaled; a 2-bit gray PNG: values unscaled (3, not 255).
        let pal = try ImageCodec.decodeLabels(contentsOfFile: Fixtures.path("images/png_pal4.png"))
        #expect(pal.channels == 1 && pal.pixels.allSatisfy { $0 < 16 })
        let gray2 = try ImageCodec.decodeLabels(contentsOfFile: Fixtures.path("images/png_gray2.png"))
        #expect(gray2.pixels.allSatisfy { $0 <= 3 } && gray2.pixels.contains(3))
        #expect(throws: ImageError.self) { try ImageCodec.decodeLabels(contentsOfFile: Fixtures.path("images/png_rgb8.png")) }
        #expect(throws: ImageError.self) { try ImageCodec.decodeLabels(contentsOfFile: Fixtures.path("images/jpeg_gray.jpg")) }
        let rgb = try Image(width: 2, height: 2, channels: 3)
        #expect(throws: ImageError.self) { try rgb.encoded(.png(PNGEncodeOptions(palette: Palette.voc))) }
    }
}
