import KestrelAugment
import KestrelImage
import _KestrelTestSupport

/// Test inputs: crops of a real photo (datasets/photos/astronaut.png), so colour kernels see natural
/// statistics, and synthetic images whose pixel values say where they came from.
enum TestImages {
    static let astronaut: Image = {
        guard let image = try? Image(contentsOfFile: Fixtures.dataset("photos/astronaut.png")) else {
            preconditionFailure("datasets/photos/astronaut.png is missing")
        }
        return image
    }()

    /// A `width × height` RGB image: a crop of the photo chosen by `seed`, area-resized.
    static func photo(width: Int, height: Int, seed: UInt64) throws -> Image {
        var r = SeededRandom(seed: seed)
        let side = Int.random(in: 64...256, using: &r)
        let x = Int.random(in: 0...(512 - side), using: &r)
        let y = Int.random(in: 0...(512 - side), using: &r)
        var s = try Sample(image: astronaut)
        let crop = try Crop(x: x, y: y, width: side, height: side)
        crop.apply(crop.rect(width: 512, height: 512), to: &s)
        try Resize(width: width, height: height, interpolation: .area).apply((), to: &s)
        return s.image
    }

    /// Uniformly random samples, for kernels that must handle any values.
    static func noise(width: Int, height: Int, channels: Int, seed: UInt64) throws -> Image {
        var r = SeededRandom(seed: seed)
        return try Image(
            width: width, height: height, channels: channels,
            pixels: (0..<(width * height * channels)).map { _ in UInt8.random(in: 0...255, using: &r) })
    }

    /// A 1-channel label image with a few rectangles of classes 1...5 on background 0.
    static func labels(width: Int, height: Int, seed: UInt64) throws -> Image {
        var r = SeededRandom(seed: seed)
        var mask = try Image(width: width, height: height, channels: 1)
        for label in 1...5 {
            let w = Int.random(in: 1...max(1, width / 2), using: &r)
            let h = Int.random(in: 1...max(1, height / 2), using: &r)
            let x0 = Int.random(in: 0...(width - w), using: &r)
            let y0 = Int.random(in: 0...(height - h), using: &r)
            for y in y0..<(y0 + h) { for x in x0..<(x0 + w) { mask[x, y, 0] = UInt8(label) } }
        }
        return mask
    }
}
