// The one place in KestrelTensor that allocates, frees and hands out raw memory.
//
// A tensor's elements live in a 64-byte-aligned heap block owned by a TensorStorage. Tensor is a value type
// that shares its storage on copy and duplicates it before the first write when the storage is shared
// (copy-on-write, via isKnownUniquelyReferenced). Kernels never see TensorStorage: they get buffer pointers for
// the duration of a closure through Tensor.withUnsafe…BufferPointer.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 64-byte-aligned block of Float32 elements. Reference type; Tensor guarantees it is never written while
/// shared, which is what makes the `@unchecked Sendable` sound.
final class TensorStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    /// Uninitialised storage for `count` elements (the caller writes every element before reading).
    init(uninitializedCount count: Int) {
        self.count = count
        var raw: UnsafeMutableRawPointer? = nil
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            // Out of memory for a tensor is not recoverable in any useful way (as for Array).
            fatalError("KestrelTensor: cannot allocate \(bytes) bytes")
        }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        if value == 0 {
            memset(base, 0, count * MemoryLayout<Float>.stride)
        } else {
            base.initialize(repeating: value, count: count)
        }
    }

    convenience init(copying other: TensorStorage) {
        self.init(uninitializedCount: other.count)
        memcpy(base, other.base, count * MemoryLayout<Float>.stride)
    }

    deinit { free(base) }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}

/// A pointer that may cross into a concurrently executed closure. The code that creates one guarantees the
/// closures touch disjoint elements (or only read) and that the memory outlives them.
public struct SendablePointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    public init(_ base: UnsafePointer<T>) { self.base = UnsafeMutablePointer(mutating: base) }
    public subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
    public func advanced(by n: Int) -> UnsafeMutablePointer<T> { base + n }
}

extension Tensor {
    /// Reads the elements (row-major, `shape.count` of them) for the duration of `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: shape.count))
    }

    /// Writes the elements for the duration of `body`, first copying the storage if another tensor shares it.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: shape.count))
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(copying: storage) }
    }

    /// A tensor whose elements are written by `body` before anyone reads them.
    public init(shape: Shape, unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let storage = TensorStorage(uninitializedCount: shape.count)
        try body(storage.buffer)
        self.init(shape: shape, storage: storage)
    }
}
