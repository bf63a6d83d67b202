@_exported import KestrelImage

/// Named colours for drawing (the colour type itself is KestrelImage's ``Color``, sRGB, 8 bits per channel).
extension Color {
    public static let white = Color(255, 255, 255)
    public static let black = Color(0, 0, 0)
    public static let gray = Color(128, 128, 128)
    public static let lightGray = Color(225, 225, 225)

    /// Ten distinguishable series colours (the "tab10" palette of matplotlib's default cycle).
    public static let palette: [Color] = [
        Color(31, 119, 180), Color(255, 127, 14), Color(44, 160, 44), Color(214, 39, 40), Color(148, 103, 189),
        Color(140, 86, 75), Color(227, 119, 194), Color(127, 127, 127), Color(188, 189, 34), Color(23, 190, 207),
    ]
}

/// A raster to draw on: `width × height` RGB pixels, origin at the top-left, x to the right, y down; pixel
/// (x, y) covers [x, x+1) × [y, y+1). Drawing outside the canvas (or outside `clip`) is silently cut off.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// RGB samples, layout `[height, width, 3]`.
    public private(set) var pixels: [UInt8]
    /// Drawing is limited to this rectangle (x0, y0, x1, y1), half-open; the whole canvas by default.
    public var clip: (x0: Int, y0: Int, x1: Int, y1: Int)

    /// A canvas filled with `background`. Sizes are clamped to at least 1.
    public init(width: Int, height: Int, background: Color = .white) {
        self.width = max(1, width)
        self.height = max(1, height)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 3)
        clip = (0, 0, self.width, self.height)
        for i in 0..<(self.width * self.height) {
            pixels[3 * i] = background.r
            pixels[3 * i + 1] = background.g
            pixels[3 * i + 2] = background.b
        }
    }

    /// A canvas holding a copy of `image` (gray and gray+alpha are expanded to RGB; alpha is dropped after
    /// compositing onto white).
    public init(image: Image) {
        let flat = image.flattened(onto: 255)
        self.init(width: flat.width, height: flat.height, background: .black)
        let c = flat.channels
        for y in 0..<height {
            for x in 0..<width {
                let i = 3 * (y * width + x)
                for k in 0..<3 { pixels[i + k] = flat[x, y, c == 1 ? 0 : k] }
            }
        }
    }

    /// Sets one pixel (ignored outside the clip rectangle).
    public mutating func set(_ x: Int, _ y: Int, _ c: Color) {
        guard x >= max(0, clip.x0), y >= max(0, clip.y0), x < min(width, clip.x1), y < min(height, clip.y1) else { return }
        let i = 3 * (y * width + x)
        pixels[i] = c.r
        pixels[i + 1] = c.g
        pixels[i + 2] = c.b
    }

    /// The colour at (x, y), which must be on the canvas.
    public func color(_ x: Int, _ y: Int) -> Color {
        let i = 3 * (y * width + x)
        return Color(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Fills the rectangle [x, x+w) × [y, y+h).
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: Color) {
        guard w > 0, h > 0 else { return }
        for yy in y..<(y + h) {
            for xx in x..<(x + w) { set(xx, yy, c) }
        }
    }

    /// Outlines the rectangle [x, x+w) × [y, y+h) with 1-pixel lines.
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ c: Color) {
        guard w > 0, h > 0 else { return }
        fillRect(x: x, y: y, width: w, height: 1, c)
        fillRect(x: x, y: y + h - 1, width: w, height: 1, c)
        fillRect(x: x, y: y, width: 1, height: h, c)
        fillRect(x: x + w - 1, y: y, width: 1, height: h, c)
    }

    /// A detection-style box: a 2-pixel outline of the rectangle [x1, x2) × [y1, y2) (pixel coordinates,
    /// rounded) and, if `label` is not empty, the label in black on a filled tab at its top-left corner.
    public mutating func drawLabeledBox(x1: Double, y1: Double, x2: Double, y2: Double, label: String, _ c: Color) {
        guard x1.isFinite, y1.isFinite, x2.isFinite, y2.isFinite else { return }
        let clamp = { (v: Double) in Int(max(-1e6, min(1e6, v)).rounded()) }
        let x = clamp(x1), y = clamp(y1)
        let w = max(1, clamp(x2) - x), h = max(1, clamp(y2) - y)
        strokeRect(x: x, y: y, width: w, height: h, c)
        strokeRect(x: x + 1, y: y + 1, width: max(1, w - 2), height: max(1, h - 2), c)
        guard !label.isEmpty else { return }
        fillRect(x: x, y: y, width: BitmapFont.width(label) + 3, height: BitmapFont.glyphHeight + 3, c)
        drawText(label, x: x + 2, y: y + 2, .black)
    }

    /// A straight line between pixel centres (Bresenham), `thickness` pixels wide (a square pen).
    public mutating func drawLine(from p0: (x: Int, y: Int), to p1: (x: Int, y: Int), _ c: Color, thickness: Int = 1) {
        var x = p0.x, y = p0.y
        let dx = abs(p1.x - x), dy = -abs(p1.y - y)
        let sx = x < p1.x ? 1 : -1, sy = y < p1.y ? 1 : -1
        var err = dx + dy
        let lo = -(max(1, thickness) - 1) / 2, hi = lo + max(1, thickness)
        // Guard against absurd coordinates (e.g. from huge values mapped to pixels): at most 1e6 steps.
        var steps = 0
        while steps < 1_000_000 {
            for oy in lo..<hi {
                for ox in lo..<hi { set(x + ox, y + oy, c) }
            }
            if x == p1.x && y == p1.y { break }
            let e2 = 2 * err
            if e2 >= dy {
                err += dy
                x += sx
            }
            if e2 <= dx {
                err += dx
                y += sy
            }
            steps += 1
        }
    }

    /// Draws `text` with the built-in ``BitmapFont``, its top-left corner at (x, y), each font pixel a
    /// `scale × scale` block. With `vertical`, the text runs upwards (rotated 90° anticlockwise) from (x, y),
    /// which is then its bottom-left corner.
    public mutating func drawText(_ text: String, x: Int, y: Int, _ c: Color, scale: Int = 1, vertical: Bool = false) {
        let s = max(1, scale)
        for (n, ch) in text.enumerated() {
            let rows = BitmapFont.rows(ch)
            for (row, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(col)) != 0 {
                    let u = n * BitmapFont.advance + col, v = row
                    if vertical {
                        fillRect(x: x + v * s, y: y - (u + 1) * s, width: s, height: s, c)
                    } else {
                        fillRect(x: x + u * s, y: y + v * s, width: s, height: s, c)
                    }
                }
            }
        }
    }

    /// The canvas as an 8-bit RGB ``Image`` (`[height, width, 3]`).
    public func makeImage() throws(ImageError) -> Image {
        try Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// Writes the canvas as a PNG (atomically; see ``KestrelImage/FileIO``).
    public func writePNG(toFile path: String) throws(ImageError) {
        try makeImage().write(toFile: path, options: .png)
    }
}
