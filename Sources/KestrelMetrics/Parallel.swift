import Dispatch

/// `body(i)` for `i` in `0..<count` on all cores (Dispatch's `concurrentPerform`), results in index order.
/// Each result slot is written by exactly one iteration, which is what makes the unchecked sendability below
/// sound; this is the module's only unsafe code.
func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 1 else { return (0..<count).map(body) }
    let slots = Slots<T>(count)
    DispatchQueue.concurrentPerform(iterations: count) { i in slots.set(i, body(i)) }
    return slots.take()
}

private final class Slots<T>: @unchecked Sendable {
    private let base: UnsafeMutablePointer<T?>
    private let count: Int

    init(_ count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        base.initialize(repeating: nil, count: count)
    }

    func set(_ i: Int, _ value: T) { base[i] = value }

    func take() -> [T] { (0..<count).map { base[$0]! } }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// An immutable array in manually managed memory, shared by the threads that evaluate categories: reading it
/// costs no reference counting (a Swift array read from several threads at once can make them contend on its
/// reference count). Written only in `init`; freed in `deinit`.
final class SharedColumn<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>

    init(_ values: [Element]) {
        buffer = .allocate(capacity: values.count)
        _ = buffer.initialize(from: values)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    @inline(__always)
    subscript(i: Int) -> Element { buffer[i] }

    var count: Int { buffer.count }
}
