import KestrelAnnotations
import KestrelGeometry

/// Settings of a Pascal VOC evaluation.
public struct VOCEvalParameters: Sendable, Equatable {
    public enum Interpolation: Sendable, Equatable {
        /// VOC2007: the mean of the best precision at recall ≥ 0, 0.1, …, 1 (`numpy.arange(0, 1.1, 0.1)`).
        case elevenPoint
        /// VOC2010 and later: the area under the interpolated (monotone) precision-recall curve.
        case allPoint
    }

    public var interpolation: Interpolation = .allPoint
    /// A detection is right when its best IoU is strictly greater than this.
    public var iouThreshold = 0.5
    /// The devkit's inclusive-pixel arithmetic: widths are `x2 − x1 + 1` in IoU (true by default, as in
    /// VOCevaldet.m and py-faster-rcnn's voc_eval.py); false for continuous coordinates.
    public var plusOnePixel = true
    /// Detections on images the ground truth lacks are an error unless this is true (then dropped, with a warning).
    public var dropDetectionsOnUnknownImages = false

    public init() {}
}

/// One class's VOC result.
public struct VOCClassResult: Sendable, Equatable {
    public var id: Int
    public var name: String
    /// Average precision; nil when the class has no non-difficult ground truth (left out of the mean).
    public var ap: Double?
    /// Non-difficult ground-truth objects.
    public var groundTruthCount: Int
    public var detectionCount: Int
    /// Recall and precision after each detection, by decreasing score (the curve AP integrates).
    public var recall: [Double]
    public var precision: [Double]
}

public struct VOCEvalResult: Sendable {
    public var parameters: VOCEvalParameters
    /// In category id order.
    public var perClass: [VOCClassResult]
    /// The mean AP over classes that have ground truth (NumPy's pairwise mean).
    public var map: Double
    public var warnings: [AnnotationWarning]

    /// Which variant ran, e.g. "VOC2007 11-point AP, IoU > 0.5, devkit +1 pixel convention".
    public var variantDescription: String {
        (parameters.interpolation == .elevenPoint ? "VOC2007 11-point AP" : "VOC2010+ all-point AP")
            + ", IoU > \(parameters.iouThreshold), "
            + (parameters.plusOnePixel ? "devkit +1 pixel convention" : "continuous coordinates")
    }
}

/// Pascal VOC detection AP per class, as the devkit (VOCevaldet.m) and py-faster-rcnn's `voc_eval` compute it:
/// detections of a class sorted by score (stably: ties keep file order), each matched to its single
/// best-overlapping ground truth of that image (the first of equals); IoU > threshold and not yet taken: true
/// positive; taken: false positive; best overlap a `difficult` object: neither. Crowd (`iscrowd`) ground truth
/// is treated like difficult. Precision is `tp / max(tp + fp, ε)`.
public enum VOCEvaluator {
    /// Evaluates `detections` against `groundTruth`, one AP per category (in id order) and their mean.
    /// Detections on images the ground truth lacks are an error unless dropped by the parameters; detections of
    /// unknown categories are ignored with a warning; categories without non-difficult ground truth get no AP.
    public static func evaluate(
        groundTruth: DetectionDataset, detections: [Detection], parameters: VOCEvalParameters = VOCEvalParameters()
    ) throws(AnnotationError) -> VOCEvalResult {
        guard parameters.iouThreshold >= 0 && parameters.iouThreshold < 1 else {
            throw AnnotationError(.invalidValue, "the IoU threshold must be in [0, 1)")
        }
        var warnings = try groundTruth.validate()
        let imageIDs = Set(groundTruth.images.map(\.id))
        let categories = groundTruth.categories.sorted { $0.id < $1.id }
        let categoryIDs = Set(categories.map(\.id))
        var unknownImage = 0, unknownCategory = 0, firstUnknown: Int?
        var kept: [Detection] = []
        kept.reserveCapacity(detections.count)
        for (n, d) in detections.enumerated() {
            guard imageIDs.contains(d.imageID) else {
                unknownImage += 1
                if firstUnknown == nil { firstUnknown = n }
                continue
            }
            guard categoryIDs.contains(d.categoryID) else {
                unknownCategory += 1
                continue
            }
            kept.append(d)
        }
        if let n = firstUnknown {
            let message = "\(unknownImage) detection(s) name images the ground truth does not have (the first: image id \(detections[n].imageID))"
            guard parameters.dropDetectionsOnUnknownImages else { throw AnnotationError(.inconsistent, message) }
            warnings.append(AnnotationWarning(message + "; dropped"))
        }
        if unknownCategory > 0 {
            warnings.append(AnnotationWarning("\(unknownCategory) detection(s) have classes the ground truth does not have; ignored"))
        }
        let usable = kept
        let results = parallelMap(categories.count) { k in
            evaluateClass(categories[k], groundTruth: groundTruth, detections: usable, parameters: parameters)
        }
        let aps = results.compactMap(\.ap)
        for r in results where r.ap == nil {
            warnings.append(AnnotationWarning("class \(r.id) (\(r.name)) has no non-difficult ground truth; left out of the mAP"))
        }
        let map = aps.isEmpty ? 0 : aps.withUnsafeBufferPointer { NumPy.sum($0) } / Double(aps.count)
        return VOCEvalResult(parameters: parameters, perClass: results, map: map, warnings: warnings)
    }

