import KestrelAnnotations
import KestrelGeometry

/// Per area range (at most 4), a bit per IoU threshold.
struct AreaMasks {
    private var v = SIMD4<UInt32>()

    @inline(__always)
    subscript(a: Int) -> UInt32 {
        get { v[a] }
        set { v[a] = newValue }
    }
}

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
        let gtStart: SharedColumn<Int32>
        let gtBox: SharedColumn<BoxXYWH>
        let gtArea: SharedColumn<Double>
        let gtCrowd: SharedColumn<Bool>
        let gtIDIsZero: SharedColumn<Bool>
        let dtStart: SharedColumn<Int32>
        let dtBox: SharedColumn<BoxXYWH>
        /// w·h of each detection (pycocotools' detection `area`).
        let dtArea: SharedColumn<Double>
        let dtScore: SharedColumn<Double>

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
            let (gtStarts, gtOrder) = Self.bucket(gtCell, cells: cells)
            let anns = groundTruth.annotations
            gtStart = SharedColumn(gtStarts)
            gtBox = SharedColumn(gtOrder.map { anns[Int($0)].bbox })
            gtArea = SharedColumn(gtOrder.map { anns[Int($0)].area })
            gtCrowd = SharedColumn(gtOrder.map { anns[Int($0)].isCrowd })
            gtIDIsZero = SharedColumn(gtOrder.map { anns[Int($0)].id == 0 })
            let (dtStarts, dtOrder) = Self.bucket(placed, cells: cells)
            dtStart = SharedColumn(dtStarts)
            // One pass over the detections fills their three columns.
            var boxes: [BoxXYWH] = [], areas: [Double] = [], scores: [Double] = []
            boxes.reserveCapacity(dtOrder.count)
            areas.reserveCapacity(dtOrder.count)
            scores.reserveCapacity(dtOrder.count)
            detections.withUnsafeBufferPointer { all in
                for n in dtOrder {
                    let d = all[Int(n)]
                    boxes.append(d.bbox)
                    areas.append(d.bbox.width * d.bbox.height)
                    scores.append(d.score)
                }
            }
            dtBox = SharedColumn(boxes)
            dtArea = SharedColumn(areas)
            dtScore = SharedColumn(scores)
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
            let lowest = thresholds.min()!
            let lower = p.areaRanges.map(\.lower), upper = p.areaRanges.map(\.upper)
            let allThresholds: UInt32 = T == 32 ? ~0 : (1 << UInt32(T)) - 1
            var precision = [Double](repeating: -1, count: T * R * A * M)
            var recall = [Double](repeating: -1, count: T * A * M)

            // Every kept detection of the category in concatenation order (image order, then per-image rank):
            // its score, rank, and per area range the thresholds at which it is a true / false positive.
            var entries: [Entry] = []
            var nonIgnoredGT = [Int](repeating: 0, count: A)
            var anyCell = false

            // Scratch reused across images.
            var dets: [Int] = [], ious: [Double] = [], best: [Double] = []
            var gtOrder: [Int] = [], gtIgnored: [Bool] = [], takenAt: [Int] = []
            var stamp = 0

            for i in 0..<imageCount {
                let cell = k * imageCount + i
                let g0 = Int(gtStart[cell]), g1 = Int(gtStart[cell + 1])
                let d0 = Int(dtStart[cell]), d1 = Int(dtStart[cell + 1])
                if g0 == g1 && d0 == d1 { continue }
                anyCell = true
                let G = g1 - g0
                // Detections by score, stable (ties keep file order), capped at the largest maxDets.
                dets.removeAll(keepingCapacity: true)
                if d1 - d0 <= 32 {
                    for d in d0..<d1 {
                        // Insertion sort (cells hold few detections); equal scores stay in file order.
                        let s = dtScore[d]
                        var j = dets.count
                        dets.append(d)
                        while j > 0 && dtScore[dets[j - 1]] < s {
                            dets[j] = dets[j - 1]
                            j -= 1
                        }
                        dets[j] = d
                    }
                } else {
                    dets.append(contentsOf: d0..<d1)
                    let score = dtScore
                    dets.sort { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
                }
                if dets.count > maxDet { dets.removeLast(dets.count - maxDet) }
                let D = dets.count
                let base = entries.count
                for (r, d) in dets.enumerated() { entries.append(Entry(score: dtScore[d], rank: Int32(r), position: Int32(base + r))) }
                // Per area range: the GT not ignored (not crowd, area in range) count; without GT, every
                // detection in range is a false positive at every threshold.
                for a in 0..<A {
                    var n = 0
                    for g in g0..<g1 where !(gtCrowd[g] || gtArea[g] < lower[a] || gtArea[g] > upper[a]) { n += 1 }
                    nonIgnoredGT[a] += n
                }
                if G == 0 {
                    for r in 0..<D {
                        let w = dtArea[dets[r]]
                        for a in 0..<A where !(w < lower[a] || w > upper[a]) { entries[base + r].fp[a] = allThresholds }
                    }
                    continue
                }
                // IoU [D, G] with the GT in file order (pycocotools' bbIou), and each detection's best IoU.
                ious.removeAll(keepingCapacity: true)
                best.removeAll(keepingCapacity: true)
                for d in dets {
                    let db = dtBox[d]
                    var m = 0.0
                    for g in g0..<g1 {
                        let v = Self.bbIoU(db, gtBox[g], crowd: gtCrowd[g])
                        ious.append(v)
                        m = Swift.max(m, v)
                    }
                    best.append(m)
                }
                if takenAt.count < G { takenAt.append(contentsOf: repeatElement(-1, count: G - takenAt.count)) }
                for a in 0..<A {
                    let lo = lower[a], hi = upper[a]
                    // GT ignored (crowd or area outside the range) sorted last, stably.
                    gtOrder.removeAll(keepingCapacity: true)
                    gtIgnored.removeAll(keepingCapacity: true)
                    for pass in 0..<2 {
                        for g in 0..<G {
                            let ignored = gtCrowd[g0 + g] || gtArea[g0 + g] < lo || gtArea[g0 + g] > hi
                            if ignored == (pass == 1) {
                                gtOrder.append(g)
                                gtIgnored.append(ignored)
                            }
                        }
                    }
                    for t in 0..<T {
                        let bit = UInt32(1) << UInt32(t)
                        stamp += 1  // a GT is taken at this (image, range, threshold) when takenAt == stamp
                        for r in 0..<D {
                            let outside = dtArea[dets[r]] < lo || dtArea[dets[r]] > hi
                            var m = -1
                            if best[r] >= lowest {
                                var bestIoU = thresholds[t]
                                for j in 0..<G {
                                    let g = gtOrder[j]
                                    if takenAt[j] == stamp && !gtCrowd[g0 + g] { continue }
                                    if m > -1 && !gtIgnored[m] && gtIgnored[j] { break }
                                    let v = ious[r * G + g]
                                    if v < bestIoU { continue }
                                    bestIoU = v
                                    m = j
                                }
                            }
                            guard m > -1 else {
                                if !outside { entries[base + r].fp[a] |= bit }
                                continue
                            }
                            takenAt[m] = stamp
                            let counted = p.fixGroundTruthIDZero || !gtIDIsZero[g0 + gtOrder[m]]
                            if gtIgnored[m] || (!counted && outside) { continue }
                            if counted { entries[base + r].tp[a] |= bit } else { entries[base + r].fp[a] |= bit }
                        }
                    }
                }
            }
            guard anyCell else { return CategoryAccumulation(precision: precision, recall: recall) }

            // accumulate(): one stable sort by score serves every maxDets (a per-image cap keeps relative order).
            // (pycocotools: np.argsort(-scores, kind='mergesort'); an entry's position is its index here.)
            let sorted = ScoreOrder.descending(entries.map(\.score)).map { entries[Int($0)] }
            let eps = NumPy.spacingOfOne
            // Per (area, threshold): true and false positives so far, and the (tp, fp) counts at every true
            // positive, in order. Recall is tp / npig whether or not there were detections (0 / npig = 0).
            var tpCount = [Int](repeating: 0, count: A * T), fpCount = tpCount
            var events = [[(Int32, Int32)]](repeating: [], count: A * T)
            var envelope: [Double] = []
            for m in 0..<M {
                let cap = Int32(p.maxDetections[m])
                for at in 0..<(A * T) {
                    tpCount[at] = 0
                    fpCount[at] = 0
                    events[at].removeAll(keepingCapacity: true)
                }
                for e in sorted where e.rank < cap {
                    for a in 0..<A {
                        var tm = e.tp[a], fm = e.fp[a]
                        while tm != 0 {
                            let at = a * T + tm.trailingZeroBitCount
                            tm &= tm - 1
                            tpCount[at] += 1
                            events[at].append((Int32(tpCount[at]), Int32(fpCount[at])))
                        }
                        while fm != 0 {
                            fpCount[a * T + fm.trailingZeroBitCount] += 1
                            fm &= fm - 1
                        }
                    }
                }
                for a in 0..<A where nonIgnoredGT[a] > 0 {
                    let npig = Double(nonIgnoredGT[a])
                    for t in 0..<T {
                        recall[(t * A + a) * M + m] = Double(tpCount[a * T + t]) / npig
                        // Precision at each true positive, then its running maximum from the right (the
                        // interpolated precision); false positives never raise it, so only these points matter.
                        let ev = events[a * T + t]
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

        /// One kept detection during accumulation.
        struct Entry {
            var score: Double
            /// Position in its image's score order (for the maxDets caps).
            var rank: Int32
            /// Position in concatenation order (the tie-break of the stable sort); equals the index in `entries`.
            var position: Int32
            /// Per area range (up to 4), bit t set: true / false positive at IoU threshold t.
            var tp = AreaMasks()
            var fp = AreaMasks()

            init(score: Double, rank: Int32, position: Int32) {
                self.score = score
                self.rank = rank
                self.position = position
            }
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
