import KestrelAnnotations
import KestrelGeometry

/// An object-size range of COCO evaluation, on the ground truth's `area` field and the detection's w·h; both
/// bounds inclusive.
public struct COCOAreaRange: Sendable, Equatable {
    public var label: String
    public var lower: Double
    public var upper: Double

    public init(_ label: String, _ lower: Double, _ upper: Double) {
        self.label = label
        self.lower = lower
        self.upper = upper
    }

    /// pycocotools' four ranges: all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10].
    public static let standard: [COCOAreaRange] = [
        COCOAreaRange("all", 0, 1e10), COCOAreaRange("small", 0, 1024),
        COCOAreaRange("medium", 1024, 9216), COCOAreaRange("large", 9216, 1e10),
    ]
}

/// The settings of a COCO bbox evaluation; the defaults are pycocotools' `Params(iouType='bbox')`.
public struct COCOEvalParameters: Sendable, Equatable {
    /// T IoU thresholds, `numpy.linspace(0.5, 0.95, 10)`. A detection matches a GT when IoU ≥ threshold.
    public var iouThresholds: [Double] = NumPy.linspace(0.5, 0.95, 10)
    /// R recall levels, `numpy.linspace(0, 1, 101)`.
    public var recallThresholds: [Double] = NumPy.linspace(0, 1, 101)
    /// M = 3 caps on detections per image and category, ascending: the summary uses [0], [1], [2].
    public var maxDetections: [Int] = [1, 10, 100]
    /// A ≤ 4 ranges; the summary looks them up by label ("all", "small", "medium", "large").
    public var areaRanges: [COCOAreaRange] = COCOAreaRange.standard
    /// pycocotools records a match by storing the GT's id, so a GT whose id is 0 is never counted as matched:
    /// the detection that matched it becomes a false positive (and the GT stays taken). `false` (the default)
    /// reproduces that; `true` counts such a match as a true positive.
    public var fixGroundTruthIDZero = false
    /// pycocotools' `stats[0]` (AP@[.5:.95]) always looks up maxDets = 100, so with other caps it is −1.
    /// `false` (the default) reproduces that; `true` uses `maxDetections[2]` like stats[1]–[5].
    public var fixStats0MaxDetections = false
    /// Detections on an image the ground truth lacks make pycocotools fail ("Results do not correspond to
    /// current coco set"); so does Kestrel unless this is true, in which case they are dropped with a warning.
    public var dropDetectionsOnUnknownImages = false
    /// Threads to use: nil for every core (categories are evaluated in parallel), 1 for the calling thread only.
    /// The numbers do not depend on it.
    public var threads: Int? = nil

    public init() {}

    func validate() throws(AnnotationError) {
        guard !iouThresholds.isEmpty, iouThresholds.count <= 32 else {
            throw AnnotationError(.invalidValue, "between 1 and 32 IoU thresholds are supported")
        }
        guard iouThresholds.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw AnnotationError(.invalidValue, "IoU thresholds must be in [0, 1]")
        }
        guard !recallThresholds.isEmpty, recallThresholds.allSatisfy({ $0 >= 0 && $0 <= 1 }),
              zip(recallThresholds, recallThresholds.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw AnnotationError(.invalidValue, "recall thresholds must be ascending values in [0, 1]")
        }
        guard maxDetections.count == 3, maxDetections.allSatisfy({ $0 > 0 }) else {
            throw AnnotationError(.invalidValue, "maxDets must be three positive numbers")
        }
        guard !areaRanges.isEmpty, areaRanges.count <= 4 else {
            throw AnnotationError(.invalidValue, "between 1 and 4 area ranges are supported")
        }
    }
}

/// One category's summary numbers (area "all", the last maxDets): the means of the entries > −1 of
/// pycocotools' precision over IoU thresholds and recall levels (AP), at IoU 0.5 (AP50) and 0.75 (AP75), and of
/// recall over IoU thresholds (AR). −1 when the category has no ground truth.
public struct COCOCategoryResult: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var ap: Double
    public var ap50: Double
    public var ap75: Double
    public var ar: Double
}

/// The result of ``COCOEvaluator/evaluate(groundTruth:detections:parameters:)``: pycocotools' `eval` arrays
/// and `stats`.
public struct COCOEvalResult: Sendable {
    public var parameters: COCOEvalParameters
    /// K category ids, ascending (pycocotools' `params.catIds`), and their names.
    public var categoryIDs: [Int]
    public var categoryNames: [String]
    /// Precision, shape `[T, R, K, A, M]`, row-major; −1 where a category has no (non-ignored) ground truth in
    /// that area range; 0 at recall levels never reached.
    public var precision: [Double]
    /// Recall, shape `[T, K, A, M]`, row-major; −1 as for precision.
    public var recall: [Double]
    /// The 12 summary numbers in pycocotools' order: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm,
    /// ARl (−1 where nothing was measurable).
    public var stats: [Double]
    /// Per-category AP/AP50/AP75/AR, in `categoryIDs` order.
    public var perCategory: [COCOCategoryResult]
    /// What the user should know (ignored detections, filled-in fields…).
    public var warnings: [AnnotationWarning]

    var T: Int { parameters.iouThresholds.count }
    var R: Int { parameters.recallThresholds.count }
    var K: Int { categoryIDs.count }
    var A: Int { parameters.areaRanges.count }
    var M: Int { parameters.maxDetections.count }

    /// `precision[t, r, k, a, m]`.
    public func precision(t: Int, r: Int, k: Int, a: Int, m: Int) -> Double {
        precision[(((t * R + r) * K + k) * A + a) * M + m]
    }

    /// `recall[t, k, a, m]`.
    public func recall(t: Int, k: Int, a: Int, m: Int) -> Double {
        recall[((t * K + k) * A + a) * M + m]
    }
}
