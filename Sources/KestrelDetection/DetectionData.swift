import Foundation
import KestrelAnnotations
import KestrelData
import KestrelFiles
import KestrelGeometry
import KestrelImage

/// One training or validation image: its file and its objects (corner-form pixel boxes, classes 1…K).
public struct DetectionItem: Sendable, Equatable {
    public var path: String
    public var imageID: Int
    public var width: Int
    public var height: Int
    public var boxes: [BoxXYXY]
    /// 1…K (0 is background in the detector's scores).
    public var labels: [Int]
}

/// What to do with an annotation that cannot be trained on.
public enum BadAnnotationPolicy: String, Sendable, CaseIterable {
    /// Report it as an error and stop.
    case stop
    /// Report it as a warning and leave it out (the image, or the object).
    case skip
}

/// A detection dataset ready for training: its images with contiguous class labels, and the ground truth
/// (COCO model) to evaluate against.
public struct DetectionData: Sendable {
    /// Class names; label c is `classes[c − 1]`.
    public var classes: [String]
    /// The dataset's category id of label c (`categoryIDs[c − 1]`), for COCO results.
    public var categoryIDs: [Int]
    public var items: [DetectionItem]
    /// The ground truth of these images (crowd regions included), for evaluation.
    public var groundTruth: DetectionDataset

    public var count: Int { items.count }

    /// Pairs a dataset with its image files under `imagesRoot`. Checks, each reported with the file (and the
    /// annotation id) under `policy`: an image file that is missing, a box that is empty, not finite or entirely
    /// outside its image, a category the dataset does not declare. Boxes partly outside the image are clipped
    /// (counted in a warning). Crowd regions are kept for evaluation but not trained on.
    public static func load(_ dataset: DetectionDataset, imagesRoot: String, policy: BadAnnotationPolicy = .stop)
        throws(DataError) -> (data: DetectionData, warnings: [String])
    {
        let categories = dataset.categories.sorted { $0.id < $1.id }
        guard !categories.isEmpty else { throw DataError("the annotations declare no categories", path: imagesRoot) }
        var label: [Int: Int] = [:]
        for (i, c) in categories.enumerated() { label[c.id] = i + 1 }
        var byImage: [Int: [Annotation]] = [:]
        for a in dataset.annotations { byImage[a.imageID, default: []].append(a) }
        var warnings: [String] = []
        var items: [DetectionItem] = []
        var keptImages: [ImageEntry] = []
        var clipped = 0
        func problem(_ message: String, path: String?) throws(DataError) {
            if policy == .stop { throw DataError(message + " (use --bad-annotations skip to leave it out)", path: path) }
            warnings.append((path.map { "\($0): " } ?? "") + message + "; skipped")
        }
        for entry in dataset.images {
            let path = entry.fileName.hasPrefix("/") ? entry.fileName : imagesRoot + "/" + entry.fileName
            guard Files.exists(path) else {
                try problem("image \(entry.id) (\(entry.fileName)) has no file", path: path)
                continue
            }
            var (w, h) = (entry.width ?? 0, entry.height ?? 0)
            if w <= 0 || h <= 0 {
                do {
                    let info = try ImageCodec.info(contentsOfFile: path)
                    (w, h) = info.orientedSize
                } catch {
                    try problem(error.message, path: path)
                    continue
                }
            }
            var boxes: [BoxXYXY] = [], labels: [Int] = []
            for a in byImage[entry.id] ?? [] {
                guard let l = label[a.categoryID] else {
                    try problem("annotation \(a.id) names category \(a.categoryID), which the dataset does not declare", path: path)
                    continue
                }
                if a.isCrowd { continue }
                let b = a.bbox.xyxy
                guard b.isFinite, b.width > 0, b.height > 0 else {
                    try problem("annotation \(a.id) has an empty or invalid box \(a.bbox)", path: path)
                    continue
                }
                let c = b.clipped(width: Double(w), height: Double(h))
                guard !c.isEmpty else {
                    try problem("annotation \(a.id)'s box \(a.bbox) lies outside the \(w)x\(h) image", path: path)
                    continue
                }
                if c != b { clipped += 1 }
                boxes.append(c)
                labels.append(l)
            }
            items.append(DetectionItem(path: path, imageID: entry.id, width: w, height: h, boxes: boxes, labels: labels))
            keptImages.append(entry)
        }
        if clipped > 0 { warnings.append("\(clipped) box(es) reach outside their image; clipped to it") }
        let keptIDs = Set(keptImages.map(\.id))
        var truth = dataset
        truth.images = keptImages
        truth.annotations = dataset.annotations.filter { keptIDs.contains($0.imageID) && label[$0.categoryID] != nil }
        return (DetectionData(classes: categories.map(\.name), categoryIDs: categories.map(\.id), items: items, groundTruth: truth),
                warnings)
    }

    /// A deterministic split by image (seeded shuffle), with the ground truth split alike.
    public func split(validationFraction: Double, seed: UInt64) -> (train: DetectionData, validation: DetectionData) {
        var order = Array(items.indices)
        var rng = SplitMix(seed: seed)
        order.shuffle(using: &rng)
        let k = validationFraction > 0 ? max(1, Int((validationFraction * Double(items.count)).rounded())) : 0
        let valSet = Set(order.prefix(min(k, items.count - 1)))
        return (subset { !valSet.contains($0) }, subset { valSet.contains($0) })
    }

    func subset(_ keep: (Int) -> Bool) -> DetectionData {
        let chosen = items.indices.filter(keep)
        let ids = Set(chosen.map { items[$0].imageID })
        var truth = groundTruth
        truth.images = groundTruth.images.filter { ids.contains($0.id) }
        truth.annotations = groundTruth.annotations.filter { ids.contains($0.imageID) }
        return DetectionData(classes: classes, categoryIDs: categoryIDs, items: chosen.map { items[$0] }, groundTruth: truth)
    }
}
