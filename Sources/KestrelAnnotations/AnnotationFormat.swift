/// The annotation formats Kestrel reads and writes, with one entry point per direction.
public enum AnnotationFormat: String, Sendable, CaseIterable {
    /// COCO JSON: a ground-truth file and a results file (see ``COCO``).
    case coco
    /// Pascal VOC: a folder of XML files and a folder of devkit results files (see ``VOC``).
    case voc
    /// YOLO: a folder with images/, labels/ and classes.txt, and a folder of label files with confidences
    /// (see ``YOLO``).
    case yolo

    /// Reads ground truth from a file (COCO) or folder (VOC, YOLO).
    public func readDataset(_ path: String) throws(AnnotationError) -> Loaded<DetectionDataset> {
        switch self {
        case .coco: try COCO.readDataset(contentsOfFile: path)
        case .voc: try VOC.readDataset(folder: path)
        case .yolo: try YOLO.readDataset(folder: path)
        }
    }

    /// Reads detections; VOC and YOLO results name images by file stem, resolved against `groundTruth`.
    public func readDetections(_ path: String, groundTruth: DetectionDataset, dropUnknownImages: Bool = false)
        throws(AnnotationError) -> Loaded<[Detection]>
    {
        switch self {
        case .coco: Loaded(try COCO.readResults(contentsOfFile: path))
        case .voc: try VOC.readResults(folder: path, groundTruth: groundTruth, dropUnknownImages: dropUnknownImages)
        case .yolo: try YOLO.readResults(folder: path, groundTruth: groundTruth, dropUnknownImages: dropUnknownImages)
        }
    }

    /// Writes ground truth to a file (COCO) or folder (VOC, YOLO); returns what could not be expressed.
    public func write(_ dataset: DetectionDataset, to path: String) throws(AnnotationError) -> [AnnotationWarning] {
        switch self {
        case .coco:
            try COCO.write(dataset, toFile: path)
            return []
        case .voc: return try VOC.write(dataset, toFolder: path)
        case .yolo: return try YOLO.write(dataset, toFolder: path)
        }
    }

    /// Writes detections to a file (COCO) or folder (VOC, YOLO).
    public func write(_ detections: [Detection], groundTruth: DetectionDataset, to path: String) throws(AnnotationError) {
        switch self {
        case .coco: try COCO.write(detections, toFile: path)
        case .voc: try VOC.write(detections, groundTruth: groundTruth, toFolder: path)
        case .yolo: try YOLO.write(detections, groundTruth: groundTruth, toFolder: path)
        }
    }
}
