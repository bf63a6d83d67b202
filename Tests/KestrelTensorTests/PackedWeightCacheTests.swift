import KestrelTensor
import Testing
import _KestrelTestSupport

/// The cache of packed convolution weights: packs on the second sighting of unchanged contents, never serves a
/// packing of contents that have since been written, drops packings of tensors that are gone, and stays within
/// its capacity.
@Suite struct PackedWeightCacheTests {
    /// Asks `cache` for `weight`'s packing (its values plus 1, as a stand-in) and counts the packings made.
    final class Counter: @unchecked Sendable { var packs = 0 }

    func ask(_ cache: PackedWeightCache, _ weight: Tensor, _ counter: Counter, kind: Int32 = 0) -> [Float]? {
        let layout = PackedWeightCache.Layout(kind: kind, shape: weight.shape.dims, groups: 1, count: weight.count)
        let packed = cache.packed(weight, layout: layout) { dst in
            counter.packs += 1
            weight.withUnsafeBufferPointer { src in
                for i in 0..<src.count { dst[i] = src[i] + 1 }
            }
        }
        return packed.map { Array(UnsafeBufferPointer(start: $0.base, count: $0.count)) }
    }

    @Test func packsOnTheSecondSightingAndReusesTheResult() {
        let cache = PackedWeightCache()
        let w = Tensor.random([4, 3], seed: 1)
        let counter = Counter()
        #expect(ask(cache, w, counter) == nil)  // first sighting: the caller packs as it goes
        #expect(counter.packs == 0)
        let second = ask(cache, w, counter)
        #expect(second == w.scalars.map { $0 + 1 })
        #expect(ask(cache, w, counter) == second)
        #expect(counter.packs == 1)
        // Another layout of the same weights is a separate packing.
        #expect(ask(cache, w, counter, kind: 1) == nil)
        #expect(cache.statistics.entries == 1 && cache.statistics.bytes == 12 * 4)
    }

    @Test func writesMakeNewContents() {
        let cache = PackedWeightCache()
        var w = Tensor.random([5], seed: 2)
        let counter = Counter()
        _ = ask(cache, w, counter)
        _ = ask(cache, w, counter)
        let copy = w  // shares the storage until one of them is written
        w[2] = 100
        #expect(ask(cache, w, counter) == nil, "written weights must not be served the old packing")
        #expect(ask(cache, w, counter) == w.scalars.map { $0 + 1 })
        #expect(ask(cache, copy, counter) == copy.scalars.map { $0 + 1 }, "the unwritten copy keeps its packing")
        #expect(counter.packs == 2)
        // In-place writes through a pointer (an optimizer step) also count.
        w.withUnsafeMutableBufferPointer { $0[0] = -1 }
        #expect(ask(cache, w, counter) == nil)
    }

    @Test func dropsPackingsOfTensorsThatAreGoneAndStaysWithinCapacity() {
        let cache = PackedWeightCache(capacityBytes: 3 * 100 * 4)
        let counter = Counter()
        do {
            let gone = Tensor.random([100], seed: 3)
            _ = ask(cache, gone, counter)
            _ = ask(cache, gone, counter)
            #expect(cache.statistics.entries == 1)
        }
        let kept = (0..<4).map { Tensor.random([100], seed: 10 + $0) }
        for w in kept.prefix(2) {
            _ = ask(cache, w, counter)
            _ = ask(cache, w, counter)
        }
        #expect(cache.statistics.entries == 2, "the packing of the released tensor is dropped")
        _ = ask(cache, kept[0], counter)  // kept[0] is now more recently used than kept[1]
        for w in kept.suffix(2) {
            _ = ask(cache, w, counter)
            _ = ask(cache, w, counter)
        }
        #expect(cache.statistics.bytes <= cache.capacityBytes)
        #expect(cache.statistics.entries == 3)
        let packsBefore = counter.packs
        #expect(ask(cache, kept[0], counter) != nil)
        #expect(counter.packs == packsBefore, "the most recently used stays")
        // The least recently used was evicted: like new weights, it is packed again on its second sighting.
        #expect(ask(cache, kept[1], counter) == nil)
        #expect(ask(cache, kept[1], counter) == kept[1].scalars.map { $0 + 1 })
        #expect(counter.packs == packsBefore + 1)
        cache.removeAll()
        #expect(cache.statistics.entries == 0 && cache.statistics.bytes == 0)
    }

