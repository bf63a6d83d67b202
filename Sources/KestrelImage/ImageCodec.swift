/// Decoding and encoding entry points. Everything here is thread-safe: each call uses its own decoder state.
public enum ImageCodec {
    /// The format and header of an image in memory, without decoding its pixels.
    public static func info(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageInfo {
        switch try format(bytes) {
        case .png: try PNGCodec.info(bytes)
        case .jpeg: try JPEGCodec.info(bytes)
        }
    }

    /// Decodes a PNG or JPEG in memory (the format is detected from the bytes) to 8-bit samples.
    /// 16-bit PNG samples keep their high byte. See ``DecodeOptions`` for orientation, channel and limit
    /// options.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()
    ) throws(ImageError) -> Decoded<UInt8> {
        var image: Image
        var info: ImageInfo
        var warnings: [String] = []
        switch try format(bytes) {
        case .png:
            (image, info) = try PNGCodec.decode(bytes, maxPixels: options.maxPixels, as: UInt8.self)
        case .jpeg:
            (image, info, warnings) = try JPEGCodec.decode(
                bytes, maxPixels: options.maxPixels, allowCorrupt: options.allowCorrupt)
        }
        return try finish(image, info, warnings, options)
    }

    /// Decodes to 16-bit samples: full precision for 16-bit PNGs; every other file is decoded to 8 bits and
    /// widened (v·257).
    public static func decode16(
        _ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()
    ) throws(ImageError) -> Decoded<UInt16> {
        switch try format(bytes) {
        case .png:
            let (image, info) = try PNGCodec.decode(bytes, maxPixels: options.maxPixels, as: UInt16.self)
            return try finish(image, info, [], options)
        case .jpeg:
            let d = try decode(bytes, options: options)
            return Decoded(image: d.image.widened(), info: d.info, warnings: d.warnings)
        }
    }

    private static func finish<S>(
        _ image: Raster<S>, _ info: ImageInfo, _ warnings: [String], _ options: DecodeOptions
    ) throws(ImageError) -> Decoded<S> {
        var image = image
        if options.applyOrientation && info.orientation != 1 { image = image.oriented(info.orientation) }
        if let channels = options.channels { image = try image.converted(toChannels: channels) }
        return Decoded(image: image, info: info, warnings: warnings)
    }

    static func format(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageFormat {
        guard !bytes.isEmpty else { throw ImageError(.empty) }
        guard let format = ImageFormat.detect(bytes) else {
            throw ImageError(.unknownFormat(ImageFormat.describeUnknown(bytes)))
        }
        return format
    }

    /// Encodes 8-bit pixels. JPEG takes 1 or 3 channels; PNG any of 1–4.
    public static func encode(_ image: Image, _ options: EncodeOptions) throws(ImageError) -> [UInt8] {
        switch options {
        case .png(let png): try PNGCodec.encode(image, png)
        case .jpeg(let jpeg): try JPEGCodec.encode(image, jpeg)
        }
    }

    /// Encodes 16-bit pixels: PNG keeps all 16 bits; JPEG (8-bit only) keeps the high byte.
    public static func encode(_ image: Image16, _ options: EncodeOptions) throws(ImageError) -> [UInt8] {
        switch options {
        case .png(let png): try PNGCodec.encode(image, png)
        case .jpeg(let jpeg): try JPEGCodec.encode(image.narrowed(), jpeg)
        }
    }
}

/// The format and settings to encode with.
public enum EncodeOptions: Sendable, Equatable {
    case png(PNGEncodeOptions)
    case jpeg(JPEGEncodeOptions)

    /// PNG with default settings.
    public static var png: EncodeOptions { .png(PNGEncodeOptions()) }
    /// JPEG with default settings (quality 90, 4:2:0).
    public static var jpeg: EncodeOptions { .jpeg(JPEGEncodeOptions()) }

    /// Default settings for the format a file name asks for (`.png`, `.jpg`, `.jpeg`), or nil.
    public static func forPath(_ path: String) -> EncodeOptions? {
        switch ImageFormat.forWriting(path: path) {
        case .png: .png
        case .jpeg: .jpeg
        case nil: nil
        }
    }

    public var format: ImageFormat {
        switch self {
        case .png: .png
        case .jpeg: .jpeg
        }
    }
}

// MARK: - Label maps

extension ImageCodec {
    /// Decodes a label map (segmentation mask): a palette PNG gives its indices, an 8-bit (or lower) gray PNG its
    /// values, one channel, layout `[height, width, 1]`. Other files are an error (a JPEG's values are not
    /// labels). No EXIF orientation is applied: masks pair with their images pixel for pixel as stored.
    public static func decodeLabels(_ bytes: [UInt8], maxPixels: Int = DecodeOptions.defaultMaxPixels) throws(ImageError) -> Image {
        try withBytes(bytes) { b throws(ImageError) in
            switch try format(b) {
            case .png: try PNGCodec.decodeLabels(b, maxPixels: maxPixels)
            case .jpeg: throw ImageError(.unsupported("a label map must be a PNG (JPEG compression changes label values)"))
            }
        }
    }

