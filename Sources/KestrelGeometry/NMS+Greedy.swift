// The engine behind greedy NMS: the obvious loop (each candidate against every kept box), accelerated by a
// uniform grid that only skips pairs whose IoU provably cannot exceed the threshold.
//
// Why the grid is exact. Write w_c for the candidate's width. For any two boxes, IoU ≤ ix / w_c, where ix is
// the width of their intersection (the intersection is at most ix × h_c and the union at least w_c × h_c).
// So IoU > t forces ix > t·w_c, which forces the kept box to reach into the candidate's x-interval shrunk by
// t·w_c on each side (for t ≥ 0.5: to cover its centre). The same holds for y. A kept box is registered in
// every cell its box overlaps; a candidate looks only in the cells overlapping its shrunken box, shrunk by
// s = min(t, 0.5) − 0.01 instead of t: the 1% margin is far larger than any rounding in the IoU arithmetic.
// Cell indices are monotone in the coordinate (subtract, multiply by a positive scale, truncate, clamp), so a
// point inside both boxes lands in a cell both touch. Boxes too large for the grid, non-finite boxes and
// negative thresholds fall back to the obvious loop.

enum GreedySuppressor {
    /// IoU of a kept box (with precomputed area) and a candidate, with exactly `BoxXYXY.iou`'s arithmetic.
    @inline(__always)
    static func iou(
        _ kx1: Double, _ ky1: Double, _ kx2: Double, _ ky2: Double, _ kArea: Double,
        _ c: BoxXYXY, _ cArea: Double
    ) -> Double {
        let w = min(kx2, c.x2) - max(kx1, c.x1)
        let h = min(ky2, c.y2) - max(ky1, c.y1)
        let inter = w > 0 && h > 0 ? w * h : 0
        let union = kArea + cArea - inter
        return union > 0 ? inter / union : 0
    }

    /// Kept boxes as structure-of-arrays, 5 values per box: x1, y1, x2, y2, area.
    struct BoxList {
        var values: [Double] = []

        mutating func append(_ b: BoxXYXY, area: Double) {
            values.append(b.x1)
            values.append(b.y1)
            values.append(b.x2)
            values.append(b.y2)
            values.append(area)
        }

        /// True when some box in the list has IoU > t with `c`, decided exactly as `iou(…) > t`: the division is
        /// skipped when `intersection` and `t · union` differ by more than a relative 1e-12, far beyond rounding.
        @inline(__always)
        func suppresses(_ c: BoxXYXY, area cArea: Double, threshold t: Double) -> Bool {
            let fast = t >= 0 && t.isFinite
            return values.withUnsafeBufferPointer { v in
                var k = 0
                while k < v.count {
                    defer { k += 5 }
                    let w = min(v[k + 2], c.x2) - max(v[k], c.x1)
                    let h = min(v[k + 3], c.y2) - max(v[k + 1], c.y1)
                    guard w > 0 && h > 0 || !fast else { continue }  // IoU 0 never exceeds t ≥ 0
                    if fast {
                        let inter = w * h
                        let tu = t * (v[k + 4] + cArea - inter)
                        if inter > tu * (1 + 1e-12) { return true }
                        if inter < tu * (1 - 1e-12) { continue }
                    }
                    if iou(v[k], v[k + 1], v[k + 2], v[k + 3], v[k + 4], c, cArea) > t { return true }
                }
                return false
            }
        }
    }

    /// Kept boxes up to which the obvious loop is cheaper than building the grid.
    static let gridAfter = 48

    static func run(boxes: [BoxXYXY], order: [Int32], threshold t: Double, limit: Int) -> [Int] {
        guard !order.isEmpty, limit > 0 else { return [] }
        // The obvious loop first: when few boxes survive (clustered detections) it is all that is needed.
        let stopAt = t >= 0 && order.count >= 4 * gridAfter ? gridAfter : Int.max
        let (kept, next) = brute(boxes: boxes, order: order, threshold: t, limit: limit, stopAfter: stopAt)
        guard next < order.count, kept.count < limit, let grid = Grid(boxes: boxes, order: order) else {
            return next < order.count && kept.count < limit
                ? brute(boxes: boxes, order: order, threshold: t, limit: limit, stopAfter: Int.max).kept : kept
        }
        return gridded(boxes: boxes, order: order, from: next, kept: kept, threshold: t, limit: limit, grid: grid)
    }

    /// The obvious loop over `order`, stopping once `stopAfter` boxes are kept; returns them and where it stopped.
    /// With `stopAfter == Int.max`, greedy NMS itself (and the fallback for negative or NaN thresholds).
    static func brute(boxes: [BoxXYXY], order: [Int32], threshold t: Double, limit: Int, stopAfter: Int)
        -> (kept: [Int], next: Int)
    {
        var kept: [Int] = []
        var list = BoxList()
        for (n, i32) in order.enumerated() {
            let i = Int(i32)
            let c = boxes[i]
            let area = c.area
            if list.suppresses(c, area: area, threshold: t) { continue }
            kept.append(i)
            if kept.count == limit || kept.count == stopAfter { return (kept, n + 1) }
            list.append(c, area: area)
        }
        return (kept, order.count)
    }

    /// A box the grid can place: finite, with positive width and height.
    @inline(__always)
    static func isRegular(_ b: BoxXYXY) -> Bool {
        b.isFinite && b.x2 > b.x1 && b.y2 > b.y1
    }