    @Test func largeWeightsGiveTheSameBitsPackedPerPanelOrCached() {
        // 512 × 256 × 3 × 3 weights (over 4 MiB): the first call packs one panel at a time and sweeps the image
        // per panel; later calls take the cached packing and run blocks of positions past every panel. Same FMA
        // chains, so the same bits, and the im2col GEMM's values to rounding.
        let x = Tensor.random([2, 256, 12, 12], seed: 22)
        let w = Tensor.random([512, 256, 3, 3], seed: 23, scale: 0.05)
        let g = ConvGeometry(kernel: 3, stride: 1, padding: 1)
        Compute.withGEMM(FastGEMM()) {
            Compute.withThreads(2) {
                let first = Convolution.forward(x, weight: w, bias: nil, geometry: g)
                for call in 1..<3 {
                    #expect(Convolution.forward(x, weight: w, bias: nil, geometry: g).isIdentical(to: first), "call \(call)")
                }
                let plain = Convolution.forwardIm2col(x, weight: w, bias: nil, geometry: g)
                #expect(closeness(first.scalars, plain.scalars.map(Double.init), atol: 1e-4, rtol: 1e-4).ok)
            }
        }
    }

    @Test func aReshapedViewOfTheSameWeightsIsPackedForItsOwnShape() {
        // [64, 64, 3, 3] and its view as [32, 128, 3, 3] share storage (one tag) and pack into the same number of
        // floats, but into different panels: each convolution must get its own.
        let w = Tensor.random([64, 64, 3, 3], seed: 24)
        let view = w.reshaped([32, 128, 3, 3])
        let g = ConvGeometry(kernel: 3, stride: 1, padding: 1)
        let x64 = Tensor.random([1, 64, 6, 6], seed: 25), x128 = Tensor.random([1, 128, 6, 6], seed: 26)
        Compute.withGEMM(FastGEMM()) {
            for call in 0..<3 {
                for (x, weight) in [(x64, w), (x128, view)] {
                    let y = Convolution.forward(x, weight: weight, bias: nil, geometry: g)
                    let plain = Convolution.forwardIm2col(x, weight: weight, bias: nil, geometry: g)
                    #expect(closeness(y.scalars, plain.scalars.map(Double.init), atol: 1e-4, rtol: 1e-4).ok,
                            "\(weight.shape) call \(call)")
                }
            }
        }
    }

    @Test func convolutionsWithCachedWeightsMatchPackingAsTheyGo() {
        // 7×7 and 14×14 at batch 1 take 7-position tiles (49 = 7·7, 196 = 28·7); 40 channels make one full and
        // one partial panel. Every call — first sighting, packing into the cache, cache hit, after a write —
        // gives the bits of the im2col path (depth 144 < one GEMM block).
        for (h, cout) in [(7, 40), (14, 33)] {
            let x = Tensor.random([1, 16, h, h], seed: 20)
            var w = Tensor.random([cout, 16, 3, 3], seed: 21)
            let g = ConvGeometry(kernel: 3, stride: 1, padding: 1)
            Compute.withGEMM(FastGEMM()) {
                let plain = Convolution.forwardIm2col(x, weight: w, bias: nil, geometry: g)
                for call in 0..<3 {
                    let y = Convolution.forward(x, weight: w, bias: nil, geometry: g)
                    #expect(y.isIdentical(to: plain), "\(h)x\(h) call \(call)")
                }
                w[cout - 1, 15, 2, 2] += 1
                let changed = Convolution.forwardIm2col(x, weight: w, bias: nil, geometry: g)
                #expect(!changed.isIdentical(to: plain))
                for call in 0..<3 {
                    let y = Convolution.forward(x, weight: w, bias: nil, geometry: g)
                    #expect(y.isIdentical(to: changed), "\(h)x\(h) after a write, call \(call)")
                }
            }
        }
    }
}