    static func evaluateClass(
        _ category: Category, groundTruth: DetectionDataset, detections: [Detection], parameters p: VOCEvalParameters
    ) -> VOCClassResult {
        struct GT {
            var x1, y1, x2, y2: Double
            var difficult: Bool
            var taken = false
        }
        var byImage: [Int: [GT]] = [:]
        var npos = 0
        for a in groundTruth.annotations where a.categoryID == category.id {
            let b = a.bbox
            let hard = a.difficult || a.isCrowd
            byImage[a.imageID, default: []].append(GT(x1: b.x, y1: b.y, x2: b.x + b.width, y2: b.y + b.height, difficult: hard))
            if !hard { npos += 1 }
        }
        var mine = detections.indices.filter { detections[$0].categoryID == category.id }
        mine.sort { detections[$0].score > detections[$1].score || (detections[$0].score == detections[$1].score && $0 < $1) }
        let one = p.plusOnePixel ? 1.0 : 0.0
        var tp = [Double](repeating: 0, count: mine.count), fp = tp
        for (n, index) in mine.enumerated() {
            let d = detections[index]
            let bx1 = d.bbox.x, by1 = d.bbox.y, bx2 = d.bbox.x + d.bbox.width, by2 = d.bbox.y + d.bbox.height
            var ovmax = -Double.infinity, jmax = -1
            if let gts = byImage[d.imageID] {
                for (j, g) in gts.enumerated() {
                    let iw = nmax(min(g.x2, bx2) - nmax(g.x1, bx1) + one, 0)
                    let ih = nmax(min(g.y2, by2) - nmax(g.y1, by1) + one, 0)
                    let inter = iw * ih
                    let uni = (bx2 - bx1 + one) * (by2 - by1 + one) + (g.x2 - g.x1 + one) * (g.y2 - g.y1 + one) - inter
                    let ov = inter / uni
                    // numpy's max/argmax: the first NaN wins, otherwise the first maximum.
                    if jmax == -1 {
                        (ovmax, jmax) = (ov, j)
                    } else if !ovmax.isNaN && (ov.isNaN || ov > ovmax) {
                        (ovmax, jmax) = (ov, j)
                    }
                }
            }
            if ovmax > p.iouThreshold {
                if !byImage[d.imageID]![jmax].difficult {
                    if !byImage[d.imageID]![jmax].taken {
                        tp[n] = 1
                        byImage[d.imageID]![jmax].taken = true
                    } else {
                        fp[n] = 1
                    }
                }
            } else {
                fp[n] = 1
            }
        }
        for i in tp.indices.dropFirst() {
            tp[i] += tp[i - 1]
            fp[i] += fp[i - 1]
        }
        let eps = Double.ulpOfOne
        let recall = tp.map { $0 / Double(npos) }
        let precision = zip(tp, fp).map { t, f in t / max(t + f, eps) }
        let ap: Double? = npos == 0 ? nil : averagePrecision(recall: recall, precision: precision, p.interpolation)
        return VOCClassResult(id: category.id, name: category.name, ap: ap, groundTruthCount: npos,
                              detectionCount: mine.count, recall: npos == 0 ? [] : recall,
                              precision: npos == 0 ? [] : precision)
    }

    /// `voc_ap`: 11-point or all-point interpolated AP of a precision-recall curve.
    static func averagePrecision(recall rec: [Double], precision prec: [Double], _ kind: VOCEvalParameters.Interpolation)
        -> Double
    {
        switch kind {
        case .elevenPoint:
            var ap = 0.0
            for t in NumPy.arange(0, 1.1, 0.1) {
                var best: Double? = nil
                for (r, p) in zip(rec, prec) where r >= t { best = best.map { nmax($0, p) } ?? p }
                ap = ap + (best ?? 0) / 11.0
            }
            return ap
        case .allPoint:
            let mrec = [0.0] + rec + [1.0]
            var mpre = [0.0] + prec + [0.0]
            for i in stride(from: mpre.count - 1, to: 0, by: -1) { mpre[i - 1] = nmax(mpre[i - 1], mpre[i]) }
            var terms: [Double] = []
            for i in 0..<(mrec.count - 1) where mrec[i + 1] != mrec[i] {
                terms.append((mrec[i + 1] - mrec[i]) * mpre[i + 1])
            }
            return terms.withUnsafeBufferPointer { NumPy.sum($0) }
        }
    }
}

/// `numpy.maximum`: NaN if either is NaN.
@inline(__always)
func nmax(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    return a > b ? a : b
}
