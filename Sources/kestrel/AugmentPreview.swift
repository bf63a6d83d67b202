import KestrelAugment
import KestrelImage

/// The `--preview` contact sheet: one row per input image, the original first, then its augmented copies, each
/// scaled to fit a square cell, with label masks tinted and boxes outlined (colour by class).
///
/// A minimal drawing helper of its own (outlines and tints, no text); a general plotting module can replace it.
enum ContactSheet {
    static let cell = 176
    static let gap = 8
    static let background: UInt8 = 40

    /// Distinct colours for class ids (cycled).
    static let palette: [(UInt8, UInt8, UInt8)] = [
        (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
        (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255),
    ]

    static func render(_ rows: [[Sample]]) throws(ImageError) -> Image {
        let rows = rows.filter { !$0.isEmpty }
        let columns = max(1, rows.map(\.count).max() ?? 1)
        let width = gap + columns * (cell + gap)
        let height = gap + max(1, rows.count) * (cell + gap)
        var sheet = try Image(width: width, height: height, channels: 3, fill: background)
        for (r, row) in rows.enumerated() {
            for (c, sample) in row.enumerated() {
                guard let tile = try? thumbnail(sample) else { continue }
                let x = gap + c * (cell + gap) + (cell - tile.width) / 2
                let y = gap + r * (cell + gap) + (cell - tile.height) / 2
                for ty in 0..<tile.height {
                    for tx in 0..<tile.width {
                        for k in 0..<3 { sheet[x + tx, y + ty, k] = tile[tx, ty, k] }
                    }
                }
            }
        }
        return sheet
    }

    /// The sample scaled to fit a cell (boxes and mask scaled with it), as RGB with the mask tinted and the
    /// boxes outlined.
    static func thumbnail(_ sample: Sample) throws -> Image {
        var s = sample
        if s.image.channels != 3 {
            s.image = s.image.channels == 2 || s.image.channels == 4 ? s.image.flattened(onto: 255) : s.image
            s.image = try s.image.converted(toChannels: 3)
        }
        let scale = min(Double(cell) / Double(s.width), Double(cell) / Double(s.height))
        let w = max(1, Int((Double(s.width) * scale).rounded()))
        let h = max(1, Int((Double(s.height) * scale).rounded()))
        try Resize(width: w, height: h, interpolation: scale < 1 ? .area : .bilinear).apply((), to: &s)
        var image = s.image
        if let mask = s.mask {
            for y in 0..<h {
                for x in 0..<w {
                    let label = mask[x, y, 0]
                    guard label != 0 else { continue }
                    let colour = label == 255 ? (128, 128, 128) : palette[Int(label - 1) % palette.count]
                    let tint = [colour.0, colour.1, colour.2]
                    for k in 0..<3 { image[x, y, k] = UInt8((Int(image[x, y, k]) * 55 + Int(tint[k]) * 45) / 100) }
                }
            }
        }
        for b in s.boxes {
            let colour = palette[((b.label % palette.count) + palette.count) % palette.count]
            outline(
                &image, x1: Int(b.box.x1.rounded()), y1: Int(b.box.y1.rounded()), x2: Int(b.box.x2.rounded()) - 1,
                y2: Int(b.box.y2.rounded()) - 1, colour: colour)
        }
        return image
    }

    /// A 2-pixel rectangle outline on the inclusive pixel rectangle [x1, x2] × [y1, y2], clipped to the image.
    static func outline(_ image: inout Image, x1: Int, y1: Int, x2: Int, y2: Int, colour: (UInt8, UInt8, UInt8)) {
        func dot(_ x: Int, _ y: Int) {
            guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
            image[x, y, 0] = colour.0
            image[x, y, 1] = colour.1
            image[x, y, 2] = colour.2
        }
        guard x2 >= x1, y2 >= y1 else { return }
        for t in 0..<2 {
            for x in x1...x2 {
                dot(x, y1 + t)
                dot(x, y2 - t)
            }
            for y in y1...y2 {
                dot(x1 + t, y)
                dot(x2 - t, y)
            }
        }
    }
}
