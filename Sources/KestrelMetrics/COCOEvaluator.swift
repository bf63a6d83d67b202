import KestrelAnnotations
import KestrelGeometry

/// COCO bbox evaluation with pycocotools 2.0.11's semantics (`COCOeval(iouType='bbox')`: `evaluate`,
/// `accumulate`, `summarize`), reproduced operation for operation so the numbers are equal, not close:
///
/// - Images are the ground truth's, in ascending id order; categories its categories, ascending id.
/// - Per image and category, detections are sorted by score, highest first, stably (ties keep file order) and
///   only the first `maxDetections.last` are kept; across images a stable sort keeps image order on ties.
/// - IoU is pycocotools' `bbIou` on `[x, y, w, h]`: for a crowd GT the union is the detection's area, so a crowd
///   region can absorb any number of detections, which are then ignored.
/// - Ground truth is ignored when `iscrowd` is set (a separate `ignore` flag is overwritten, as pycocotools
///   overwrites it) or when its `area` field is outside the area range (bounds inclusive). Detections unmatched
///   and outside the range (by w·h) are ignored.
/// - Matching visits non-ignored GT first; a match needs IoU ≥ threshold and the best (the last of equals) wins;
///   a detection already matched to a regular GT never moves to an ignored one.
/// - Precision is interpolated (running maximum from the right) and read at each recall level by a left binary
///   search; recall levels never reached get 0. Categories or ranges without GT get −1 and are left out of means.
/// - Means use NumPy's pairwise summation, so even the last bit agrees.
///
/// Categories are evaluated in parallel on all cores; the result does not depend on the number of cores.
public enum COCOEvaluator {
    /// Evaluates `detections` (any order; boxes `[x, y, w, h]` in pixels) against `groundTruth`.
    ///
    /// Throws when the ground truth repeats ids, when a detection names an image the ground truth lacks (unless
    /// `parameters.dropDetectionsOnUnknownImages`), or for impossible parameters. Detections of categories the
    /// ground truth lacks are ignored and counted in a warning. The result holds `precision [T, R, K, A, M]`,
    /// `recall [T, K, A, M]`, the 12 `stats` and per-category numbers; see ``COCOEvalResult``.
    public static func evaluate(
        groundTruth: DetectionDataset, detections: [Detection], parameters: COCOEvalParameters = COCOEvalParameters()
    ) throws(AnnotationError) -> COCOEvalResult {
        try parameters.validate()
        var warnings = try groundTruth.validate()
        let index = Index(groundTruth: groundTruth)
        let placed = try index.place(detections, drop: parameters.dropDetectionsOnUnknownImages, warnings: &warnings)
        let prepared = Prepared(index: index, groundTruth: groundTruth, detections: detections, placed: placed,
                                parameters: parameters)
        let K = index.categoryIDs.count
        // Largest categories first, so the last task to start is a small one.
        let order = (0..<K).sorted { prepared.work(category: $0) > prepared.work(category: $1) }
        let results = parameters.threads == 1
            ? order.map { prepared.evaluate(category: $0) }
            : parallelMap(K) { j in prepared.evaluate(category: order[j]) }
        var byCategory = [CategoryAccumulation?](repeating: nil, count: K)
        for (j, r) in results.enumerated() { byCategory[order[j]] = r }
        return assemble(byCategory.map { $0! }, index: index, groundTruth: groundTruth, parameters: parameters,
                        warnings: warnings)
    }

    /// Image and category ids of the ground truth, ascending, with fast id → position lookups.
    struct Index: Sendable {
        let imageIDs: [Int]
        let categoryIDs: [Int]
        let imageLookup: IDLookup
        let categoryLookup: IDLookup

        init(groundTruth: DetectionDataset) {
            imageIDs = Array(Set(groundTruth.images.map(\.id))).sorted()
            categoryIDs = Array(Set(groundTruth.categories.map(\.id))).sorted()
            imageLookup = IDLookup(imageIDs)
            categoryLookup = IDLookup(categoryIDs)
        }

        /// The (category, image) cell of every detection, or −1 for those ignored.
        func place(_ detections: [Detection], drop: Bool, warnings: inout [AnnotationWarning]) throws(AnnotationError)
            -> [Int32]
        {
            var cells = [Int32](repeating: -1, count: detections.count)
            var unknownImage = 0, unknownCategory = 0
            var firstUnknownImage: Int?, unknownCategoryIDs = Set<Int>()
            let nI = imageIDs.count
            for (n, d) in detections.enumerated() {
                guard let i = imageLookup[d.imageID] else {
                    unknownImage += 1
                    if firstUnknownImage == nil { firstUnknownImage = n }
                    continue
                }
                guard let k = categoryLookup[d.categoryID] else {
                    unknownCategory += 1
                    if unknownCategoryIDs.count < 10 { unknownCategoryIDs.insert(d.categoryID) }
                    continue
                }
                cells[n] = Int32(truncatingIfNeeded: k * nI + i)
            }
            if let n = firstUnknownImage {
                let message = "\(unknownImage) detection(s) name image ids the ground truth does not have (the first: "
                    + "image_id \(detections[n].imageID) at $[\(n)])"
                guard drop else {
                    throw AnnotationError(.inconsistent, message + "; pycocotools refuses such results "
                        + "(\"Results do not correspond to current coco set\"); drop them explicitly to evaluate the rest")
                }
                warnings.append(AnnotationWarning(message + "; dropped"))
            }
            if unknownCategory > 0 {
                let ids = unknownCategoryIDs.sorted().map(String.init).joined(separator: ", ")
                warnings.append(AnnotationWarning(
                    "\(unknownCategory) detection(s) have category ids not in the ground truth's categories (\(ids)"
                        + "\(unknownCategoryIDs.count >= 10 ? ", …" : "")); ignored, as pycocotools ignores them"))
            }
            return cells
        }
    }

    /// Id → position, through a table when the ids are dense and a dictionary otherwise.
    struct IDLookup: Sendable {
        let base: Int
        let table: [Int32]
        let dictionary: [Int: Int32]

        init(_ sortedIDs: [Int]) {
            if let lo = sortedIDs.first, let hi = sortedIDs.last, hi - lo < 4 * sortedIDs.count + 1024 {
                base = lo
                var t = [Int32](repeating: -1, count: hi - lo + 1)
                for (i, id) in sortedIDs.enumerated() { t[id - lo] = Int32(i) }
                table = t
                dictionary = [:]
            } else {
                base = 0
                table = []
                var d: [Int: Int32] = [:]
                for (i, id) in sortedIDs.enumerated() { d[id] = Int32(i) }
                dictionary = d
            }
        }

        subscript(id: Int) -> Int? {
            if table.isEmpty { return dictionary[id].map(Int.init) }
            let (o, overflow) = id.subtractingReportingOverflow(base)
            guard !overflow, o >= 0, o < table.count, table[o] >= 0 else { return nil }
            return Int(table[o])
        }
    }
}
