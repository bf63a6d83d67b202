/// The file formats Kestrel reads and writes.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case png
    case jpeg

    /// The format the bytes start with, from magic numbers only (the file name is never trusted).
    /// `nil` when the bytes are neither PNG nor JPEG.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// The format a file name asks for when writing: `.png`, or `.jpg` / `.jpeg` (any case).
    public static func forWriting(path: String) -> ImageFormat? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "png": return .png
        case "jpg", "jpeg", "jpe": return .jpeg
        default: return nil
        }
    }

    /// A short description of bytes that are not PNG or JPEG, for error messages.
    static func describeUnknown(_ bytes: UnsafeRawBufferPointer) -> String {
        let signatures: [(String, [UInt8])] = [
            ("GIF", Array("GIF8".utf8)), ("BMP", Array("BM".utf8)), ("TIFF", [0x49, 0x49, 0x2A, 0x00]),
            ("TIFF", [0x4D, 0x4D, 0x00, 0x2A]), ("PDF", Array("%PDF".utf8)), ("ZIP", [0x50, 0x4B, 0x03, 0x04]),
            ("gzip", [0x1F, 0x8B]), ("JPEG 2000", [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50]),
            ("QOI", Array("qoif".utf8)),
        ]
        for (name, magic) in signatures where bytes.starts(with: magic) { return "looks like \(name)" }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)),
            Array(bytes[8..<12]) == Array("WEBP".utf8)
        {
            return "looks like WebP"
        }
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) { return "looks like HEIF/AVIF or MP4" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "damaged PNG signature" }
        if bytes.starts(with: [0xFF, 0xD8]) { return "damaged JPEG signature" }
        let head = bytes.prefix(512)
        let printable = head.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) || $0 >= 0x80 }
        if printable { return "looks like text" }
        let hex = bytes.prefix(8).map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        return "starts with \(hex)"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// What a file's header says, without decoding its pixels.
public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    /// Stored width in pixels (before EXIF orientation is applied).
    public var width: Int
    /// Stored height in pixels (before EXIF orientation is applied).
    public var height: Int
    /// Channels a default decode produces: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    /// (Palette PNGs decode to RGB or RGBA; CMYK/YCCK JPEGs decode to RGB.)
    public var channels: Int
    /// Bits per sample as stored: 1, 2, 4, 8 or 16 for PNG; 8 for JPEG.
    public var bitDepth: Int
    /// EXIF orientation 1...8 (1 when absent or unreadable).
    public var orientation: Int
    /// How the file stores colour: gray, gray+alpha, rgb, rgba, palette (PNG); gray, ycbcr, rgb, cmyk, ycck (JPEG).
    public var colorModel: String
    /// Adam7 interlaced PNG, or progressive JPEG.
    public var interlaced: Bool

    /// Width and height after the EXIF orientation is applied (orientations 5–8 swap them).
    public var orientedSize: (width: Int, height: Int) {
        orientation >= 5 ? (height, width) : (width, height)
    }
}

/// Options for decoding.
public struct DecodeOptions: Sendable, Equatable {
    /// Pillow refuses images over 2 × 89,478,485 pixels as decompression bombs; Kestrel uses the same figure.
    public static let defaultMaxPixels = 178_956_970

    /// Refuse images whose header claims more than this many pixels, before allocating pixel memory.
    public var maxPixels: Int
    /// Refuse files larger than this many bytes before reading them (default 1 GiB).
    public var maxFileBytes: Int
    /// Rotate/flip the pixels as the EXIF orientation tag says (JPEG APP1 Exif, PNG eXIf). Default `true`;
    /// `false` keeps the stored pixels.
    public var applyOrientation: Bool
    /// The channels to produce (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), or `nil` for the file's own
    /// (see ``ImageInfo/channels``). Conversions follow ``Raster/converted(toChannels:)``.
    public var channels: Int?
    /// By default a JPEG that libjpeg can only decode by padding or guessing (premature end of data,
    /// corrupt entropy data) is an error. `true` accepts it and reports the problem in
    /// ``Decoded/warnings`` instead.
    public var allowCorrupt: Bool

    public init(
        maxPixels: Int = DecodeOptions.defaultMaxPixels, maxFileBytes: Int = 1 << 30, applyOrientation: Bool = true,
        channels: Int? = nil, allowCorrupt: Bool = false
    ) {
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
        self.applyOrientation = applyOrientation
        self.channels = channels
        self.allowCorrupt = allowCorrupt
    }
}

/// A decoded image with what its header said and any warnings the decoder reported.
public struct Decoded<Sample: RasterSample>: Sendable {
    public var image: Raster<Sample>
    public var info: ImageInfo
    /// Problems the decoder worked around (only with ``DecodeOptions/allowCorrupt``).
    public var warnings: [String]
}
