import KestrelGeometry
import Testing
import _KestrelTestSupport

/// The slow, readable greedy NMS the fast one must equal: sort by (score desc, index asc), keep a box unless
/// some kept box overlaps it with IoU > t.
func referenceNMS(_ boxes: [BoxXYXY], _ scores: [Double], threshold t: Double, scoreThreshold: Double? = nil,
                  maxOutput: Int? = nil) -> [Int] {
    let order = boxes.indices
        .filter { !scores[$0].isNaN && (scoreThreshold == nil || scores[$0] > scoreThreshold!) }
        .sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    var kept: [Int] = []
    for i in order {
        if kept.contains(where: { boxes[$0].iou(boxes[i]) > t }) { continue }
        kept.append(i)
        if let k = maxOutput, kept.count >= k { break }
    }
    return kept
}

/// Random boxes in a 1000×1000 image plus, for many of them, a partner whose IoU with it is t·(1 ± δ) for a
/// tiny δ: the pairs the grid's pruning must not get wrong.
func randomBoxes(seed: UInt64, count: Int, threshold t: Double, clustered: Bool = false)
    -> (boxes: [BoxXYXY], scores: [Double])
{
    var rng = SeededRandom(seed: seed)
    var boxes: [BoxXYXY] = []
    var centres: [(Double, Double)] = (0..<max(1, count / 20)).map { _ in
        (Double.random(in: 0...1000, using: &rng), Double.random(in: 0...1000, using: &rng))
    }
    if !clustered { centres = [] }
    while boxes.count < count {
        let w = Double.random(in: 4...120, using: &rng), h = Double.random(in: 4...120, using: &rng)
        var x = Double.random(in: 0...1000, using: &rng), y = Double.random(in: 0...1000, using: &rng)
        if let c = centres.randomElement(using: &rng) {
            x = c.0 + Double.random(in: -10...10, using: &rng)
            y = c.1 + Double.random(in: -10...10, using: &rng)
        }
        let b = BoxXYXY(x1: x, y1: y, x2: x + w, y2: y + h)
        boxes.append(b)
        if Int.random(in: 0..<3, using: &rng) == 0 && boxes.count < count {
            // Same size, shifted by d along x: IoU = (w − d) / (w + d) = t at d = w (1 − t) / (1 + t).
            let d = w * (1 - t) / (1 + t) * (1 + Double.random(in: -1e-12...1e-12, using: &rng))
            boxes.append(BoxXYXY(x1: x + d, y1: y, x2: x + d + w, y2: y + h))
        } else if Int.random(in: 0..<2, using: &rng) == 0 && boxes.count < count {
            // A box that contains this one and shares its y extent: IoU = w / w' = t·(1 ± δ). The tightest case
            // for the grid: the smaller box barely reaches the larger one's centre.
            let wider = w / (t * (1 + Double.random(in: -1e-9...1e-9, using: &rng)))
            boxes.append(BoxXYXY(x1: x, y1: y, x2: x + min(wider, 2000), y2: y + h))
        }
    }
    var scores = boxes.indices.map { _ in Double(Int.random(in: 0..<400, using: &rng)) / 400 }  // many ties
    if seed % 5 == 0 { scores = scores.map { _ in 0.5 } }  // all tied: order is the index order
    return (boxes, scores)
}

@Suite struct NMSTests {
    @Test(arguments: Array(UInt64(1)...40))
    func greedyEqualsReference(seed: UInt64) {
        let t = [0.3, 0.45, 0.5, 0.6, 0.7, 0.9, 0.0][Int(seed % 7)]
        let n = [70, 200, 700, 1500][Int(seed % 4)]
        let (boxes, scores) = randomBoxes(seed: seed, count: n, threshold: t, clustered: seed % 3 == 0)
        let options = NMSOptions(iouThreshold: t)
        #expect(NMS.greedy(boxes, scores: scores, options: options) == referenceNMS(boxes, scores, threshold: t))
    }

