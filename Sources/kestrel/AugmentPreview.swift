import KestrelAugment
import KestrelImage
import KestrelPlot

typealias PlotColor = KestrelPlot.Color

/// The `--preview` contact sheet: one row per input image, the original first, then its augmented copies, each
/// scaled to fit a square cell, with label masks tinted and boxes outlined and named (colour by class), drawn
/// with KestrelPlot's canvas.
enum ContactSheet {
    static let cell = 176
    static let gap = 8
    static let background = PlotColor(40, 40, 40)

    static func colour(_ label: Int) -> PlotColor {
        PlotColor.palette[((label % PlotColor.palette.count) + PlotColor.palette.count) % PlotColor.palette.count]
    }

    static func render(_ rows: [[Sample]], classNames: [Int: String] = [:]) throws(ImageError) -> Image {
        let rows = rows.filter { !$0.isEmpty }
        let columns = max(1, rows.map(\.count).max() ?? 1)
        var canvas = Canvas(
            width: gap + columns * (cell + gap), height: gap + max(1, rows.count) * (cell + gap),
            background: background)
        for (r, row) in rows.enumerated() {
            for (c, sample) in row.enumerated() {
                guard let tile = try? thumbnail(sample) else { continue }
                let x0 = gap + c * (cell + gap) + (cell - tile.image.width) / 2
                let y0 = gap + r * (cell + gap) + (cell - tile.image.height) / 2
                for y in 0..<tile.image.height {
                    for x in 0..<tile.image.width {
                        canvas.set(
                            x0 + x, y0 + y, PlotColor(tile.image[x, y, 0], tile.image[x, y, 1], tile.image[x, y, 2]))
                    }
                }
                canvas.clip = (x0, y0, x0 + tile.image.width, y0 + tile.image.height)
                for b in tile.boxes {
                    canvas.drawLabeledBox(
                        x1: Double(x0) + b.box.x1, y1: Double(y0) + b.box.y1, x2: Double(x0) + b.box.x2,
                        y2: Double(y0) + b.box.y2, label: classNames[b.label] ?? String(b.label), colour(b.label))
                }
                canvas.clip = (0, 0, canvas.width, canvas.height)
            }
        }
        return try canvas.makeImage()
    }

    /// The sample scaled to fit a cell (boxes and mask scaled with it), as RGB with the mask tinted.
    static func thumbnail(_ sample: Sample) throws -> Sample {
        var s = sample
        if s.image.channels != 3 {
            s.image = s.image.channels == 2 || s.image.channels == 4 ? s.image.flattened(onto: 255) : s.image
            s.image = try s.image.converted(toChannels: 3)
        }
        let scale = min(Double(cell) / Double(s.width), Double(cell) / Double(s.height))
        let w = max(1, Int((Double(s.width) * scale).rounded()))
        let h = max(1, Int((Double(s.height) * scale).rounded()))
        try Resize(width: w, height: h, interpolation: scale < 1 ? .area : .bilinear).apply((), to: &s)
        if let mask = s.mask {
            for y in 0..<h {
                for x in 0..<w {
                    let label = mask[x, y, 0]
                    guard label != 0 else { continue }
                    let tint: PlotColor = label == 255 ? PlotColor.gray : colour(Int(label))
                    let channels: [Int] = [Int(tint.r), Int(tint.g), Int(tint.b)]
                    for k in 0..<3 {
                        let mixed = (Int(s.image[x, y, k]) * 55 + channels[k] * 45) / 100
                        s.image[x, y, k] = UInt8(mixed)
                    }
                }
            }
        }
        return s
    }
}
