#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Convolution weights packed for a micro-kernel, kept between calls that use the same weights: what inference
/// engines do when they load a model (ONNX Runtime pre-packs constant weights at session start). Without it,
/// every forward pass re-packs every weight — a copy of the whole model per call (ResNet's 7×7 and 14×14 layers
/// at batch 1 ran 8–22% slower for it).
///
/// Weights are recognised by their contents' tag (``TensorStorage/contentsTag``), which any write to the tensor
/// resets, so a cached packing can never outlive the values it was made from. Weights are packed into the cache
/// the second time they are seen unchanged: a training step, whose weights change between calls, never pays
/// for packing into the cache, while repeated inference does from its second call on. Entries whose tensors
/// are gone are dropped; beyond ``capacityBytes`` the least recently used go.
public final class PackedWeightCache: @unchecked Sendable {
    /// The cache the convolutions use.
    public static let shared = PackedWeightCache()

    /// At most this many bytes of packed weights are kept.
    public let capacityBytes: Int

    /// An empty cache; the shared one keeps 256 MiB (ResNet-50's convolutions pack into ~95 MB).
    public init(capacityBytes: Int = 256 << 20) { self.capacityBytes = capacityBytes }

    /// What a packing depends on besides the weights' values.
    public struct Layout: Hashable, Sendable {
        /// The packing's kind (for the convolutions: the instruction set and the panel width).
        public let kind: Int32
        /// The shape the values are read as (a reshaped view shares its storage, and so its tag).
        public let shape: [Int]
        public let groups: Int
        /// Floats in the packed form.
        public let count: Int
        public init(kind: Int32, shape: [Int], groups: Int, count: Int) {
            self.kind = kind
            self.shape = shape
            self.groups = groups
            self.count = count
        }
    }

    /// Packed weights: `count` floats, 64-byte aligned, freed when the last user lets go.
    public final class Packed: @unchecked Sendable {
        public let base: UnsafeMutablePointer<Float>
        public let count: Int

        fileprivate init?(count: Int) {
            var raw: UnsafeMutableRawPointer? = nil
            guard posix_memalign(&raw, 64, max(count, 1) * MemoryLayout<Float>.stride) == 0, let raw else { return nil }
            base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            self.count = count
        }

        deinit { free(base) }
    }

    private struct Key: Hashable {
        let tag: UInt64
        let layout: Layout
    }

    private final class Entry {
        weak var storage: TensorStorage?
        let packed: Packed
        var lastUse: UInt64
        init(storage: TensorStorage, packed: Packed, lastUse: UInt64) {
            self.storage = storage
            self.packed = packed
            self.lastUse = lastUse
        }
    }

    private let lock = NSLockLike()
    private var nextTag: UInt64 = 1
    private var clock: UInt64 = 0
    private var entries: [Key: Entry] = [:]
    private var seen: Set<Key> = []
    private var cachedBytes = 0

    /// The packed form of `weight` for `layout`, or nil when the caller should pack as it goes: the first time
    /// these contents are seen, or when memory for the packing cannot be had. `pack` fills `count` floats; it
    /// runs outside the lock, at most once per contents and layout unless two threads race to it.
    public func packed(_ weight: Tensor, layout: Layout, pack: (UnsafeMutablePointer<Float>) -> Void) -> Packed? {
        let storage = weight.storage
        // Under one lock: a hit, a first sighting (the caller packs as it goes), or a second (pack into the cache).
        enum Lookup { case hit(Packed), firstSighting, pack(Key) }
        let lookup: Lookup = lock.withLock {
            var tag = storage.contentsTag.load(ordering: .relaxed)
            if tag == 0 {
                tag = nextTag
                nextTag += 1
                storage.contentsTag.store(tag, ordering: .relaxed)
            }
            let key = Key(tag: tag, layout: layout)
            clock += 1
            if let e = entries[key] {
                e.lastUse = clock
                return .hit(e.packed)
            }
            guard seen.insert(key).inserted else { return .pack(key) }
            if seen.count > 4096 { seen = [key] }
            return .firstSighting
        }
        let key: Key
        switch lookup {
        case .hit(let packed): return packed
        case .firstSighting: return nil
        case .pack(let k): key = k
        }
        guard layout.count * 4 <= capacityBytes, let fresh = Packed(count: layout.count) else { return nil }
        pack(fresh.base)
        return lock.withLock {
            if let e = entries[key] { return e.packed }
            entries[key] = Entry(storage: storage, packed: fresh, lastUse: clock)
            seen.remove(key)
            cachedBytes += layout.count * 4
            evict()
            return fresh
        }
    }

    /// Drops entries whose weights are gone or have been written since, then the least recently used until
    /// under capacity (lock held).
    private func evict() {
        for (key, e) in entries where e.storage?.contentsTag.load(ordering: .relaxed) != key.tag {
            entries[key] = nil
            cachedBytes -= e.packed.count * 4
        }
        while cachedBytes > capacityBytes, let (key, e) = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[key] = nil
            cachedBytes -= e.packed.count * 4
        }
    }

    /// Entries and bytes held.
    public var statistics: (entries: Int, bytes: Int) { lock.withLock { (entries.count, cachedBytes) } }

    /// Forgets every packing (memory is freed once no convolution in flight still uses it).
    public func removeAll() {
        lock.withLock {
            entries = [:]
            seen = []
            cachedBytes = 0
        }
    }
}
