import CKestrelCodecs

/// JPEG through libjpeg(-turbo) (via the setjmp-guarded shim in CKestrelCodecs).
enum JPEGCodec {
    private static func withDecoder<T>(
        _ bytes: UnsafeRawBufferPointer, _ body: (OpaquePointer) throws(ImageError) -> T
    ) throws(ImageError) -> T {
        guard let base = bytes.baseAddress,
            let d = kc_jpeg_decoder_create(base.assumingMemoryBound(to: UInt8.self), bytes.count)
        else { throw ImageError(.io("out of memory creating the JPEG decoder")) }
        defer { kc_jpeg_decoder_destroy(d) }
        return try body(d)
    }

    private static func message(_ d: OpaquePointer) -> String { String(cString: kc_jpeg_message(d)) }

    private static func readHeader(
        _ d: OpaquePointer, _ bytes: UnsafeRawBufferPointer
    ) throws(ImageError) -> (kc_jpeg_info, ImageInfo) {
        var raw = kc_jpeg_info()
        let status = kc_jpeg_read_header(d, &raw)
        switch status {
        case KC_OK: break
        case KC_TRUNCATED: throw ImageError(.truncated(message(d)))
        default: throw ImageError(.corrupt(message(d)))
        }
        // J_COLOR_SPACE: 1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK.
        let models = [1: "gray", 2: "rgb", 3: "ycbcr", 4: "cmyk", 5: "ycck"]
        let info = ImageInfo(
            format: .jpeg, width: Int(raw.width), height: Int(raw.height), channels: raw.components == 1 ? 1 : 3,
            bitDepth: 8, orientation: EXIF.jpegOrientation(bytes) ?? 1,
            colorModel: models[Int(raw.color_space)] ?? "unknown", interlaced: raw.progressive != 0)
        guard raw.components == 1 || raw.components == 3 || raw.components == 4 else {
            throw ImageError(.unsupported("JPEG with \(raw.components) components"))
        }
        return (raw, info)
    }

    static func info(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageInfo {
        try withDecoder(bytes) { d throws(ImageError) in try readHeader(d, bytes).1 }
    }

    /// Decodes to gray (1 channel) or RGB (3). CMYK and YCCK files are converted to RGB with Pillow's formula;
    /// their samples are inverted first when the file carries an Adobe APP14 marker (Photoshop's convention).
    static func decode(
        _ bytes: UnsafeRawBufferPointer, maxPixels: Int, allowCorrupt: Bool
    ) throws(ImageError) -> (Image, ImageInfo, [String]) {
        try withDecoder(bytes) { d throws(ImageError) in
            let (raw, info) = try readHeader(d, bytes)
            try checkLimit(width: info.width, height: info.height, maxPixels: maxPixels)
            let w = info.width, h = info.height
            let cmyk = raw.components == 4
            let decodeChannels = cmyk ? 4 : info.channels
            var status = KC_OK
            var truncated: Int32 = 0
            var pixels = [UInt8](unsafeUninitializedCapacity: w * h * decodeChannels) { buffer, initialized in
                status = kc_jpeg_decode_into(d, buffer.baseAddress, w * decodeChannels, Int32(decodeChannels), &truncated)
                initialized = (status == KC_OK || status == KC_WARNING) ? w * h * decodeChannels : 0
            }
            var warnings: [String] = []
            switch status {
            case KC_OK: break
            case KC_WARNING:
                let text = message(d)
                let count = Int(kc_jpeg_warning_count(d))
                let summary = count > 1 ? "\(text) (and \(count - 1) more warnings)" : text
                guard allowCorrupt else {
                    throw ImageError(truncated != 0 ? .truncated(summary) : .corrupt(summary))
                }
                warnings.append(summary)
            case KC_TRUNCATED:
                throw ImageError(.truncated(message(d)))
            default:
                throw ImageError(.corrupt(message(d)))
            }
            if cmyk {
                let rgb = [UInt8](unsafeUninitializedCapacity: w * h * 3) { out, initialized in
                    pixels.withUnsafeBufferPointer { src in
                        kc_cmyk_to_rgb(src.baseAddress, out.baseAddress, w * h, raw.saw_adobe)
                    }
                    initialized = w * h * 3
                }
                pixels = rgb
            }
            return (Image(uncheckedWidth: w, height: h, channels: info.channels, pixels: pixels), info, warnings)
        }
    }

    static func encode(_ image: Image, _ options: JPEGEncodeOptions) throws(ImageError) -> [UInt8] {
        guard (1...100).contains(options.quality) else {
            throw ImageError(.invalidArgument("JPEG quality must be 1...100, got \(options.quality)"))
        }
        guard image.channels == 1 || image.channels == 3 else {
            throw ImageError(.unsupported(
                "JPEG stores gray or RGB only; this image has \(image.channels) channels (convert it, e.g. drop or flatten alpha)"))
        }
        var out = kc_buffer()
        defer { kc_buffer_free(&out) }
        var message = [CChar](repeating: 0, count: Int(KC_MESSAGE_CAPACITY))
        let settings = kc_jpeg_encode_options(
            quality: Int32(options.quality), subsampling: options.subsampling.code,
            progressive: options.progressive ? 1 : 0, optimize_coding: options.optimizeCoding ? 1 : 0)
        let status = image.pixels.withUnsafeBufferPointer { px in
            message.withUnsafeMutableBufferPointer { msg in
                kc_jpeg_encode(
                    px.baseAddress, UInt32(image.width), UInt32(image.height), image.rowLength, Int32(image.channels),
                    settings, &out, msg.baseAddress)
            }
        }
        guard status == KC_OK else {
            throw ImageError(.io("JPEG encoding failed: \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"))
        }
        return Array(UnsafeBufferPointer(start: out.data, count: out.size))
    }
}

/// Chroma subsampling for JPEG encoding (ignored for gray images).
public enum ChromaSubsampling: String, Sendable, CaseIterable, Codable {
    /// Full-resolution colour.
    case s444 = "4:4:4"
    /// Half horizontal colour resolution.
    case s422 = "4:2:2"
    /// Half horizontal and vertical colour resolution: libjpeg's and Pillow's default.
    case s420 = "4:2:0"

    var code: Int32 {
        switch self {
        case .s444: 444
        case .s422: 422
        case .s420: 420
        }
    }
}

/// Options for writing JPEG.
public struct JPEGEncodeOptions: Sendable, Equatable {
    /// 1 (smallest) ... 100 (best), libjpeg's scale. Default 90.
    public var quality: Int
    public var subsampling: ChromaSubsampling
    /// Write a progressive JPEG (smaller, slower to encode and decode).
    public var progressive: Bool
    /// Optimised Huffman tables (a few percent smaller, slower to encode).
    public var optimizeCoding: Bool

    public init(
        quality: Int = 90, subsampling: ChromaSubsampling = .s420, progressive: Bool = false,
        optimizeCoding: Bool = false
    ) {
        self.quality = quality
        self.subsampling = subsampling
        self.progressive = progressive
        self.optimizeCoding = optimizeCoding
    }
}
