import Foundation
import KestrelAnnotations
import KestrelAugment
import KestrelGeometry

/// `kestrel augment` with an annotation set: which images to read, their boxes, and the new annotation set
/// describing the augmented copies, written in the same format.
///
/// - COCO (`--annotations FILE.json`): images are `INPUT/<file_name>`; the new file is OUTPUT/<same name>.
/// - Pascal VOC (`--voc DIR`): images are `INPUT/<filename>`; the new XML files go to OUTPUT/Annotations/.
/// - YOLO (`--yolo DIR`): images are DIR/images/ (unless --input says otherwise); the copies go to
///   OUTPUT/images/, their labels to OUTPUT/labels/ and the class names to OUTPUT/classes.txt.
///
/// Boxes keep their category; crowd, difficult and extra fields follow their annotation; `truncated` is set
/// when part of the box was cut off or hidden; `area` becomes the new box's width · height. Segmentations
/// (COCO polygons, RLE) are not transformed: the copies keep boxes only, and a warning says how many were
/// dropped.
struct AugmentAnnotations {
    let format: AnnotationFormat
    let dataset: DetectionDataset
    /// Image file names relative to the images folder, in the dataset's order.
    let files: [String]
    /// Boxes of each image (tag = index into `dataset.annotations`).
    let labels: [[LabeledBox]]
    /// Where the new annotation set goes (a file for COCO, a folder for VOC and YOLO).
    let outputPath: String

    static func load(format: AnnotationFormat, path: String, output: String) throws -> AugmentAnnotations {
        let loaded = try orExit { () throws(AnnotationError) in try format.readDataset(path) }
        for w in loaded.warnings { Console.error("warning: \(w)") }
        let dataset = loaded.value
        var byImage: [Int: Int] = [:]
        for (i, image) in dataset.images.enumerated() { byImage[image.id] = i }
        var labels = [[LabeledBox]](repeating: [], count: dataset.images.count)
        for (k, a) in dataset.annotations.enumerated() {
            guard let i = byImage[a.imageID], a.bbox.x.isFinite, a.bbox.y.isFinite, a.bbox.width.isFinite,
                a.bbox.height.isFinite
            else { continue }
            labels[i].append(LabeledBox(BoxXYXY(a.bbox), label: a.categoryID, tag: k))
        }
        let outputPath =
            format == .coco
            ? (output as NSString).appendingPathComponent((path as NSString).lastPathComponent) : output
        return AugmentAnnotations(
            format: format, dataset: dataset, files: dataset.images.map(\.fileName), labels: labels,
            outputPath: outputPath)
    }

    /// The annotation set of the written copies: image ids `i·copies + k + 1`, annotation ids 1, 2, … in order.
    func augmented(_ copies: [[AugmentJob.WrittenCopy]?], copiesPerImage: Int) -> (DetectionDataset, Int) {
        var images: [ImageEntry] = []
        var annotations: [Annotation] = []
        var droppedSegmentations = 0
        for (i, written) in copies.enumerated() {
            guard let written else { continue }
            for (k, copy) in written.enumerated() {
                let id = i * copiesPerImage + k + 1
                images.append(ImageEntry(id: id, fileName: copy.name, width: copy.width, height: copy.height))
                for box in copy.boxes {
                    let source = dataset.annotations[box.tag]
                    if source.segmentation != nil { droppedSegmentations += 1 }
                    annotations.append(
                        Annotation(
                            id: annotations.count + 1, imageID: id, categoryID: box.label, bbox: BoxXYWH(box.box),
                            isCrowd: source.isCrowd, difficult: source.difficult,
                            truncated: source.truncated || box.visibility < 1 - 1e-9,
                            extraFields: source.extraFields))
                }
            }
        }
        return (
            DetectionDataset(
                images: images, categories: dataset.categories, annotations: annotations,
                extraFields: dataset.extraFields), droppedSegmentations
        )
    }

    /// Writes the new annotation set; warnings go to stderr.
    func write(_ augmented: DetectionDataset, droppedSegmentations: Int) throws {
        if droppedSegmentations > 0 {
            Console.error(
                "warning: \(droppedSegmentations) boxes came from annotations with segmentations, which are not "
                    + "transformed; the augmented annotations have boxes only")
        }
        let warnings = try orExit { () throws(AnnotationError) in try format.write(augmented, to: outputPath) }
        for w in warnings { Console.error("warning: \(w)") }
    }
}
