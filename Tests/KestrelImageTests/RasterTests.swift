import KestrelImage
import Testing
import _KestrelTestSupport

@Suite struct RasterTests {
    /// 3 x 2 image whose pixel value is its index, to read orientations off by hand.
    func numbered() throws -> Image { try Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5]) }

    @Test func orientationsByHand() throws {
        let m = try numbered()  // 0 1 2 / 3 4 5
        let expected: [Int: (Int, Int, [UInt8])] = [
            1: (3, 2, [0, 1, 2, 3, 4, 5]),
            2: (3, 2, [2, 1, 0, 5, 4, 3]),
            3: (3, 2, [5, 4, 3, 2, 1, 0]),
            4: (3, 2, [3, 4, 5, 0, 1, 2]),
            5: (2, 3, [0, 3, 1, 4, 2, 5]),
            6: (2, 3, [3, 0, 4, 1, 5, 2]),  // 90° clockwise
            7: (2, 3, [5, 2, 4, 1, 3, 0]),
            8: (2, 3, [2, 5, 1, 4, 0, 3]),  // 90° counter-clockwise
        ]
        for (o, (w, h, px)) in expected {
            let r = m.oriented(o)
            #expect(r.width == w && r.height == h, "orientation \(o)")
            #expect(r.pixels == px, "orientation \(o)")
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func orientationsInvertEachOther(seed: UInt64) throws {
        let image = try randomImage(UInt8.self, width: 7, height: 4, channels: 3, seed: seed)
        // 6 (clockwise) then 8 (counter-clockwise) is the identity; mirrors and 180° are involutions.
        #expect(image.oriented(6).oriented(8) == image)
        for o in [2, 3, 4, 5, 7] { #expect(image.oriented(o).oriented(o) == image) }
        #expect(image.oriented(6).oriented(6) == image.oriented(3))
    }

    @Test func channelConversionsByHand() throws {
        let rgb = try Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        // Pillow's luma: (19595 R + 38470 G + 7471 B + 32768) >> 16
        #expect(try rgb.converted(toChannels: 1).pixels == [76, 124])
        #expect(try rgb.converted(toChannels: 4).pixels == [255, 0, 0, 255, 10, 200, 30, 255])
        #expect(try rgb.converted(toChannels: 2).pixels == [76, 255, 124, 255])
        let ga = try Image(width: 1, height: 1, channels: 2, pixels: [9, 128])
        #expect(try ga.converted(toChannels: 4).pixels == [9, 9, 9, 128])
        #expect(try ga.converted(toChannels: 1).pixels == [9])
        #expect(throws: ImageError.self) { try ga.converted(toChannels: 0) }
    }

    @Test func widenAndNarrow() throws {
        let image = try Image(width: 2, height: 1, channels: 1, pixels: [0, 255])
        #expect(image.widened().pixels == [0, 65535])
        #expect(image.widened().narrowed() == image)
    }

    @Test func formatDetectionUsesMagicBytesNotNames() {
        func detect(_ b: [UInt8]) -> ImageFormat? { b.withUnsafeBytes { ImageFormat.detect($0) } }
        #expect(detect([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(detect([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(detect(Array("GIF89a".utf8)) == nil)
        #expect(detect([0x89, 0x50, 0x4E]) == nil)
        #expect(ImageFormat.forWriting(path: "a/b.JPEG") == .jpeg)
        #expect(ImageFormat.forWriting(path: "a.b/c") == nil)
    }

    @Test func decodeOptionsConvertChannels() throws {
        let gray = Fixtures.path("images/jpeg_gray.jpg")
        let asRGB = try Image(contentsOfFile: gray, options: DecodeOptions(channels: 3))
        let native = try Image(contentsOfFile: gray)
        #expect(native.channels == 1 && asRGB.channels == 3)
        #expect(asRGB == (try native.converted(toChannels: 3)))
    }
}

@Suite struct SHA256Tests {
    @Test func fipsVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