    @Test func nearThresholdPairsAreDecidedByTheStrictInequality() {
        // IoU exactly 0.5 survives; a hair above is suppressed.
        let a = BoxXYXY(x1: 0, y1: 0, x2: 30, y2: 10)
        let exact = BoxXYXY(x1: 10, y1: 0, x2: 40, y2: 10)  // inter 200, union 400
        #expect(a.iou(exact) == 0.5)
        #expect(NMS.greedy([a, exact], scores: [0.9, 0.8]) == [0, 1])
        let over = BoxXYXY(x1: 9.999999, y1: 0, x2: 39.999999, y2: 10)
        #expect(NMS.greedy([a, over], scores: [0.9, 0.8]) == [0])
        // Many copies of near-threshold pairs so the grid is used (>= 64 boxes).
        var boxes: [BoxXYXY] = [], scores: [Double] = []
        for k in 0..<100 {
            let dx = Double(k % 10) * 100, dy = Double(k / 10) * 100
            boxes.append(BoxXYXY(x1: dx, y1: dy, x2: dx + 30, y2: dy + 10))
            let shift = k % 2 == 0 ? 10.0 : 10 - 1e-9
            boxes.append(BoxXYXY(x1: dx + shift, y1: dy, x2: dx + shift + 30, y2: dy + 10))
            scores += [1, 0.5]
        }
        let fast = NMS.greedy(boxes, scores: scores, options: NMSOptions(iouThreshold: 0.5))
        #expect(fast == referenceNMS(boxes, scores, threshold: 0.5))
        #expect(fast.count == 150)
    }

    @Test func tiesAreBrokenByIndex() {
        let b = BoxXYXY(x1: 0, y1: 0, x2: 10, y2: 10)
        #expect(NMS.greedy([b, b, b], scores: [0.5, 0.5, 0.5]) == [0])
        #expect(NMS.greedy([b, b, b], scores: [0.4, 0.5, 0.5]) == [1])
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func scoreThresholdAndTopK(seed: UInt64) {
        let (boxes, scores) = randomBoxes(seed: seed, count: 500, threshold: 0.5)
        for (st, k) in [(0.3, nil), (nil, 7), (0.6, 20), (0.999, nil)] as [(Double?, Int?)] {
            let fast = NMS.greedy(boxes, scores: scores, options: NMSOptions(iouThreshold: 0.5, scoreThreshold: st, maxOutput: k))
            #expect(fast == referenceNMS(boxes, scores, threshold: 0.5, scoreThreshold: st, maxOutput: k))
        }
    }

    @Test func degenerateBoxesAndScores() {
        var boxes = (0..<100).map { i in BoxXYXY(x1: Double(i), y1: 0, x2: Double(i) + 20, y2: 20) }
        var scores = (0..<100).map { Double($0) / 100 }
        boxes[5] = BoxXYXY(x1: 3, y1: 3, x2: 3, y2: 9)  // empty: kept, suppresses nothing
        boxes[6] = BoxXYXY(x1: .nan, y1: 0, x2: 10, y2: 10)
        boxes[7] = BoxXYXY(x1: 0, y1: 0, x2: .infinity, y2: 10)
        scores[8] = .nan  // dropped
        let fast = NMS.greedy(boxes, scores: scores)
        #expect(fast == referenceNMS(boxes, scores, threshold: 0.5))
        #expect(fast.contains(5) && !fast.contains(8))
        #expect(NMS.greedy(boxes, scores: scores, options: NMSOptions(iouThreshold: -1)) == [99])
    }

    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func batchedIsPerClassGreedy(seed: UInt64) {
        let (boxes, scores) = randomBoxes(seed: seed, count: 600, threshold: 0.5, clustered: true)
        var rng = SeededRandom(seed: seed)
        let classes = boxes.indices.map { _ in Int.random(in: 0..<4, using: &rng) }
        let fast = NMS.batched(boxes, scores: scores, classes: classes, options: NMSOptions(iouThreshold: 0.5))
        var expected: [Int] = []
        for c in 0..<4 {
            let idx = boxes.indices.filter { classes[$0] == c }
            expected += referenceNMS(idx.map { boxes[$0] }, idx.map { scores[$0] }, threshold: 0.5).map { idx[$0] }
        }
        expected.sort { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        #expect(fast == expected)
        let top = NMS.batched(boxes, scores: scores, classes: classes, options: NMSOptions(iouThreshold: 0.5, maxOutput: 5))
        #expect(top == Array(expected.prefix(5)))
    }

    @Test func softNMSByHand() {
        let a = BoxXYXY(x1: 0, y1: 0, x2: 10, y2: 10)
        let b = BoxXYXY(x1: 5, y1: 0, x2: 15, y2: 10)  // IoU 1/3 with a
        let c = BoxXYXY(x1: 100, y1: 100, x2: 110, y2: 110)
        let linear = NMS.soft([a, b, c], scores: [0.9, 0.8, 0.3],
                              options: SoftNMSOptions(method: .linear(iouThreshold: 0.3)))
        #expect(linear == [SoftNMSSelection(index: 0, score: 0.9), SoftNMSSelection(index: 1, score: 0.8 * (1 - 1.0 / 3)),
                           SoftNMSSelection(index: 2, score: 0.3)])
        let unchanged = NMS.soft([a, b], scores: [0.9, 0.8], options: SoftNMSOptions(method: .linear(iouThreshold: 0.5)))
        #expect(unchanged.map(\.score) == [0.9, 0.8])
        let gauss = NMS.soft([a, b, c], scores: [0.9, 0.8, 0.3], options: SoftNMSOptions(method: .gaussian(sigma: 0.5)))
        #expect(gauss.map(\.index) == [0, 1, 2])
        #expect(abs(gauss[1].score - 0.8 * expTaylor(-(1.0 / 9) / 0.5)) < 1e-15)
        // Scores decayed below the threshold are discarded; a lowered score can reorder the selection.
        let d = BoxXYXY(x1: 1, y1: 0, x2: 11, y2: 10)  // IoU 9/11 with a
        let low = NMS.soft([a, d, c], scores: [0.9, 0.8, 0.3],
                           options: SoftNMSOptions(method: .linear(iouThreshold: 0.3), scoreThreshold: 0.2))
        #expect(low.map(\.index) == [0, 2])
    }

