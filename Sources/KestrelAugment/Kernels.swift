import KestrelImage

// The pixel loops. Unsafe pointer code lives only in the Kernels*.swift files; everything else in the module
// works on safe values. Conventions shared by every kernel:
// - Images are interleaved HWC UInt8 with no row padding (KestrelImage's Raster layout).
// - Kernels are specialised on the channel count through the `Channels` types below, so loops over channels
//   unroll to constants.
// - Rounding is "half up" (floor(v + 0.5)) unless a kernel says otherwise.

/// A channel count known at compile time, so generic kernels specialise into unrolled loops.
protocol Channels {
    static var n: Int { get }
}
enum C1: Channels { static var n: Int { 1 } }
enum C2: Channels { static var n: Int { 2 } }
enum C3: Channels { static var n: Int { 3 } }
enum C4: Channels { static var n: Int { 4 } }

/// Calls `body` with the `Channels` type for `count` (1...4).
@inline(__always)
func withChannels<R>(_ count: Int, _ body: (any Channels.Type) -> R) -> R {
    switch count {
    case 1: body(C1.self)
    case 2: body(C2.self)
    case 3: body(C3.self)
    default: body(C4.self)
    }
}

/// How pixels outside the source image are made up (OpenCV's names in brackets).
public enum BorderMode: String, Sendable, CaseIterable {
    /// A fixed value: `fill` for the image, `maskFill` for the mask [BORDER_CONSTANT].
    case constant
    /// The edge pixel repeated: `aaa|abcd|ddd` [BORDER_REPLICATE].
    case replicate
    /// Mirrored without repeating the edge: `dcb|abcd|cba` [BORDER_REFLECT_101; numpy and torch "reflect"].
    case reflect
    /// Mirrored repeating the edge: `cba|abcd|dcb` [BORDER_REFLECT; numpy "symmetric"].
    case symmetric

    /// The source index for index `i` of an axis of length `n`, or nil when it falls outside (constant).
    @inline(__always)
    func map(_ i: Int, _ n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .constant: return nil
        case .replicate: return i < 0 ? 0 : n - 1
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - j
        case .symmetric:
            let period = 2 * n
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - 1 - j
        }
    }
}

/// Fill values per channel: one value for every channel, or one per channel (extra channels take the last).
public struct PixelFill: Sendable, Equatable {
    public let values: [UInt8]

    public init(_ value: UInt8) { values = [value] }

    /// 1 to 4 values.
    public init(_ values: [UInt8]) throws(AugmentError) {
        guard (1...4).contains(values.count) else {
            throw .parameter("a fill needs 1 to 4 values (one per channel), got \(values.count)")
        }
        self.values = values
    }

    /// The value for channel `c`.
    @inline(__always)
    public func value(channel c: Int) -> UInt8 { values[min(c, values.count - 1)] }

    /// Four values, one per possible channel.
    var four: (UInt8, UInt8, UInt8, UInt8) {
        (value(channel: 0), value(channel: 1), value(channel: 2), value(channel: 3))
    }

    public static let black = PixelFill(0)
}

extension Image {
    /// A new image whose samples `body` writes (it must write all `width·height·channels` of them). Sizes come
    /// from this module's own arithmetic on valid images, so they are valid.
    static func build(
        width: Int, height: Int, channels: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void
    ) -> Image {
        let count = width * height * channels
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer.baseAddress!)
            initialized = count
        }
        guard let image = try? Image(width: width, height: height, channels: channels, pixels: pixels) else {
            preconditionFailure("internal error: invalid image size \(width)x\(height)x\(channels)")
        }
        return image
    }

    /// Runs `body` on the samples in place (copying first only if the storage is shared).
    mutating func withMutableSamples<R>(_ body: (UnsafeMutablePointer<UInt8>) -> R) -> R {
        pixels.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    func withSamples<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        pixels.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
