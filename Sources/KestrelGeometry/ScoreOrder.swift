/// Ranking by score, the first step of NMS and of detection evaluation.
public enum ScoreOrder {
    /// The indices of `scores`, highest score first; equal scores keep increasing index order (a stable
    /// descending sort, like `numpy.argsort(-s, kind='mergesort')`). `-0.0` and `0.0` count as equal. NaN scores
    /// must be filtered out first (`precondition`-free: they would sort as the largest values).
    ///
    /// An LSD radix sort on order-preserving 64-bit keys (bytes as digits; passes whose byte is the same for every
    /// score skipped): linear time, several times faster than a comparison sort on detector scores.
    public static func descending(_ scores: [Double]) -> [Int32] {
        let n = scores.count
        if n < 64 {
            // Insertion sort: stable, fastest for a handful.
            var order = [Int32]()
            order.reserveCapacity(n)
            for i in 0..<n {
                let s = scores[i]
                var j = order.count
                order.append(Int32(i))
                while j > 0 && scores[Int(order[j - 1])] < s {
                    order[j] = order[j - 1]
                    j -= 1
                }
                order[j] = Int32(i)
            }
            return order
        }
        // Keys ascending ⇔ scores descending: flip the order-preserving map of the IEEE bits.
        var keys = [UInt64](repeating: 0, count: n)
        // All eight byte histograms in one pass; a byte that is the same for every key needs no pass.
        var counts = [Int](repeating: 0, count: 8 * 256)
        for i in 0..<n {
            let s = scores[i] == 0 ? 0.0 : scores[i]
            let bits = s.bitPattern
            let key = ~(bits >> 63 == 1 ? ~bits : bits | (1 << 63))
            keys[i] = key
            for b in 0..<8 { counts[b * 256 + Int((key >> (8 * UInt64(b))) & 255)] += 1 }
        }
        var order = (0..<n).map { Int32($0) }
        var otherOrder = order
        var otherKeys = keys
        for b in 0..<8 {
            let shift = 8 * UInt64(b)
            if counts[b * 256 + Int((keys[0] >> shift) & 255)] == n { continue }
            var sum = 0
            for d in 0..<256 {
                let c = counts[b * 256 + d]
                counts[b * 256 + d] = sum
                sum += c
            }
            keys.withUnsafeBufferPointer { k in
                order.withUnsafeBufferPointer { o in
                    otherKeys.withUnsafeMutableBufferPointer { ok in
                        otherOrder.withUnsafeMutableBufferPointer { oo in
                            counts.withUnsafeMutableBufferPointer { c in
                                for i in 0..<n {
                                    let d = b * 256 + Int((k[i] >> shift) & 255)
                                    let p = c[d]
                                    c[d] = p + 1
                                    ok[p] = k[i]
                                    oo[p] = o[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &otherKeys)
            swap(&order, &otherOrder)
        }
        return order
    }
}
