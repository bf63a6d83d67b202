import KestrelTensor
import Testing
import _KestrelTestSupport

@Suite struct TensorTests {
    @Test func copyOnWrite() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a
        b[0, 1] = 9
        #expect(a.scalars == [1, 2, 3, 4])
        #expect(b.scalars == [1, 9, 3, 4])
        let view = a.reshaped([4])
        #expect(view.scalars == [1, 2, 3, 4])
        #expect(a.reshaped([-1, 1]).shape == [4, 1])
    }

    @Test func broadcastingArithmeticByHand() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let row = Tensor(shape: [3], scalars: [10, 20, 30])
        let col = Tensor(shape: [2, 1], scalars: [100, 200])
        #expect((a + row).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a * col).scalars == [100, 200, 300, 800, 1000, 1200])
        #expect((col - row).shape == [2, 3])
        #expect((col - row).scalars == [90, 80, 70, 190, 180, 170])
        #expect((a / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect((1 - a).scalars == [0, -1, -2, -3, -4, -5])
        #expect(Shape.broadcast([2, 3], [4]) == nil)
        #expect(Shape.broadcast([5, 1, 3], [4, 1]) == [5, 4, 3])
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func broadcastMatchesAnExplicitLoop(seed: UInt64) {
        let a = Tensor.random([3, 1, 4, 5], seed: seed)
        let b = Tensor.random([2, 1, 5], seed: seed + 100)
        let c = a * b  // [3, 2, 4, 5]
        #expect(c.shape == [3, 2, 4, 5])
        for i in 0..<3 { for j in 0..<2 { for k in 0..<4 { for l in 0..<5 {
            #expect(c[i, j, k, l] == a[i, 0, k, l] * b[j, 0, l])
        } } } }
        // The gradient of broadcasting sums back to the operand's shape.
        let back = c.summed(toShape: b.shape)
        for j in 0..<2 { for l in 0..<5 {
            var acc: Double = 0
            for i in 0..<3 { for k in 0..<4 { acc += Double(c[i, j, k, l]) } }
            #expect(abs(Double(back[j, 0, l]) - acc) < 1e-5)
        } }
    }

    @Test func reductionsByHand() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(a.sum() == 21)
        #expect(a.mean() == 3.5)
        #expect(a.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(a.sum(alongAxis: 1, keepingDimension: true).shape == [2, 1])
        #expect(a.sum(alongAxis: 1).scalars == [6, 15])
        #expect(a.max(alongAxis: 1).scalars == [3, 6])
        #expect(Tensor(shape: [2, 3], scalars: [1, 7, 7, 9, 2, 9]).argmax(alongAxis: 1) == [1, 0])  // first on ties
        #expect(a.mean(alongAxis: 0).scalars == [2.5, 3.5, 4.5])
    }

    @Test func largeSumsAreThreadCountIndependent() {
        let t = Tensor.random([1 << 20], seed: 5)
        let sums = [1, 2, 1, 2].map { n in Compute.withThreads(n) { t.sum() } }
        #expect(Set(sums.map(\.bitPattern)).count == 1)
        var reference = 0.0
        for v in t.scalars { reference += Double(v) }
        #expect(abs(Double(sums[0]) - reference) < 1e-3)
    }

    @Test func layoutOps() {
        let a = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let p = a.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(p[k, i, j] == a[i, j, k]) } } }
        #expect(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).transposed().scalars == [1, 4, 2, 5, 3, 6])
        let s = a.slice(alongAxis: 1, 1..<3)
        #expect(s.shape == [2, 2, 4])
        #expect(s[1, 0, 2] == a[1, 1, 2])
        let cat = Tensor.concatenated([a.slice(alongAxis: 1, 0..<1), s], alongAxis: 1)
        #expect(cat.isIdentical(to: a))
        var z = Tensor.zeros([2, 3, 4])
        z.addSlice(s, alongAxis: 1, at: 1)
        z.addSlice(s, alongAxis: 1, at: 1)
        #expect(z[1, 2, 3] == 2 * a[1, 2, 3])
        #expect(z[1, 0, 3] == 0)
    }

    @Test func seededRandomIsReproducible() {
        var r1 = RandomSource(seed: 42), r2 = RandomSource(seed: 42), r3 = RandomSource(seed: 43)
        let a = Tensor.normal([1000], using: &r1)
        #expect(a.isIdentical(to: Tensor.normal([1000], using: &r2)))
        #expect(!a.isIdentical(to: Tensor.normal([1000], using: &r3)))
        #expect(abs(a.mean()) < 0.1)
        #expect(abs((a * a).mean() - 1) < 0.15)
        let u = Tensor.uniform([1000], low: 2, high: 3, using: &r1)
        #expect(u.min() >= 2 && u.max() < 3)
    }

    @Test func sigmoidIsStableAtExtremes() {
        #expect(Tensor.sigmoid(-1000) == 0)
        #expect(Tensor.sigmoid(1000) == 1)
        #expect(abs(Tensor.sigmoid(0) - 0.5) < 1e-7)
    }
}

@Suite struct VectorReductionTests {
    /// Against Double sums, for lengths around the 32-wide vector block (empty, tail only, exact, block + tail).
    @Test(arguments: [0, 1, 31, 32, 33, 64, 95, 1000])
    func vectorisedSumsMatchDoubleSums(count n: Int) {
        var rng = RandomSource(seed: UInt64(n) + 1)
        let a = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
        let b = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
        let center: Float = 0.25
        let sum = a.reduce(0.0) { $0 + Double($1) }
        let squares = a.reduce(0.0) { $0 + Double($1 - center) * Double($1 - center) }
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let p = pa.baseAddress ?? UnsafePointer(bitPattern: 16)!, q = pb.baseAddress ?? UnsafePointer(bitPattern: 16)!
                let tol = 1e-5 * Double(max(n, 1))
                #expect(abs(Double(VectorReductions.sum(p, count: n)) - sum) <= tol)
                #expect(abs(Double(VectorReductions.sumOfSquares(p, count: n, around: center)) - squares) <= tol)
                let (s, d) = VectorReductions.sumAndDot(p, q, count: n)
                #expect(abs(Double(s) - sum) <= tol && abs(Double(d) - dot) <= tol)
            }
        }
    }
}
