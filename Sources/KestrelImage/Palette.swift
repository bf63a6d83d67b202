/// An RGB colour with 8-bit channels.
public struct Color: Sendable, Hashable, Codable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }
}

/// Colour palettes for label maps.
public enum Palette {
    /// The Pascal VOC colour map (256 entries, the devkit's `labelcolormap`): index 0 black, 1 (128, 0, 0),
    /// 2 (0, 128, 0), …, 255 (224, 224, 192) for "ignore". Bits of the index are spread over the colour's bits.
    public static let voc: [Color] = (0..<256).map { i in
        var (r, g, b) = (0, 0, 0)
        var c = i
        for j in 0..<8 {
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        }
        return Color(UInt8(r), UInt8(g), UInt8(b))
    }
}
