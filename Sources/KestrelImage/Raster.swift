/// A sample type an image can hold: 8-bit (`UInt8`) or 16-bit (`UInt16`) unsigned integers.
public protocol RasterSample: FixedWidthInteger, UnsignedInteger, Sendable {
    /// Bits per sample: 8 or 16.
    static var bitDepth: Int { get }
}

extension UInt8: RasterSample {
    public static var bitDepth: Int { 8 }
}

extension UInt16: RasterSample {
    public static var bitDepth: Int { 16 }
}

/// An image held as interleaved samples.
///
/// Layout: `[height, width, channels]`, row-major (HWC), no row padding, origin at the top-left; the sample of
/// channel `c` at column `x`, row `y` is `pixels[(y * width + x) * channels + c]`. Channels are 1 (gray),
/// 2 (gray + alpha), 3 (RGB) or 4 (RGBA); alpha is straight (not premultiplied). Colour values are the file's
/// values: no gamma or colour-profile conversion is applied.
///
/// A value type with copy-on-write storage. Use ``Image`` (8-bit) for almost everything; ``Image16`` keeps the
/// full precision of 16-bit PNGs.
public struct Raster<Sample: RasterSample>: Sendable, Equatable {
    /// Columns, ≥ 1.
    public let width: Int
    /// Rows, ≥ 1.
    public let height: Int
    /// Samples per pixel, 1...4.
    public let channels: Int
    /// `width * height * channels` interleaved samples, layout `[height, width, channels]`.
    public var pixels: [Sample]

    /// Wraps existing samples. Throws when the dimensions are not positive, `channels` is not 1...4, or
    /// `pixels.count != width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [Sample]) throws(ImageError) {
        try Self.validate(width: width, height: height, channels: channels)
        guard pixels.count == width * height * channels else {
            throw ImageError(.invalidArgument(
                "\(pixels.count) samples given for a \(width)x\(height)x\(channels) image (needs \(width * height * channels))"))
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every sample set to `value`.
    public init(width: Int, height: Int, channels: Int, fill value: Sample = 0) throws(ImageError) {
        try Self.validate(width: width, height: height, channels: channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Sample](repeating: value, count: width * height * channels)
    }

    /// For code in this module that has already validated the arguments.
    init(uncheckedWidth width: Int, height: Int, channels: Int, pixels: [Sample]) {
        assert(pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    static func validate(width: Int, height: Int, channels: Int) throws(ImageError) {
        guard width > 0, height > 0 else {
            throw ImageError(.invalidArgument("image size must be positive, got \(width)x\(height)"))
        }
        guard (1...4).contains(channels) else {
            throw ImageError(.invalidArgument("channels must be 1...4, got \(channels)"))
        }
        let (count, overflow) = width.multipliedReportingOverflow(by: height * channels)
        guard !overflow, count <= Int(Int32.max) * 16 else {
            throw ImageError(.invalidArgument("image size \(width)x\(height)x\(channels) is too large"))
        }
    }

    /// Number of pixels, `width * height`.
    public var pixelCount: Int { width * height }

    /// Samples per row, `width * channels`.
    public var rowLength: Int { width * channels }

    /// The sample at column `x`, row `y`, channel `c` (all zero-based).
    public subscript(x: Int, y: Int, c: Int) -> Sample {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}

/// An 8-bit image: the type every Kestrel stage works with. See ``Raster`` for the layout.
public typealias Image = Raster<UInt8>

/// A 16-bit image, for users who need the full precision of 16-bit PNGs. See ``Raster`` for the layout.
public typealias Image16 = Raster<UInt16>