    struct Grid {
        let minX: Double, minY: Double
        let scaleX: Double, scaleY: Double
        let nx: Int, ny: Int
        /// Boxes spanning more cells than this go to the always-checked list instead.
        static let maxCellsPerBox = 64

        init?(boxes: [BoxXYXY], order: [Int32]) {
            var minX = Double.infinity, minY = Double.infinity
            var maxX = -Double.infinity, maxY = -Double.infinity
            var sumW = 0.0, sumH = 0.0, n = 0
            for i in order {
                let b = boxes[Int(i)]
                guard GreedySuppressor.isRegular(b) else { continue }
                minX = min(minX, b.x1); minY = min(minY, b.y1)
                maxX = max(maxX, b.x2); maxY = max(maxY, b.y2)
                sumW += b.x2 - b.x1; sumH += b.y2 - b.y1
                n += 1
            }
            guard n >= 64 else { return nil }
            let spanX = maxX - minX, spanY = maxY - minY
            guard spanX.isFinite, spanY.isFinite, spanX > 0, spanY > 0 else { return nil }
            // Cells about half the mean box size; at most ~2 cells per candidate and 4096 per axis.
            let maxCells = Double(max(1024, 2 * order.count))
            var nx = max(1.0, min(4096, (spanX / max(sumW / Double(n) / 2, spanX / 4096)).rounded(.up)))
            var ny = max(1.0, min(4096, (spanY / max(sumH / Double(n) / 2, spanY / 4096)).rounded(.up)))
            if nx * ny > maxCells {
                let shrink = (nx * ny / maxCells).squareRoot()
                nx = max(1, (nx / shrink).rounded(.down))
                ny = max(1, (ny / shrink).rounded(.down))
            }
            self.minX = minX
            self.minY = minY
            self.nx = Int(nx)
            self.ny = Int(ny)
            self.scaleX = nx / spanX
            self.scaleY = ny / spanY
        }

        /// The column of x: monotone non-decreasing in x, clamped to the grid.
        @inline(__always)
        func column(_ x: Double) -> Int {
            let v = (x - minX) * scaleX
            return v < 1 ? 0 : (v >= Double(nx - 1) ? nx - 1 : Int(v))
        }

        @inline(__always)
        func row(_ y: Double) -> Int {
            let v = (y - minY) * scaleY
            return v < 1 ? 0 : (v >= Double(ny - 1) ? ny - 1 : Int(v))
        }
    }

    /// Continues greedy NMS at `order[from...]` with the boxes `kept` so far, using the grid.
    static func gridded(
        boxes: [BoxXYXY], order: [Int32], from: Int, kept alreadyKept: [Int], threshold t: Double, limit: Int, grid: Grid
    ) -> [Int] {
        var cells = [BoxList](repeating: BoxList(), count: grid.nx * grid.ny)
        var everywhere = BoxList()  // kept boxes too large for the grid, or non-finite: checked by every candidate
        var all = BoxList()  // every kept box, for candidates the grid cannot place
        var kept: [Int] = []
        func register(_ c: BoxXYXY, _ area: Double) {
            all.append(c, area: area)
            if !c.isFinite {
                everywhere.append(c, area: area)
            } else if isRegular(c) {
                let k0 = grid.column(c.x1), k1 = grid.column(c.x2)
                let q0 = grid.row(c.y1), q1 = grid.row(c.y2)
                if (k1 - k0 + 1) * (q1 - q0 + 1) > Grid.maxCellsPerBox {
                    everywhere.append(c, area: area)
                } else {
                    for r in q0...q1 {
                        for col in k0...k1 { cells[r * grid.nx + col].append(c, area: area) }
                    }
                }
            }
        }
        for i in alreadyKept {
            kept.append(i)
            register(boxes[i], boxes[i].area)
        }
        let s = max(0, min(t, 0.5) - 0.01)
        for i32 in order[from...] {
            let i = Int(i32)
            let c = boxes[i]
            let area = c.area
            if isRegular(c) {
                let w = c.x2 - c.x1, h = c.y2 - c.y1
                // Shrink the query box by s·size unless the 1% margin is lost in rounding (tiny boxes far from
                // the origin): then query the whole box, which is exact without any margin.
                let magnitude = abs(c.x1) + abs(c.x2) + abs(c.y1) + abs(c.y2)
                let shrink = 0.01 * min(w, h) > 1e-9 * magnitude ? s : 0
                let c0 = grid.column(c.x1 + shrink * w), c1 = max(c0, grid.column(c.x2 - shrink * w))
                let r0 = grid.row(c.y1 + shrink * h), r1 = max(r0, grid.row(c.y2 - shrink * h))
                var suppressed = everywhere.suppresses(c, area: area, threshold: t)
                if !suppressed {
                    if (c1 - c0 + 1) * (r1 - r0 + 1) > Grid.maxCellsPerBox {
                        suppressed = all.suppresses(c, area: area, threshold: t)
                    } else {
                        search: for r in r0...r1 {
                            for col in c0...c1 where cells[r * grid.nx + col].suppresses(c, area: area, threshold: t) {
                                suppressed = true
                                break search
                            }
                        }
                    }
                }
                if suppressed { continue }
                kept.append(i)
                if kept.count == limit { break }
                register(c, area)
            } else {
                // Empty finite boxes have IoU 0 with everything, so they are kept and suppress nothing; a
                // non-finite box is checked against every kept box and, if kept, checked by every candidate.
                if !c.isFinite && all.suppresses(c, area: area, threshold: t) { continue }
                kept.append(i)
                if kept.count == limit { break }
                register(c, area)
            }
        }
        return kept
    }
}
