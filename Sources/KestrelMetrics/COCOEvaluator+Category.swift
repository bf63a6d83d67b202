import KestrelAnnotations
import KestrelGeometry

/// What one category contributes: its slices of the precision `[T, R, ·, A, M]` and recall `[T, ·, A, M]` arrays.
struct CategoryAccumulation: Sendable {
    /// `[T, R, A, M]`, row-major.
    var precision: [Double]
    /// `[T, A, M]`, row-major.
    var recall: [Double]
}

extension COCOEvaluator {
    /// Ground truth and detections bucketed by (category, image) cell, cell = k · imageCount + i, file order
    /// kept within a cell.
    struct Prepared: Sendable {
        let parameters: COCOEvalParameters
        let imageCount: Int
        let gtStart: [Int32]
        let gtBox: [BoxXYWH]
        let gtArea: [Double]
        let gtCrowd: [Bool]
        let gtIDIsZero: [Bool]
        let dtStart: [Int32]
        let dtBox: [BoxXYWH]
        let dtScore: [Double]

        init(index: Index, groundTruth: DetectionDataset, detections: [Detection], placed: [Int32],
             parameters: COCOEvalParameters) {
            self.parameters = parameters
            let nI = index.imageIDs.count
            imageCount = nI
            let cells = index.categoryIDs.count * nI
            var gtCell = [Int32](repeating: -1, count: groundTruth.annotations.count)
            for (n, a) in groundTruth.annotations.enumerated() {
                if let i = index.imageLookup[a.imageID], let k = index.categoryLookup[a.categoryID] {
                    gtCell[n] = Int32(truncatingIfNeeded: k * nI + i)
                }
            }
            let gtOrder: [Int32]
            (gtStart, gtOrder) = Self.bucket(gtCell, cells: cells)
            let anns = groundTruth.annotations
            gtBox = gtOrder.map { anns[Int($0)].bbox }
            gtArea = gtOrder.map { anns[Int($0)].area }
            gtCrowd = gtOrder.map { anns[Int($0)].isCrowd }
            gtIDIsZero = gtOrder.map { anns[Int($0)].id == 0 }
            let dtOrder: [Int32]
            (dtStart, dtOrder) = Self.bucket(placed, cells: cells)
            dtBox = dtOrder.map { detections[Int($0)].bbox }
            dtScore = dtOrder.map { detections[Int($0)].score }
        }

        /// Counting sort of items by cell (−1: left out), stable: `(start[cell] ..< start[cell + 1])` indexes `order`.
        static func bucket(_ cellOf: [Int32], cells: Int) -> ([Int32], [Int32]) {
            var start = [Int32](repeating: 0, count: cells + 1)
            for c in cellOf where c >= 0 { start[Int(c) + 1] += 1 }
            for c in 0..<cells { start[c + 1] += start[c] }
            var next = start
            var order = [Int32](repeating: 0, count: Int(start[cells]))
            for (n, c) in cellOf.enumerated() where c >= 0 {
                order[Int(next[Int(c)])] = Int32(n)
                next[Int(c)] += 1
            }
            return (start, order)
        }

        /// A rough cost of evaluating category `k`, for scheduling.
        func work(category k: Int) -> Int {
            let lo = k * imageCount, hi = lo + imageCount
            return Int(dtStart[hi] - dtStart[lo]) + 4 * Int(gtStart[hi] - gtStart[lo])
        }

