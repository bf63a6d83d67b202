/// Everything that can go wrong reading, decoding, encoding or writing an image.
///
/// The description names the file (when there is one) and the problem, ready to show a user:
/// `photos/cat.png: truncated: file ends before the image does`.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The file or buffer has no bytes.
        case empty
        /// The bytes are not a format Kestrel reads; the payload says what they look like (e.g. "GIF", "text").
        case unknownFormat(String)
        /// A valid file using a feature Kestrel does not support (e.g. 12-bit JPEG).
        case unsupported(String)
        /// The data ends before the image does.
        case truncated(String)
        /// The data is damaged: bad CRC, bad zlib stream, bad Huffman code, impossible header…
        case corrupt(String)
        /// The header claims more pixels than the limit allows; checked before any pixel memory is allocated.
        case tooLarge(width: Int, height: Int, limit: Int)
        /// The file cannot be read or written (missing, permission, disk full…).
        case io(String)
        /// A caller passed an impossible value (wrong sample count, quality 0, channels 5…).
        case invalidArgument(String)
    }

    public var kind: Kind
    /// The file the error concerns, when there is one.
    public var path: String?

    public init(_ kind: Kind, path: String? = nil) {
        self.kind = kind
        self.path = path
    }

    /// The same error, attributed to `path`.
    public func at(_ path: String) -> ImageError {
        ImageError(kind, path: path)
    }

    /// The problem without the file name.
    public var message: String {
        switch kind {
        case .empty: "empty file"
        case .unknownFormat(let what): "not a PNG or JPEG file (\(what))"
        case .unsupported(let what): "unsupported: \(what)"
        case .truncated(let what): "truncated: \(what)"
        case .corrupt(let what): "corrupt: \(what)"
        case .tooLarge(let w, let h, let limit):
            "image is \(w)x\(h) = \(w * h) pixels, over the limit of \(limit) (decompression-bomb guard; raise maxPixels to allow it)"
        case .io(let what): what
        case .invalidArgument(let what): "invalid argument: \(what)"
        }
    }

    public var description: String {
        if let path { return "\(path): \(message)" }
        return message
    }
}
