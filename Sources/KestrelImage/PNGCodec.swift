import CKestrelCodecs

/// PNG through libpng (via the setjmp-guarded shim in CKestrelCodecs).
enum PNGCodec {
    /// The header and any eXIf orientation, read without decoding pixels. The decoder is left ready to decode.
    private static func readHeader(_ d: OpaquePointer) throws(ImageError) -> (kc_png_info, ImageInfo) {
        var raw = kc_png_info()
        let status = kc_png_read_header(d, &raw)
        guard status == KC_OK else { throw failure(status, d) }
        var orientation = 1
        var exifSize: UInt32 = 0
        if raw.has_exif != 0, let exif = kc_png_exif(d, &exifSize) {
            orientation = EXIF.orientation(tiff: UnsafeRawBufferPointer(start: exif, count: Int(exifSize))) ?? 1
        }
        let models = [0: "gray", 2: "rgb", 3: "palette", 4: "gray+alpha", 6: "rgba"]
        let info = ImageInfo(
            format: .png, width: Int(raw.width), height: Int(raw.height), channels: Int(raw.out_channels),
            bitDepth: Int(raw.bit_depth), orientation: orientation,
            colorModel: models[Int(raw.color_type)] ?? "unknown", interlaced: raw.interlaced != 0)
        return (raw, info)
    }

    private static func failure(_ status: kc_status, _ d: OpaquePointer) -> ImageError {
        let message = String(cString: kc_png_message(d))
        switch status {
        case KC_TRUNCATED: return ImageError(.truncated(message))
        case KC_NOMEM: return ImageError(.io("out of memory: \(message)"))
        default: return ImageError(.corrupt(message))
        }
    }

    private static func withDecoder<T>(
        _ bytes: UnsafeRawBufferPointer, _ body: (OpaquePointer) throws(ImageError) -> T
    ) throws(ImageError) -> T {
        guard let base = bytes.baseAddress,
            let d = kc_png_decoder_create(base.assumingMemoryBound(to: UInt8.self), bytes.count)
        else { throw ImageError(.io("out of memory creating the PNG decoder")) }
        defer { kc_png_decoder_destroy(d) }
        return try body(d)
    }

    static func info(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageInfo {
        try withDecoder(bytes) { d throws(ImageError) in try readHeader(d).1 }
    }

    /// Decodes to 8 bits per sample (16-bit files keep the high byte), or to 16 bits when `Sample` is UInt16
    /// (files of 8 bits and fewer are widened by ×257 after libpng's expansion to 8 bits).
    static func decode<Sample: RasterSample>(
        _ bytes: UnsafeRawBufferPointer, maxPixels: Int, as: Sample.Type
    ) throws(ImageError) -> (Raster<Sample>, ImageInfo) {
        try withDecoder(bytes) { d throws(ImageError) in
            let (raw, info) = try readHeader(d)
            try checkLimit(width: info.width, height: info.height, maxPixels: maxPixels)
            let native16 = raw.bit_depth == 16 && Sample.bitDepth == 16
            if Sample.bitDepth == 16 && !native16 {
                let image8: Image = try decodePixels(d, info, want16: false)
                return (image8.widened() as! Raster<Sample>, info)
            }
            return (try decodePixels(d, info, want16: native16), info)
        }
    }

    /// A label map: palette indices, or gray values of up to 8 bits unscaled, one byte per pixel.
    static func decodeLabels(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImageError) -> Image {
        try withDecoder(bytes) { d throws(ImageError) in
            let (raw, info) = try readHeader(d)
            try checkLimit(width: info.width, height: info.height, maxPixels: maxPixels)
            guard raw.color_type == 3 || (raw.color_type == 0 && raw.bit_depth <= 8) else {
                throw ImageError(.unsupported("a label map must be a palette or gray PNG of at most 8 bits (this is \(info.colorModel), \(info.bitDepth)-bit)"))
            }
            let count = info.width * info.height
            var status = KC_OK
            let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                status = kc_png_decode_into(d, buffer.baseAddress, info.width, Int32(KC_PNG_INDICES))
                initialized = status == KC_OK ? count : 0
            }
            guard status == KC_OK else { throw failure(status, d) }
            return Image(uncheckedWidth: info.width, height: info.height, channels: 1, pixels: pixels)
        }
    }

    private static func decodePixels<S: RasterSample>(
        _ d: OpaquePointer, _ info: ImageInfo, want16: Bool
    ) throws(ImageError) -> Raster<S> {
        let count = info.width * info.height * info.channels
        var status = KC_OK
        let pixels = [S](unsafeUninitializedCapacity: count) { buffer, initialized in
            let rowBytes = info.width * info.channels * MemoryLayout<S>.stride
            status = buffer.withMemoryRebound(to: UInt8.self) { bytes in
                kc_png_decode_into(d, bytes.baseAddress, rowBytes, want16 ? Int32(KC_PNG_WANT16) : 0)
            }
            initialized = status == KC_OK ? count : 0
        }
        guard status == KC_OK else { throw failure(status, d) }
        return Raster(uncheckedWidth: info.width, height: info.height, channels: info.channels, pixels: pixels)
    }

