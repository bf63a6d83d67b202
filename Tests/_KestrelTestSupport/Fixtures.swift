import Foundation

/// Paths to the committed test data, found from this source file's location so tests run from any clone
/// without resource bundles.
public enum Fixtures {
    /// The repository root.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // _KestrelTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// `Tests/Fixtures/<relative>`.
    public static func path(_ relative: String) -> String {
        root.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    /// `datasets/<relative>`.
    public static func dataset(_ relative: String) -> String {
        root.appendingPathComponent("datasets").appendingPathComponent(relative).path
    }

    /// A fresh empty folder under the system temporary directory; the caller removes it.
    public static func temporaryDirectory(_ tag: String = "kestrel-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(tag)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A small, fast, seedable generator (SplitMix64) so tests can be parameterised by seed and reproduce exactly.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
