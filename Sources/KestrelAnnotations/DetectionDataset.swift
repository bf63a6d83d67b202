import KestrelGeometry

// The neutral in-memory model every annotation format is read into and written from.
//
// Conventions:
// - Boxes are `BoxXYWH` in pixels, exactly as COCO's `bbox` field stores them (top-left x, y, width, height), so
//   COCO files round-trip bit for bit and evaluation sees the numbers pycocotools sees.
// - Pascal VOC boxes are kept as written: `x = xmin`, `width = xmax − xmin` (torchvision and mmdetection read
//   them the same way). The devkit's "+1" inclusive-pixel convention is applied by the VOC metric, not here.
// - YOLO boxes (normalised centre form) are converted to pixels with the image's size.
// - Ids are the file's ids (COCO) or assigned 1…N in sorted file-name order (VOC, YOLO images). Category ids are
//   COCO's ids, VOC's class names numbered 1…K in sorted order, or YOLO's class index.

/// A JSON value kept verbatim (its exact text), for fields Kestrel does not interpret but must write back:
/// COCO segmentations, `info`, `licenses`, and unknown keys.
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

/// A key and its verbatim value, in file order.
public struct JSONField: Sendable, Hashable {
    public var key: String
    public var value: RawJSON
    public init(_ key: String, _ value: RawJSON) {
        self.key = key
        self.value = value
    }
}

/// One image of a dataset.
public struct ImageEntry: Sendable, Hashable {
    public var id: Int
    /// The file name as the annotation file gives it (COCO `file_name`, VOC `<filename>`, YOLO image file name).
    public var fileName: String
    /// Pixel size, when the format records it (COCO and VOC do; YOLO sizes come from the image files).
    public var width: Int?
    public var height: Int?
    /// Other COCO keys of this image (`license`, `coco_url`, …), verbatim.
    public var extraFields: [JSONField]

    public init(id: Int, fileName: String, width: Int? = nil, height: Int? = nil, extraFields: [JSONField] = []) {
        self.id = id
        self.fileName = fileName
        self.width = width
        self.height = height
        self.extraFields = extraFields
    }
}

/// One object class.
public struct Category: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var supercategory: String?
    public var extraFields: [JSONField]

    public init(id: Int, name: String, supercategory: String? = nil, extraFields: [JSONField] = []) {
        self.id = id
        self.name = name
        self.supercategory = supercategory
        self.extraFields = extraFields
    }
}

/// One ground-truth object.
public struct Annotation: Sendable, Hashable {
    public var id: Int
    public var imageID: Int
    public var categoryID: Int
    /// Pixels, COCO form.
    public var bbox: BoxXYWH
    /// COCO's `area` field (the segmentation's area in COCO itself, not necessarily `bbox` width·height). COCO
    /// evaluation uses it for the small/medium/large ranges. Readers of formats without it store width·height.
    public var area: Double
    /// COCO `iscrowd`: a region of many objects; detections inside it are neither right nor wrong.
    public var isCrowd: Bool
    /// Pascal VOC `<difficult>`: neither a true nor a false positive in VOC evaluation.
    public var difficult: Bool
    /// Pascal VOC `<truncated>`, kept for round-trips.
    public var truncated: Bool
    /// COCO `segmentation` (polygons or RLE), verbatim.
    public var segmentation: RawJSON?
    /// Other keys of this annotation, verbatim.
    public var extraFields: [JSONField]

    public init(id: Int, imageID: Int, categoryID: Int, bbox: BoxXYWH, area: Double? = nil, isCrowd: Bool = false,
                difficult: Bool = false, truncated: Bool = false, segmentation: RawJSON? = nil,
                extraFields: [JSONField] = []) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.area = area ?? bbox.width * bbox.height
        self.isCrowd = isCrowd
        self.difficult = difficult
        self.truncated = truncated
        self.segmentation = segmentation
        self.extraFields = extraFields
    }
}

/// One scored detection, as in a COCO results file.
public struct Detection: Sendable, Hashable {
    public var imageID: Int
    public var categoryID: Int
    /// Pixels, COCO form.
    public var bbox: BoxXYWH
    public var score: Double

    public init(imageID: Int, categoryID: Int, bbox: BoxXYWH, score: Double) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.score = score
    }
}

/// A detection dataset: images, categories and ground-truth annotations (COCO's model, which VOC and YOLO fit
/// into).
public struct DetectionDataset: Sendable, Equatable {
    public var images: [ImageEntry]
    public var categories: [Category]
    public var annotations: [Annotation]
    /// Top-level COCO keys other than images/annotations/categories (`info`, `licenses`, …), verbatim, in order.
    public var extraFields: [JSONField]

    public init(images: [ImageEntry] = [], categories: [Category] = [], annotations: [Annotation] = [],
                extraFields: [JSONField] = []) {
        self.images = images
        self.categories = categories
        self.annotations = annotations
        self.extraFields = extraFields
    }

    /// Throws when ids repeat (images, categories or annotations): pycocotools silently keeps the last of
    /// duplicate ids and then counts that annotation twice; Kestrel refuses to guess. Returns a warning for
    /// annotations whose image or category the dataset lacks (pycocotools evaluates them as if absent).
    public func validate() throws(AnnotationError) -> [AnnotationWarning] {
        var imageIDs = Set<Int>(minimumCapacity: images.count)
        for (i, image) in images.enumerated() where !imageIDs.insert(image.id).inserted {
            throw AnnotationError(.inconsistent, "image id \(image.id) appears more than once", path: "$.images[\(i)].id")
        }
        var categoryIDs = Set<Int>()
        for (i, c) in categories.enumerated() where !categoryIDs.insert(c.id).inserted {
            throw AnnotationError(.inconsistent, "category id \(c.id) appears more than once", path: "$.categories[\(i)].id")
        }
        var annotationIDs = Set<Int>(minimumCapacity: annotations.count)
        var unknownImage = 0, unknownCategory = 0
        for (i, a) in annotations.enumerated() {
            guard annotationIDs.insert(a.id).inserted else {
                throw AnnotationError(.inconsistent, "annotation id \(a.id) appears more than once",
                                      path: "$.annotations[\(i)].id")
            }
            if !imageIDs.contains(a.imageID) { unknownImage += 1 }
            if !categoryIDs.contains(a.categoryID) { unknownCategory += 1 }
        }
        var warnings: [AnnotationWarning] = []
        if unknownImage > 0 {
            warnings.append(AnnotationWarning("\(unknownImage) annotation(s) name an image id that is not in images; they are ignored"))
        }
        if unknownCategory > 0 {
            warnings.append(AnnotationWarning("\(unknownCategory) annotation(s) name a category id that is not in categories; they are ignored"))
        }
        return warnings
    }
}
