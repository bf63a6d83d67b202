// Pairwise overlap measures between two lists of corner-form boxes: IoU and generalised IoU (GIoU).
//
// Every function here computes each pair with exactly the arithmetic of `BoxXYXY.iou(_:)` /
// `BoxXYXY.generalizedIoU(_:)`, so a matrix entry equals the scalar call bit for bit.

extension BoxXYXY {
    /// Generalised IoU (Rezatofighi et al., CVPR 2019): `IoU − (C − U) / C`, where `U` is the area of the union
    /// and `C` the area of the smallest box enclosing both. In `[−1, 1]`; equals IoU when one box contains
    /// the other. When `C` is 0 (both boxes empty and at one point or on one line) the result is the IoU, 0.
    public func generalizedIoU(_ other: BoxXYXY) -> Double {
        let inter = intersectionArea(other)
        let union = area + other.area - inter
        let iou = union > 0 ? inter / union : 0
        let hull = self.union(other).area
        return hull > 0 ? iou - (hull - union) / hull : iou
    }

    /// Pairwise IoU: `result[i, j] == a[i].iou(b[j])`, shape `[a.count, b.count]`, row-major.
    /// Empty unions give 0 (see ``iou(_:)``).
    public static func iouMatrix(_ a: [BoxXYXY], _ b: [BoxXYXY]) -> PairwiseMatrix {
        pairwise(a, b) { ax1, ay1, ax2, ay2, aArea, bx1, by1, bx2, by2, bArea in
            let w = min(ax2, bx2) - max(ax1, bx1)
            let h = min(ay2, by2) - max(ay1, by1)
            let inter = w > 0 && h > 0 ? w * h : 0
            let union = aArea + bArea - inter
            return union > 0 ? inter / union : 0
        }
    }

    /// Pairwise generalised IoU: `result[i, j] == a[i].generalizedIoU(b[j])`, shape `[a.count, b.count]`,
    /// row-major.
    public static func generalizedIoUMatrix(_ a: [BoxXYXY], _ b: [BoxXYXY]) -> PairwiseMatrix {
        pairwise(a, b) { ax1, ay1, ax2, ay2, aArea, bx1, by1, bx2, by2, bArea in
            let w = min(ax2, bx2) - max(ax1, bx1)
            let h = min(ay2, by2) - max(ay1, by1)
            let inter = w > 0 && h > 0 ? w * h : 0
            let union = aArea + bArea - inter
            let iou = union > 0 ? inter / union : 0
            let hull = max(0, max(ax2, bx2) - min(ax1, bx1)) * max(0, max(ay2, by2) - min(ay1, by1))
            return hull > 0 ? iou - (hull - union) / hull : iou
        }
    }

    /// Shared driver: the second list is laid out as structure-of-arrays so the inner loop over it runs on
    /// contiguous memory and can be vectorised.
    @inline(__always)
    private static func pairwise(
        _ a: [BoxXYXY], _ b: [BoxXYXY],
        _ kernel: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double) -> Double
    ) -> PairwiseMatrix {
        let m = b.count
        let bx1 = b.map(\.x1), by1 = b.map(\.y1), bx2 = b.map(\.x2), by2 = b.map(\.y2), bArea = b.map(\.area)
        var values = [Double](repeating: 0, count: a.count * m)
        values.withUnsafeMutableBufferPointer { out in
            for (i, box) in a.enumerated() {
                let aArea = box.area
                let row = i * m
                for j in 0..<m {
                    out[row + j] = kernel(box.x1, box.y1, box.x2, box.y2, aArea, bx1[j], by1[j], bx2[j], by2[j], bArea[j])
                }
            }
        }
        return PairwiseMatrix(rows: a.count, columns: m, values: values)
    }
}

/// A dense matrix of pairwise values between two box lists: `rows` boxes of the first list by `columns` of
/// the second, stored row-major (`values[row * columns + column]`).
public struct PairwiseMatrix: Sendable, Equatable {
    /// Number of boxes in the first list.
    public let rows: Int
    /// Number of boxes in the second list.
    public let columns: Int
    /// `rows * columns` values, row-major.
    public let values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns, "matrix shape and values disagree")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// The value for box `row` of the first list and box `column` of the second.
    public subscript(row: Int, column: Int) -> Double {
        values[row * columns + column]
    }
}