    /// ``decodeLabels(_:maxPixels:)`` for a file. Errors name the file.
    public static func decodeLabels(contentsOfFile path: String, maxPixels: Int = DecodeOptions.defaultMaxPixels)
        throws(ImageError) -> Image
    {
        do { return try decodeLabels(try FileIO.read(path), maxPixels: maxPixels) } catch { throw error.at(path) }
    }
}

// MARK: - Byte arrays

extension ImageCodec {
    /// ``info(_:)-(UnsafeRawBufferPointer)`` for bytes in an array.
    public static func info(_ bytes: [UInt8]) throws(ImageError) -> ImageInfo {
        try withBytes(bytes) { b throws(ImageError) in try info(b) }
    }

    /// ``decode(_:options:)-(UnsafeRawBufferPointer,_)`` for bytes in an array.
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError)
        -> Decoded<UInt8>
    {
        try withBytes(bytes) { b throws(ImageError) in try decode(b, options: options) }
    }

    /// ``decode16(_:options:)-(UnsafeRawBufferPointer,_)`` for bytes in an array.
    public static func decode16(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError)
        -> Decoded<UInt16>
    {
        try withBytes(bytes) { b throws(ImageError) in try decode16(b, options: options) }
    }
}

// MARK: - Files

extension ImageCodec {
    /// The header of an image file. Errors name the file.
    public static func info(contentsOfFile path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError)
        -> ImageInfo
    {
        do {
            let bytes = try FileIO.read(path, maxBytes: options.maxFileBytes)
            return try withBytes(bytes) { b throws(ImageError) in try info(b) }
        } catch { throw error.at(path) }
    }

    /// Decodes an image file to 8-bit samples. Errors name the file.
    public static func decode(contentsOfFile path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError)
        -> Decoded<UInt8>
    {
        do {
            let bytes = try FileIO.read(path, maxBytes: options.maxFileBytes)
            return try withBytes(bytes) { b throws(ImageError) in try decode(b, options: options) }
        } catch { throw error.at(path) }
    }

    /// Decodes an image file to 16-bit samples. Errors name the file.
    public static func decode16(contentsOfFile path: String, options: DecodeOptions = DecodeOptions())
        throws(ImageError) -> Decoded<UInt16>
    {
        do {
            let bytes = try FileIO.read(path, maxBytes: options.maxFileBytes)
            return try withBytes(bytes) { b throws(ImageError) in try decode16(b, options: options) }
        } catch { throw error.at(path) }
    }
}

extension Raster where Sample == UInt8 {
    /// Decodes a PNG or JPEG file (format from its bytes, not its name). Errors name the file.
    public init(contentsOfFile path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError) {
        self = try ImageCodec.decode(contentsOfFile: path, options: options).image
    }

    /// Decodes a PNG or JPEG held in memory.
    public init(decoding bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError) {
        self = try withBytes(bytes) { b throws(ImageError) in try ImageCodec.decode(b, options: options).image }
    }

    /// The encoded file bytes.
    public func encoded(_ options: EncodeOptions) throws(ImageError) -> [UInt8] {
        try ImageCodec.encode(self, options)
    }

    /// Encodes and writes atomically (see ``FileIO/writeAtomically(_:to:)``). With `options` nil the format
    /// comes from the extension (`.png`, `.jpg`, `.jpeg`) with default settings.
    public func write(toFile path: String, options: EncodeOptions? = nil) throws(ImageError) {
        guard let options = options ?? EncodeOptions.forPath(path) else {
            throw ImageError(.invalidArgument("cannot tell the format from the name; use .png, .jpg or .jpeg"), path: path)
        }
        do { try FileIO.writeAtomically(try encoded(options), to: path) } catch { throw error.at(path) }
    }
}

extension Raster where Sample == UInt16 {
    /// Decodes a PNG or JPEG file keeping 16-bit precision where the file has it. Errors name the file.
    public init(contentsOfFile path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError) {
        self = try ImageCodec.decode16(contentsOfFile: path, options: options).image
    }

    /// Decodes a PNG or JPEG held in memory, keeping 16-bit precision where the data has it.
    public init(decoding bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError) {
        self = try withBytes(bytes) { b throws(ImageError) in try ImageCodec.decode16(b, options: options).image }
    }

    /// The encoded file bytes (PNG keeps 16 bits; JPEG keeps the high byte).
    public func encoded(_ options: EncodeOptions) throws(ImageError) -> [UInt8] {
        try ImageCodec.encode(self, options)
    }

    /// Encodes and writes atomically; see ``Raster/write(toFile:options:)`` on ``Image``.
    public func write(toFile path: String, options: EncodeOptions? = nil) throws(ImageError) {
        guard let options = options ?? EncodeOptions.forPath(path) else {
            throw ImageError(.invalidArgument("cannot tell the format from the name; use .png, .jpg or .jpeg"), path: path)
        }
        do { try FileIO.writeAtomically(try encoded(options), to: path) } catch { throw error.at(path) }
    }
}

/// `Array.withUnsafeBytes` with the typed error preserved (the standard library's version is untyped `rethrows`).
@inline(__always)
func withBytes<T>(
    _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ImageError) -> T
) throws(ImageError) -> T {
    let result: Result<T, ImageError> = bytes.withUnsafeBytes { b in Result { () throws(ImageError) in try body(b) } }
    return try result.get()
}