        /// pycocotools' `evaluateImg` for every image of category `k`, then its `accumulate`.
        func evaluate(category k: Int) -> CategoryAccumulation {
            let p = parameters
            let T = p.iouThresholds.count, R = p.recallThresholds.count
            let A = p.areaRanges.count, M = p.maxDetections.count
            let maxDet = p.maxDetections.max()!
            let thresholds = p.iouThresholds.map { min($0, 1 - 1e-10) }
            var precision = [Double](repeating: -1, count: T * R * A * M)
            var recall = [Double](repeating: -1, count: T * A * M)

            // Every kept detection of the category in concatenation order (image order, then per-image rank).
            var scores: [Double] = [], ranks: [Int32] = []
            var tpMasks: [UInt32] = [], fpMasks: [UInt32] = []  // [entry, A]
            var nonIgnoredGT = [Int](repeating: 0, count: A)
            var anyCell = false

            // Scratch reused across images.
            var dets: [Int] = [], ious: [Double] = []
            var gtOrder: [Int] = [], gtIgnored: [Bool] = [], gtTaken: [Bool] = []
            var tp: [UInt32] = [], fp: [UInt32] = []

            for i in 0..<imageCount {
                let cell = k * imageCount + i
                let g0 = Int(gtStart[cell]), g1 = Int(gtStart[cell + 1])
                let d0 = Int(dtStart[cell]), d1 = Int(dtStart[cell + 1])
                if g0 == g1 && d0 == d1 { continue }
                anyCell = true
                let G = g1 - g0
                // Detections by score, stable, capped at the largest maxDets.
                dets.removeAll(keepingCapacity: true)
                dets.append(contentsOf: d0..<d1)
                if dets.count > 1 {
                    dets.sort { dtScore[$0] > dtScore[$1] || (dtScore[$0] == dtScore[$1] && $0 < $1) }
                }
                if dets.count > maxDet { dets.removeLast(dets.count - maxDet) }
                let D = dets.count
                // IoU [D, G] with the GT in file order (pycocotools' bbIou).
                ious.removeAll(keepingCapacity: true)
                for d in dets {
                    let db = dtBox[d]
                    for g in g0..<g1 { ious.append(Self.bbIoU(db, gtBox[g], crowd: gtCrowd[g])) }
                }
                tp.removeAll(keepingCapacity: true)
                fp.removeAll(keepingCapacity: true)
                tp.append(contentsOf: repeatElement(0, count: D * A))
                fp.append(contentsOf: repeatElement(0, count: D * A))
                for a in 0..<A {
                    let lo = p.areaRanges[a].lower, hi = p.areaRanges[a].upper
                    // GT ignored (crowd or outside the range) sorted last, stably.
                    gtOrder.removeAll(keepingCapacity: true)
                    gtIgnored.removeAll(keepingCapacity: true)
                    for g in 0..<G {
                        let area = gtArea[g0 + g]
                        if !(gtCrowd[g0 + g] || area < lo || area > hi) { gtOrder.append(g) }
                    }
                    nonIgnoredGT[a] += gtOrder.count
                    gtIgnored.append(contentsOf: repeatElement(false, count: gtOrder.count))
                    for g in 0..<G {
                        let area = gtArea[g0 + g]
                        if gtCrowd[g0 + g] || area < lo || area > hi {
                            gtOrder.append(g)
                            gtIgnored.append(true)
                        }
                    }
                    for t in 0..<T {
                        let bit = UInt32(1) << UInt32(t)
                        gtTaken.removeAll(keepingCapacity: true)
                        gtTaken.append(contentsOf: repeatElement(false, count: G))
                        for (r, d) in dets.enumerated() {
                            var best = thresholds[t]
                            var m = -1
                            for j in 0..<G {
                                let g = gtOrder[j]
                                if gtTaken[j] && !gtCrowd[g0 + g] { continue }
                                if m > -1 && !gtIgnored[m] && gtIgnored[j] { break }
                                let v = ious[r * G + g]
                                if v < best { continue }
                                best = v
                                m = j
                            }
                            let w = dtBox[d].width * dtBox[d].height
                            let outside = w < lo || w > hi
                            guard m > -1 else {
                                if !outside { fp[r * A + a] |= bit }
                                continue
                            }
                            gtTaken[m] = true
                            let counted = p.fixGroundTruthIDZero || !gtIDIsZero[g0 + gtOrder[m]]
                            if gtIgnored[m] || (!counted && outside) { continue }
                            if counted { tp[r * A + a] |= bit } else { fp[r * A + a] |= bit }
                        }
                    }
                }
                for (r, d) in dets.enumerated() {
                    scores.append(dtScore[d])
                    ranks.append(Int32(r))
                }
                tpMasks.append(contentsOf: tp)
                fpMasks.append(contentsOf: fp)
            }
            guard anyCell else { return CategoryAccumulation(precision: precision, recall: recall) }

            // accumulate(): one stable sort by score serves every maxDets (a prefix cap keeps relative order).
            let n = scores.count
            var order = Array(0..<n)
            order.sort { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            let eps = NumPy.spacingOfOne
            var tpCount = [Int](repeating: 0, count: T), fpCount = [Int](repeating: 0, count: T)
            // For each threshold, the (tp, fp) counts at every true positive, in order.
            var events = [[(Int32, Int32)]](repeating: [], count: T)
            var envelope: [Double] = []
            for m in 0..<M {
                let cap = Int32(p.maxDetections[m])
                for a in 0..<A where nonIgnoredGT[a] > 0 {
                    let npig = Double(nonIgnoredGT[a])
                    for t in 0..<T {
                        tpCount[t] = 0
                        fpCount[t] = 0
                        events[t].removeAll(keepingCapacity: true)
                    }
                    var nd = 0
                    for x in order where ranks[x] < cap {
                        nd += 1
                        var tm = tpMasks[x * A + a], fm = fpMasks[x * A + a]
                        while tm != 0 {
                            let t = tm.trailingZeroBitCount
                            tm &= tm - 1
                            tpCount[t] += 1
                            events[t].append((Int32(tpCount[t]), Int32(fpCount[t])))
                        }
                        while fm != 0 {
                            let t = fm.trailingZeroBitCount
                            fm &= fm - 1
                            fpCount[t] += 1
                        }
                    }
                    for t in 0..<T {
                        recall[(t * A + a) * M + m] = nd > 0 ? Double(tpCount[t]) / npig : 0
                        // Precision at each true positive, then its running maximum from the right (the
                        // interpolated precision); false positives never raise it, so only these points matter.
                        let ev = events[t]
                        envelope.removeAll(keepingCapacity: true)
                        for (tpj, fpj) in ev {
                            let tpd = Double(tpj)
                            envelope.append(tpd / ((Double(fpj) + tpd) + eps))
                        }
                        if envelope.count > 1 {
                            for j in stride(from: envelope.count - 2, through: 0, by: -1) where envelope[j + 1] > envelope[j] {
                                envelope[j] = envelope[j + 1]
                            }
                        }
                        // Left binary search of each recall level in rc = tp / npig; levels beyond the last
                        // reached recall stay 0.
                        var j = 0
                        for r in 0..<R {
                            let level = p.recallThresholds[r]
                            while j < ev.count && Double(ev[j].0) / npig < level { j += 1 }
                            precision[((t * R + r) * A + a) * M + m] = j < ev.count ? envelope[j] : 0
                        }
                    }
                }
            }
            return CategoryAccumulation(precision: precision, recall: recall)
        }

        /// pycocotools' `bbIou` (maskApi.c) for one pair, operation for operation: for a crowd GT the union is the
        /// detection's area.
        @inline(__always)
        static func bbIoU(_ d: BoxXYWH, _ g: BoxXYWH, crowd: Bool) -> Double {
            let w = min(d.width + d.x, g.width + g.x) - max(d.x, g.x)
            if w <= 0 { return 0 }
            let h = min(d.height + d.y, g.height + g.y) - max(d.y, g.y)
            if h <= 0 { return 0 }
            let i = w * h
            let da = d.width * d.height
            let u = crowd ? da : da + g.width * g.height - i
            return i / u
        }
    }
}
