import Dispatch
import Foundation
import KestrelAugment
import KestrelImage
import Testing
import _KestrelTestSupport

@Suite struct RandomTests {
    /// Values computed by hand from the documented scheme (Python, tools-free):
    /// key = mix(mix(seed + γ) ^ index), draw n = mix(key + n·γ), child k = mix(key ^ mix(k + 0x632BE59BD9B4E019)).
    @Test func streamMatchesTheDocumentedScheme() {
        var r = AugmentRandom(seed: 0, index: 0)
        #expect(r.key == 0x4821_8226_FF3C_D4BF)
        #expect(r.next() == 0x568A_9B0B_1A2C_05EC)
        #expect(r.next() == 0x44E5_B8B1_47EF_718B)
        #expect(r.next() == 0x4585_63AB_5552_1133)
        let s = AugmentRandom(seed: 42, index: 7)
        #expect(s.key == 0xAEBD_B1A5_611C_EE63)
        var c = s.child(3)
        #expect(c.key == 0x825C_2692_1058_148A)
        #expect(c.next() == 0x7437_8B19_496C_CAA5)
    }

    @Test func childrenDoNotDependOnParentDraws() {
        var a = AugmentRandom(seed: 9, index: 1)
        let before = a.child(2)
        _ = a.next()
        _ = a.unit()
        #expect(a.child(2) == before)
        #expect(a.child(2).key != a.child(3).key)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func integersAreUniformAndInRange(seed: UInt64) {
        var r = AugmentRandom(seed: seed, index: 0)
        var counts = [Int](repeating: 0, count: 6)
        let n = 60_000
        for _ in 0..<n {
            let v = r.integer(in: -2...3)
            #expect((-2...3).contains(v))
            counts[v + 2] += 1
        }
        // Chi-square with 5 degrees of freedom; 20.5 is the 0.999 quantile.
        let expected = Double(n) / 6
        let chi = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chi < 20.5, "counts \(counts)")
    }

    @Test(arguments: [1, 2] as [UInt64])
    func normalAndBetaHaveTheRightMoments(seed: UInt64) {
        var r = AugmentRandom(seed: seed, index: 5)
        let n = 40_000
        var sum = 0.0, squares = 0.0
        for _ in 0..<n {
            let z = r.normal()
            sum += z
            squares += z * z
        }
        #expect(abs(sum / Double(n)) < 0.03)
        #expect(abs(squares / Double(n) - 1) < 0.03)
        // Beta(a, b) has mean a / (a + b); Beta(0.4, 0.4) exercises the shape < 1 branch.
        for (a, b) in [(2.0, 5.0), (0.4, 0.4)] {
            var m = 0.0
            for _ in 0..<n {
                let x = r.beta(a, b)
                #expect((0...1).contains(x))
                m += x
            }
            #expect(abs(m / Double(n) - a / (a + b)) < 0.01, "Beta(\(a), \(b))")
        }
    }

    /// A pipeline with every kind of randomness, run on a few samples one thread at a time and on four
    /// threads in a different order: the bytes must be identical.
    @Test func outputIsIndependentOfThreadsAndOrder() throws {
        let samples = try (0..<8).map {
            try Sample(image: TestImages.photo(width: 40 + $0, height: 30, seed: UInt64($0)))
        }
        let partners = InMemoryPartners(samples)
        let pipeline = Pipeline([
            try RandomApply(HorizontalFlip(), p: 0.5), try Rotate(), try BrightnessContrast(), try HueSaturation(),
            try GaussianNoise(), try Cutout(fill: .random), try OneOf([try MixUp(), try CutMix()]),
        ])
        let serial = try samples.indices.map {
            try pipeline.augment(samples[$0], seed: 11, index: $0, partners: partners)
        }
        let results = ResultBox(count: samples.count)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in stride(from: samples.count - 1 - worker, through: 0, by: -4) {
                results.set(i, try? pipeline.augment(samples[i], seed: 11, index: i, partners: partners))
            }
        }
        for i in samples.indices {
            #expect(results.get(i) == serial[i], "sample \(i)")
        }
        // And a different seed or index changes the result.
        #expect(try pipeline.augment(samples[0], seed: 12, index: 0, partners: partners) != serial[0])
        #expect(try pipeline.augment(samples[0], seed: 11, index: 1, partners: partners) != serial[0])
    }

    @Test func copiesOfOneImageGetIndependentStreams() throws {
        let sample = try Sample(image: TestImages.photo(width: 32, height: 24, seed: 3))
        let pipeline = Pipeline([try Rotate(degrees: -90...90)])
        let a = try pipeline.augment(sample, seed: 5, index: 2, copy: 0)
        let b = try pipeline.augment(sample, seed: 5, index: 2, copy: 1)
        #expect(a != b)
        #expect(try pipeline.augment(sample, seed: 5, index: 2, copy: 1) == b)
    }
}

/// A lock-protected array slot per result, for the threaded test.
final class ResultBox: @unchecked Sendable {
    private var values: [Sample?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: Sample?) { lock.withLock { values[i] = v } }
    func get(_ i: Int) -> Sample? { lock.withLock { values[i] } }
}
