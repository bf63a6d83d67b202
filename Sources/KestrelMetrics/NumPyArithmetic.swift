// The few NumPy routines whose exact floating-point behaviour the COCO numbers depend on, reproduced operation
// for operation so Kestrel's results equal pycocotools' bit for bit rather than "to 1e-15".

enum NumPy {
    /// `numpy.linspace(start, stop, num)` (endpoint included): `k · step + start` with
    /// `step = (stop − start) / (num − 1)`, and the last value set to `stop` exactly. This is not
    /// `start + k · 0.05`: `0.5 + 0.05·k` and linspace differ in the last bit for some `k`.
    static func linspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
        guard num > 1 else { return num == 1 ? [start] : [] }
        let step = (stop - start) / Double(num - 1)
        var out = (0..<num).map { Double($0) * step + start }
        out[num - 1] = stop
        return out
    }

    /// `numpy.arange(start, stop, step)` for a positive step: `start + k · step` while below `stop`, with
    /// NumPy's length `ceil((stop − start) / step)`.
    static func arange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
        let n = Int(((stop - start) / step).rounded(.up))
        return (0..<max(0, n)).map { start + Double($0) * step }
    }

    /// `numpy.add.reduce` over a contiguous float64 array: pairwise summation in blocks of 128 with eight
    /// accumulators (numpy/_core/src/umath/loops_utils.h.src, `pairwise_sum`), added to the identity 0.
    static func sum(_ a: UnsafeBufferPointer<Double>) -> Double {
        0.0 + pairwiseSum(a, 0, a.count)
    }

    private static func pairwiseSum(_ a: UnsafeBufferPointer<Double>, _ start: Int, _ n: Int) -> Double {
        if n < 8 {
            var res = 0.0
            for i in 0..<n { res += a[start + i] }
            return res
        } else if n <= 128 {
            var r = (0..<8).map { a[start + $0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += a[start + i + j] }
                i += 8
            }
            var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n {
                res += a[start + i]
                i += 1
            }
            return res
        } else {
            var n2 = n / 2
            n2 -= n2 % 8
            return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2)
        }
    }

    /// `numpy.mean(s[s > -1])` for values visited in C order, or −1 when none is > −1 (pycocotools'
    /// `_summarize`).
    static func meanAboveMinusOne(_ values: [Double]) -> Double {
        let kept = values.filter { $0 > -1 }
        guard !kept.isEmpty else { return -1 }
        return kept.withUnsafeBufferPointer { sum($0) } / Double(kept.count)
    }

    /// `numpy.spacing(1)`, the gap between 1 and the next double (2^-52), which pycocotools adds to the
    /// precision denominator.
    static let spacingOfOne = 1.0.ulp
}
