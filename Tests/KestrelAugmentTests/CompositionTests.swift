import KestrelAugment
import KestrelImage
import Testing
import _KestrelTestSupport

/// A transform that adds its id to the image's first sample, to see which steps ran and in which order.
struct Mark: Transform {
    let id: UInt8
    func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Void {}
    func apply(_ parameters: Void, to sample: inout Sample) {
        sample.image.pixels[0] = sample.image.pixels[0] &* 10 &+ id
    }
}

@Suite struct CompositionTests {
    let blank = try! Sample(image: try! Image(width: 2, height: 2, channels: 1))

    func trace(_ a: any Augmentation, seed: UInt64) throws -> UInt8 {
        try a(blank, seed: seed, index: 0).image.pixels[0]
    }

    @Test func composeRunsInOrder() throws {
        #expect(try trace(Compose([Mark(id: 1), Mark(id: 2), Mark(id: 3)]), seed: 0) == 123)
    }

    @Test func probabilityZeroNeverRunsAndOneAlwaysRuns() throws {
        for seed in 0..<50 as Range<UInt64> {
            #expect(try trace(RandomApply(Mark(id: 1), p: 0), seed: seed) == 0)
            #expect(try trace(RandomApply(Mark(id: 1), p: 1), seed: seed) == 1)
        }
        #expect(throws: AugmentError.self) { try RandomApply(Mark(id: 1), p: 1.5) }
    }

    @Test func probabilityIsRespected() throws {
        var runs = 0
        for seed in 0..<2000 as Range<UInt64> where try trace(RandomApply(Mark(id: 1), p: 0.3), seed: seed) == 1 {
            runs += 1
        }
        #expect(abs(Double(runs) / 2000 - 0.3) < 0.04)
    }

    @Test func oneOfRunsExactlyOneByWeight() throws {
        var counts = [UInt8: Int]()
        let t = try OneOf([Mark(id: 1), Mark(id: 2), Mark(id: 3)], weights: [1, 0, 3])
        for seed in 0..<2000 as Range<UInt64> { counts[try trace(t, seed: seed), default: 0] += 1 }
        #expect(counts[2] == nil)
        #expect(Set(counts.keys) == [1, 3])
        #expect(abs(Double(counts[3]!) / 2000 - 0.75) < 0.04)
    }

    @Test func someOfRunsDistinctStepsInListedOrder() throws {
        let t = try SomeOf([Mark(id: 1), Mark(id: 2), Mark(id: 3), Mark(id: 4)], count: 2...2)
        var seen = Set<UInt8>()
        for seed in 0..<200 as Range<UInt64> {
            let v = try trace(t, seed: seed)
            let (a, b) = (v / 10, v % 10)
            #expect(a >= 1 && a < b && b <= 4, "\(v)")
            seen.insert(v)
        }
        #expect(seen.count == 6)  // all pairs occur
        #expect(throws: AugmentError.self) { try SomeOf([Mark(id: 1)], count: 0...2) }
    }

    @Test func stepsDrawFromTheirOwnStreams() throws {
        // Adding a step before a random transform does not change what that transform draws.
        let image = try TestImages.photo(width: 24, height: 24, seed: 1)
        let rotate = try Rotate()
        // (Brightness 1 and a same-size resize change no pixel; Brightness draws a number, Resize does not.)
        let a = try Pipeline([try Resize(width: 24, height: 24), rotate]).augment(
            try Sample(image: image), seed: 3, index: 4)
        let b = try Pipeline([try Brightness(factor: 1...1), rotate]).augment(
            try Sample(image: image), seed: 3, index: 4)
        let c = try Pipeline([rotate, rotate]).augment(try Sample(image: image), seed: 3, index: 4)
        let same = a.image == b.image
        let different = a.image != c.image
        #expect(same)
        #expect(different)
    }
}