    @Test(arguments: [31, 32] as [UInt64])
    func iouAndGIoUMatricesEqualTheScalarCalls(seed: UInt64) {
        let (a, _) = randomBoxes(seed: seed, count: 37, threshold: 0.5)
        let (b, _) = randomBoxes(seed: seed + 100, count: 23, threshold: 0.5)
        let m = BoxXYXY.iouMatrix(a, b), g = BoxXYXY.generalizedIoUMatrix(a, b)
        #expect(m.rows == 37 && m.columns == 23)
        for i in a.indices {
            for j in b.indices {
                #expect(m[i, j] == a[i].iou(b[j]))
                #expect(g[i, j] == a[i].generalizedIoU(b[j]))
                #expect(g[i, j] <= m[i, j] && g[i, j] >= -1)
            }
        }
    }

    @Test func giouByHand() {
        let a = BoxXYXY(x1: 0, y1: 0, x2: 10, y2: 10)
        #expect(a.generalizedIoU(a) == 1)
        // Disjoint: IoU 0, hull 20×10 = 200, union 200 → GIoU 0 − 0/200 = 0; farther apart it goes negative.
        #expect(a.generalizedIoU(BoxXYXY(x1: 10, y1: 0, x2: 20, y2: 10)) == 0)
        #expect(a.generalizedIoU(BoxXYXY(x1: 30, y1: 0, x2: 40, y2: 10)) == -0.5)  // hull 400, union 200
        let p = BoxXYXY(x1: 1, y1: 1, x2: 1, y2: 1)
        #expect(p.generalizedIoU(p) == 0)
    }
}

/// e^x by its Taylor series, independent of the C library's exp.
func expTaylor(_ x: Double) -> Double {
    var term = 1.0, sum = 1.0
    for k in 1..<40 {
        term *= x / Double(k)
        sum += term
    }
    return sum
}

@Suite struct ScoreOrderTests {
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func equalsAStableSortByDecreasingScore(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for n in [0, 1, 5, 63, 64, 65, 1000, 20_000] {
            let scores: [Double] = (0..<n).map { _ in
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: return Double(Int.random(in: -3...3, using: &rng)) / 2  // many exact ties
                case 1: return Int.random(in: 0..<2, using: &rng) == 0 ? 0.0 : -0.0
                case 2: return Double.random(in: -1e300...1e300, using: &rng)
                case 3: return Double(bitPattern: UInt64.random(in: 1..<1000, using: &rng))  // subnormals
                case 4: return Int.random(in: 0..<2, using: &rng) == 0 ? .infinity : -.infinity
                default: return Double.random(in: 0...1, using: &rng)
                }
            }
            let expected = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            #expect(ScoreOrder.descending(scores).map(Int.init) == expected, "n = \(n)")
        }
    }
}