    static func encode<Sample: RasterSample>(
        _ image: Raster<Sample>, _ options: PNGEncodeOptions
    ) throws(ImageError) -> [UInt8] {
        guard (0...9).contains(options.compressionLevel) else {
            throw ImageError(.invalidArgument("PNG compression level must be 0...9, got \(options.compressionLevel)"))
        }
        if let palette = options.palette {
            guard image.channels == 1, Sample.bitDepth == 8 else {
                throw ImageError(.invalidArgument("a palette PNG is written from a 1-channel 8-bit image (the indices)"))
            }
            guard (1...256).contains(palette.count) else {
                throw ImageError(.invalidArgument("a PNG palette has 1-256 colours, got \(palette.count)"))
            }
        }
        var out = kc_buffer()
        defer { kc_buffer_free(&out) }
        var message = [CChar](repeating: 0, count: Int(KC_MESSAGE_CAPACITY))
        let flat: [UInt8] = options.palette.map { $0.flatMap { [$0.r, $0.g, $0.b] } } ?? []
        let status = image.pixels.withUnsafeBytes { px in
            message.withUnsafeMutableBufferPointer { msg in
                flat.withUnsafeBufferPointer { pal in
                    kc_png_encode(
                        px.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt32(image.width), UInt32(image.height),
                        image.rowLength * MemoryLayout<Sample>.stride, Int32(image.channels), Int32(Sample.bitDepth),
                        Int32(options.compressionLevel), options.filter.libpngMask, options.strategy.zlibValue,
                        options.palette == nil ? nil : pal.baseAddress, Int32(flat.count / 3), &out, msg.baseAddress)
                }
            }
        }
        guard status == KC_OK else {
            throw ImageError(.io("PNG encoding failed: \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"))
        }
        return Array(UnsafeBufferPointer(start: out.data, count: out.size))
    }
}

func checkLimit(width: Int, height: Int, maxPixels: Int) throws(ImageError) {
    guard width > 0, height > 0 else { throw ImageError(.corrupt("image has zero width or height")) }
    let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
    guard !overflow, pixels <= maxPixels else {
        throw ImageError(.tooLarge(width: width, height: height, limit: maxPixels))
    }
}

/// How libpng chooses each row's filter when encoding.
public enum PNGFilter: String, Sendable, CaseIterable, Codable {
    /// No filtering: fastest, largest files.
    case none
    /// Each byte minus the one to its left: fast, and compresses photos nearly as well as `adaptive` at low
    /// zlib levels.
    case sub
    case up
    case average
    /// Predicts from the left, upper and upper-left neighbours: Kestrel's default (see `adaptive`).
    case paeth
    /// libpng's heuristic over all five filters, per row (its default, OpenCV's and Pillow's). On photos it
    /// picks Paeth for nearly every row, so `paeth` alone gives files within 0.1% of its size, faster.
    case adaptive

    var libpngMask: Int32 {
        switch self {
        case .none: 0x08
        case .sub: 0x10
        case .up: 0x20
        case .average: 0x40
        case .paeth: 0x80
        case .adaptive: 0xF8
        }
    }
}

/// zlib's match-finding strategy for PNG encoding.
public enum PNGStrategy: String, Sendable, CaseIterable, Codable {
    /// zlib's default.
    case `default`
    /// Filtered data: favours Huffman coding over string matching.
    case filtered
    /// Run-length only: much faster, a little larger on photos.
    case rle
    /// Huffman coding only.
    case huffmanOnly

    var zlibValue: Int32 {
        switch self {
        case .default: 0
        case .filtered: 1
        case .huffmanOnly: 2
        case .rle: 3
        }
    }
}

/// Options for writing PNG.
public struct PNGEncodeOptions: Sendable, Equatable {
    /// zlib level 0 (store) ... 9 (smallest). Default 6, zlib's and Pillow's default.
    public var compressionLevel: Int
    /// Row filter. Default `.paeth`: on photos it matches libpng's adaptive choice to within 0.1% of the file
    /// size and encodes ~30% faster at level 1 (measured with `kestrel bench encode --png-filter`).
    public var filter: PNGFilter
    public var strategy: PNGStrategy
    /// Write a 1-channel 8-bit image as a palette PNG with these colours (its samples are the indices): label
    /// maps that viewers show in colour and ``ImageCodec/decodeLabels(_:)`` reads back as indices.
    public var palette: [Color]?

    public init(compressionLevel: Int = 6, filter: PNGFilter = .paeth, strategy: PNGStrategy = .default,
                palette: [Color]? = nil) {
        self.compressionLevel = compressionLevel
        self.filter = filter
        self.strategy = strategy
        self.palette = palette
    }
}
