import KestrelAnnotations

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension COCOEvaluator {
    static func assemble(
        _ categories: [CategoryAccumulation], index: Index, groundTruth: DetectionDataset,
        parameters p: COCOEvalParameters, warnings: [AnnotationWarning]
    ) -> COCOEvalResult {
        let T = p.iouThresholds.count, R = p.recallThresholds.count, K = categories.count
        let A = p.areaRanges.count, M = p.maxDetections.count
        var precision = [Double](repeating: -1, count: T * R * K * A * M)
        var recall = [Double](repeating: -1, count: T * K * A * M)
        for (k, c) in categories.enumerated() {
            for t in 0..<T {
                for am in 0..<(A * M) {
                    recall[(t * K + k) * A * M + am] = c.recall[t * A * M + am]
                    for r in 0..<R {
                        precision[((t * R + r) * K + k) * A * M + am] = c.precision[(t * R + r) * A * M + am]
                    }
                }
            }
        }
        var names: [Int: String] = [:]
        for c in groundTruth.categories { names[c.id] = c.name }
        var result = COCOEvalResult(
            parameters: p, categoryIDs: index.categoryIDs, categoryNames: index.categoryIDs.map { names[$0] ?? "" },
            precision: precision, recall: recall, stats: [], perCategory: [], warnings: warnings)
        result.stats = result.summaryEntries.map { result.summarize($0) }
        let all = p.areaRanges.firstIndex { $0.label == "all" } ?? 0
        let last = M - 1
        let t50 = p.iouThresholds.firstIndex(of: 0.5), t75 = p.iouThresholds.firstIndex(of: 0.75)
        result.perCategory = (0..<K).map { k in
            func ap(_ ts: [Int]) -> Double {
                NumPy.meanAboveMinusOne(ts.flatMap { t in (0..<R).map { result.precision(t: t, r: $0, k: k, a: all, m: last) } })
            }
            return COCOCategoryResult(
                id: index.categoryIDs[k], name: result.categoryNames[k], ap: ap(Array(0..<T)),
                ap50: t50.map { ap([$0]) } ?? -1, ap75: t75.map { ap([$0]) } ?? -1,
                ar: NumPy.meanAboveMinusOne((0..<T).map { result.recall(t: $0, k: k, a: all, m: last) }))
        }
        return result
    }
}

/// One line of pycocotools' summary: AP or AR, at one IoU (or all), one area range, one maxDets.
struct SummaryEntry {
    var isAP: Bool
    var iou: Double?
    var area: String
    var maxDets: Int
}

extension COCOEvalResult {
    /// pycocotools' `_summarizeDets`, including its `stats[0]` that always asks for maxDets = 100 (unless
    /// `fixStats0MaxDetections`).
    var summaryEntries: [SummaryEntry] {
        let md = parameters.maxDetections
        return [
            SummaryEntry(isAP: true, iou: nil, area: "all", maxDets: parameters.fixStats0MaxDetections ? md[2] : 100),
            SummaryEntry(isAP: true, iou: 0.5, area: "all", maxDets: md[2]),
            SummaryEntry(isAP: true, iou: 0.75, area: "all", maxDets: md[2]),
            SummaryEntry(isAP: true, iou: nil, area: "small", maxDets: md[2]),
            SummaryEntry(isAP: true, iou: nil, area: "medium", maxDets: md[2]),
            SummaryEntry(isAP: true, iou: nil, area: "large", maxDets: md[2]),
            SummaryEntry(isAP: false, iou: nil, area: "all", maxDets: md[0]),
            SummaryEntry(isAP: false, iou: nil, area: "all", maxDets: md[1]),
            SummaryEntry(isAP: false, iou: nil, area: "all", maxDets: md[2]),
            SummaryEntry(isAP: false, iou: nil, area: "small", maxDets: md[2]),
            SummaryEntry(isAP: false, iou: nil, area: "medium", maxDets: md[2]),
            SummaryEntry(isAP: false, iou: nil, area: "large", maxDets: md[2]),
        ]
    }

    /// pycocotools' `_summarize`: the mean of the selected entries > −1 (C order: t, r, k), or −1.
    func summarize(_ e: SummaryEntry) -> Double {
        let ts = (0..<T).filter { e.iou == nil || parameters.iouThresholds[$0] == e.iou! }
        let areas = (0..<A).filter { parameters.areaRanges[$0].label == e.area }
        let caps = (0..<M).filter { parameters.maxDetections[$0] == e.maxDets }
        var values: [Double] = []
        for t in ts {
            if e.isAP {
                for r in 0..<R {
                    for k in 0..<K {
                        for (a, m) in zip(areas, caps) { values.append(precision(t: t, r: r, k: k, a: a, m: m)) }
                    }
                }
            } else {
                for k in 0..<K {
                    for (a, m) in zip(areas, caps) { values.append(recall(t: t, k: k, a: a, m: m)) }
                }
            }
        }
        return NumPy.meanAboveMinusOne(values)
    }

    /// The 12 lines pycocotools prints, character for character, e.g.
    /// ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.412`.
    public var summaryLines: [String] {
        zip(summaryEntries, stats).map { e, value in
            let title = e.isAP ? "Average Precision" : "Average Recall"
            let iou = e.iou.map { formatFixed($0, 2) }
                ?? "\(formatFixed(parameters.iouThresholds.first!, 2)):\(formatFixed(parameters.iouThresholds.last!, 2))"
            return " " + pad(title, 18) + " " + (e.isAP ? "(AP)" : "(AR)") + " @[ IoU=" + pad(iou, 9) + " | area="
                + padLeft(e.area, 6) + " | maxDets=" + padLeft(String(e.maxDets), 3) + " ] = " + formatFixed(value, 3)
        }
    }
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
private func padLeft(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

/// `value` with `digits` decimals, correctly rounded from its exact binary value (as Python's `{:0.3f}` and C's
/// `%.3f` do).
public func formatFixed(_ value: Double, _ digits: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    let n = withVaList([value]) { args in
        buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 512, "%.\(digits)f", args) }
    }
    guard n > 0 && n < 512 else { return String(value) }
    return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
