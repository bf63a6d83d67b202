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
import Synchronization

/// A 64-byte-aligned block of Float32 elements. Reference type; Tensor guarantees it is never written while
/// shared, which is what makes the `@unchecked Sendable` sound.
final class TensorStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int
    /// Names the current contents for caches of data derived from them (``PackedWeightCache``): 0 until a cache
    /// asks, then a number no other contents ever had, until the next write resets it (``Tensor/makeUnique()``
    /// runs before every write, while this tensor is the storage's only owner).
    let contentsTag = Atomic<UInt64>(0)

    /// Uninitialised storage for `count` elements (the caller writes every element before reading).
    init(uninitializedCount count: Int) {
        self.count = count
        if let reused = BlockCache.shared.take(count) {
            base = reused
            return
        }
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

    deinit {
        if !BlockCache.shared.give(base, count: count) { free(base) }
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}

/// Keeps recently freed large blocks for reuse by exact element count. Training and inference allocate the same
/// tensor sizes every iteration; reusing their blocks avoids returning them to the system and page-faulting
/// fresh memory each time (which otherwise costs more than the arithmetic of elementwise ops). Blocks under
/// `minimumBytes` go straight to malloc, which already handles them well; at most `capacityBytes` are kept.
final class BlockCache: @unchecked Sendable {
    static let shared = BlockCache()
    let minimumBytes = 1 << 18
    let capacityBytes = 1 << 30
    private let lock = NSLockLike()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var order: [(Int, UnsafeMutablePointer<Float>)] = []  // oldest first, for eviction
    private var cachedBytes = 0

    func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
        guard count * 4 >= minimumBytes else { return nil }
        return lock.withLock {
            guard var list = free[count], let p = list.popLast() else { return nil }
            free[count] = list.isEmpty ? nil : list
            if let i = order.firstIndex(where: { $0.1 == p }) { order.remove(at: i) }
            cachedBytes -= count * 4
            return p
        }
    }

    /// Keeps the block; false when the caller should free it.
    func give(_ p: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        let bytes = count * 4
        guard bytes >= minimumBytes, bytes <= capacityBytes / 2 else { return false }
        var evicted: [UnsafeMutablePointer<Float>] = []
        lock.withLock {
            free[count, default: []].append(p)
            order.append((count, p))
            cachedBytes += bytes
            while cachedBytes > capacityBytes, !order.isEmpty {
                let (c, old) = order.removeFirst()
                if var list = free[c], let i = list.firstIndex(of: old) {
                    list.remove(at: i)
                    free[c] = list.isEmpty ? nil : list
                }
                cachedBytes -= c * 4
                evicted.append(old)
            }
        }
        for e in evicted { Glibc_free(e) }
        return true
    }
}

/// A pthread mutex (Synchronization.Mutex would need the state inside it; this guards several fields).
final class NSLockLike: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        m = .allocate(capacity: 1)
        pthread_mutex_init(m, nil)
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

@inline(__always) private func Glibc_free(_ p: UnsafeMutablePointer<Float>) { free(p) }

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
        storage.contentsTag.store(0, ordering: .relaxed)  // about to be written: new contents
    }

    /// A tensor whose elements are written by `body` before anyone reads them.
    public init(shape: Shape, unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let storage = TensorStorage(uninitializedCount: shape.count)
        try body(storage.buffer)
        self.init(shape: shape, storage: storage)
    }
}
