import KestrelGeometry
import KestrelImage

/// A value read from a file together with what the reader had to tell the user about it.
public struct Loaded<Value: Sendable>: Sendable {
    public var value: Value
    public var warnings: [AnnotationWarning]

    public init(_ value: Value, warnings: [AnnotationWarning] = []) {
        self.value = value
        self.warnings = warnings
    }
}

/// COCO JSON: ground-truth files (`images`, `annotations`, `categories`) and results files (a list of
/// `{"image_id", "category_id", "bbox", "score"}`), read with a streaming scanner that parses numbers in place.
///
/// What is required, as pycocotools requires it: `images` and `categories` at the top level; `id` on images and
/// categories; `id`, `image_id`, `category_id` and `bbox` on annotations; `image_id`, `category_id`, `bbox` and
/// `score` on detections. Boxes must have four finite numbers with non-negative width and height; scores must be
/// finite. Where pycocotools would crash on a missing field that has an obvious meaning, Kestrel fills it and says
/// so in a warning: an annotation without `area` gets `bbox` width·height, one without `iscrowd` gets 0.
public enum COCO {
    // MARK: Reading

    /// Reads a ground-truth file. Errors name the file, line:column and JSON path.
    public static func readDataset(contentsOfFile path: String) throws(AnnotationError) -> Loaded<DetectionDataset> {
        try readDataset(readFile(path), file: path)
    }

    /// Parses a ground-truth document held in memory; `file` is used in messages.
    public static func readDataset(_ bytes: [UInt8], file: String? = nil) throws(AnnotationError) -> Loaded<DetectionDataset> {
        var missingArea = 0, missingCrowd = 0
        let dataset = try JSONScanner.scan(bytes, file: file) { s throws(AnnotationError) -> DetectionDataset in
            var d = DetectionDataset()
            var sawImages = false, sawCategories = false
            try s.beginObject("a COCO ground-truth object ({\"images\": …, \"annotations\": …, \"categories\": …})")
            var first = true
            while let key = try s.nextKey(first: first) {
                first = false
                if s.key(key, is: "images") {
                    sawImages = true
                    d.images = try array(&s, "$.images") { s throws(AnnotationError) in try image(&s) }
                } else if s.key(key, is: "annotations") {
                    d.annotations = try array(&s, "$.annotations") { s throws(AnnotationError) in
                        try annotation(&s, missingArea: &missingArea, missingCrowd: &missingCrowd)
                    }
                } else if s.key(key, is: "categories") {
                    sawCategories = true
                    d.categories = try array(&s, "$.categories") { s throws(AnnotationError) in try category(&s) }
                } else {
                    d.extraFields.append(JSONField(try s.text(of: key), try s.captureValue()))
                }
            }
            if !sawImages { throw AnnotationError(.missingField, "no \"images\" list", file: file, path: "$") }
            if !sawCategories { throw AnnotationError(.missingField, "no \"categories\" list", file: file, path: "$") }
            return d
        }
        var warnings: [AnnotationWarning] = []
        if missingArea > 0 {
            warnings.append(AnnotationWarning(
                "\(missingArea) annotation(s) have no \"area\"; using bbox width·height (pycocotools would fail)", file: file))
        }
        if missingCrowd > 0 {
            warnings.append(AnnotationWarning(
                "\(missingCrowd) annotation(s) have no \"iscrowd\"; taking 0 (pycocotools would fail)", file: file))
        }
        do throws(AnnotationError) { warnings += try dataset.validate() } catch { throw error.inFile(file ?? "") }
        return Loaded(dataset, warnings: warnings.map { w in
            var w = w
            if w.file == nil { w.file = file }
            return w
        })
    }

    /// Reads a results file: a JSON array of detections. `twoThreads: false` keeps the parse on the calling thread.
    public static func readResults(contentsOfFile path: String, twoThreads: Bool = true) throws(AnnotationError) -> [Detection] {
        try readResults(readFile(path), file: path, twoThreads: twoThreads)
    }

    /// Parses a results document held in memory; `file` is used in messages. Files over 4 MB are parsed in two
    /// halves on two threads when the split point found by a byte search turns out to be a boundary between two
    /// detections (checked by parsing the first half from the start); otherwise in one pass. The result and
    /// every error are the same either way.
    public static func readResults(_ bytes: [UInt8], file: String? = nil, twoThreads: Bool = true) throws(AnnotationError)
        -> [Detection]
    {
        if twoThreads, bytes.count > 4 << 20, let split = JSONScanner.likelyElementBoundary(bytes, from: bytes.count / 2),
           let halves = try readResultsInTwo(bytes, file: file, split: split) {
            return halves
        }
        return try readResultsInOnePass(bytes, file: file)
    }

    /// The two-thread parse: the first half from the start up to `split` (which must land exactly on the comma
    /// after an element), the second from the comma to the end. Nil when the first half does not land there.
    private static func readResultsInTwo(_ bytes: [UInt8], file: String?, split: Int) throws(AnnotationError) -> [Detection]? {
        let (a, b) = JSONScanner.scanInTwo(bytes, file: file, split: split, { s in
            Result { () throws(AnnotationError) -> [Detection]? in
                var out: [Detection] = []
                out.reserveCapacity(split / 100)
                try s.beginArray("a COCO results array ([{\"image_id\", \"category_id\", \"bbox\", \"score\"}, …])")
                var i = 0
                while try s.nextElement(first: i == 0) {
                    do throws(AnnotationError) { out.append(try detection(&s)) } catch { throw error.within("$[\(i)]") }
                    i += 1
                    s.skipWhitespace()
                    if s.position == split { return out }
                    if s.position > split { return nil }
                }
                return nil
            }
        }, { s in
            // From the comma: elements until ']', then only whitespace. Errors carry a local index, fixed below.
            Result { () throws(AnnotationError) -> [Detection] in
                var out: [Detection] = []
                out.reserveCapacity((bytes.count - split) / 100)
                var i = 0
                while try s.nextElement(first: false) {
                    do throws(AnnotationError) { out.append(try detection(&s)) } catch { throw error.within("[\(i)]") }
                    i += 1
                }
                s.skipWhitespace()
                if s.currentByte != nil {
                    throw s.error(.syntax, "unexpected \(s.describeByte()) after the end of the JSON value")
                }
                return out
            }
        })
        guard let first = try a.get() else { return nil }
        switch b {
        case .success(let second): return first + second
        case .failure(var error):
            // Renumber "[i]…" (local to the second half) as "$[first.count + i]…".
            if let path = error.path, path.hasPrefix("["), let close = path.firstIndex(of: "]"),
               let local = Int(path[path.index(after: path.startIndex)..<close]) {
                error.path = "$[\(first.count + local)]" + path[path.index(after: close)...]
            }
            throw error
        }
    }

    private static func readResultsInOnePass(_ bytes: [UInt8], file: String?) throws(AnnotationError) -> [Detection] {
        try JSONScanner.scan(bytes, file: file) { s throws(AnnotationError) -> [Detection] in
            var out: [Detection] = []
            out.reserveCapacity(bytes.count / 100)
            try s.beginArray("a COCO results array ([{\"image_id\", \"category_id\", \"bbox\", \"score\"}, …])")
            var i = 0
            while try s.nextElement(first: i == 0) {
                do throws(AnnotationError) { out.append(try detection(&s)) } catch { throw error.within("$[\(i)]") }
                i += 1
            }
            return out
        }
    }

    static func readFile(_ path: String) throws(AnnotationError) -> [UInt8] {
        do throws(ImageError) { return try FileIO.read(path) } catch { throw AnnotationError(.io, error.message, file: path) }
    }

    // MARK: Element parsers

    private static func array<T>(
        _ s: inout JSONScanner, _ path: String, _ element: (inout JSONScanner) throws(AnnotationError) -> T
    ) throws(AnnotationError) -> [T] {
        var out: [T] = []
        do throws(AnnotationError) { try s.beginArray() } catch { throw error.within(path) }
        var i = 0
        while try s.nextElement(first: i == 0) {
            do throws(AnnotationError) { out.append(try element(&s)) } catch { throw error.within("\(path)[\(i)]") }
            i += 1
        }
        return out
    }

    /// A required-field error placed at the object's opening brace.
    private static func missing(_ s: JSONScanner, _ field: String, at start: Int, in what: String) -> AnnotationError {
        s.error(.missingField, "\(what) has no \"\(field)\"", at: start)
    }

    private static func image(_ s: inout JSONScanner) throws(AnnotationError) -> ImageEntry {
        s.skipWhitespace()
        let start = s.position
        var id: Int?, fileName = "", width: Int?, height: Int?
        var extra: [JSONField] = []
        try s.beginObject("an image object")
        var first = true
        while let key = try s.nextKey(first: first) {
            first = false
            do throws(AnnotationError) {
                if s.key(key, is: "id") {
                    id = try s.readInt("an integer id")
                } else if s.key(key, is: "file_name") {
                    fileName = try s.readString()
                } else if s.key(key, is: "width") {
                    width = try nonNegativeInt(&s)
                } else if s.key(key, is: "height") {
                    height = try nonNegativeInt(&s)
                } else {
                    extra.append(JSONField(try s.text(of: key), try s.captureValue()))
                }
            } catch { throw error.within(".\(try s.text(of: key))") }
        }
        guard let id else { throw missing(s, "id", at: start, in: "image") }
        return ImageEntry(id: id, fileName: fileName, width: width, height: height, extraFields: extra)
    }

    private static func nonNegativeInt(_ s: inout JSONScanner) throws(AnnotationError) -> Int? {
        if s.readNull() { return nil }
        s.skipWhitespace()
        let start = s.position
        let v = try s.readInt()
        guard v >= 0 else { throw s.error(.invalidValue, "negative size \(v)", at: start) }
        return v
    }

    private static func category(_ s: inout JSONScanner) throws(AnnotationError) -> Category {
        s.skipWhitespace()
        let start = s.position
        var id: Int?, name = "", supercategory: String?
        var extra: [JSONField] = []
        try s.beginObject("a category object")
        var first = true
        while let key = try s.nextKey(first: first) {
            first = false
            do throws(AnnotationError) {
                if s.key(key, is: "id") {
                    id = try s.readInt("an integer id")
                } else if s.key(key, is: "name") {
                    name = try s.readString()
                } else if s.key(key, is: "supercategory") {
                    supercategory = try s.readString()
                } else {
                    extra.append(JSONField(try s.text(of: key), try s.captureValue()))
                }
            } catch { throw error.within(".\(try s.text(of: key))") }
        }
        guard let id else { throw missing(s, "id", at: start, in: "category") }
        return Category(id: id, name: name, supercategory: supercategory, extraFields: extra)
    }

    private static func annotation(
        _ s: inout JSONScanner, missingArea: inout Int, missingCrowd: inout Int
    ) throws(AnnotationError) -> Annotation {
        s.skipWhitespace()
        let start = s.position
        var id: Int?, imageID: Int?, categoryID: Int?, box: BoxXYWH?, area: Double?, crowd: Bool?
        var difficult = false, truncated = false
        var segmentation: RawJSON?
        var extra: [JSONField] = []
        try s.beginObject("an annotation object")
        var first = true
        while let key = try s.nextKey(first: first) {
            first = false
            do throws(AnnotationError) {
                if s.key(key, is: "id") {
                    id = try s.readInt("an integer id")
                } else if s.key(key, is: "image_id") {
                    imageID = try s.readInt("an integer image id")
                } else if s.key(key, is: "category_id") {
                    categoryID = try s.readInt("an integer category id")
                } else if s.key(key, is: "bbox") {
                    box = try bbox(&s)
                } else if s.key(key, is: "area") {
                    let at = s.position
                    let a = try s.readNumber()
                    guard a.isFinite && a >= 0 else {
                        throw s.error(.invalidValue, "area must be a finite number ≥ 0, found \(s.numberText(from: at))", at: at)
                    }
                    area = a
                } else if s.key(key, is: "iscrowd") {
                    crowd = try s.readFlag("0 or 1")
                } else if s.key(key, is: "segmentation") {
                    segmentation = try s.captureValue()
                } else if s.key(key, is: "difficult") {
                    difficult = try s.readFlag("0 or 1")
                } else if s.key(key, is: "truncated") {
                    truncated = try s.readFlag("0 or 1")
                } else {
                    extra.append(JSONField(try s.text(of: key), try s.captureValue()))
                }
            } catch { throw error.within(".\(try s.text(of: key))") }
        }
        guard let id else { throw missing(s, "id", at: start, in: "annotation") }
        guard let imageID else { throw missing(s, "image_id", at: start, in: "annotation") }
        guard let categoryID else { throw missing(s, "category_id", at: start, in: "annotation") }
        guard let box else { throw missing(s, "bbox", at: start, in: "annotation") }
        if area == nil { missingArea += 1 }
        if crowd == nil { missingCrowd += 1 }
        return Annotation(id: id, imageID: imageID, categoryID: categoryID, bbox: box, area: area,
                          isCrowd: crowd ?? false, difficult: difficult, truncated: truncated,
                          segmentation: segmentation, extraFields: extra)
    }

    private static func detection(_ s: inout JSONScanner) throws(AnnotationError) -> Detection {
        s.skipWhitespace()
        let start = s.position
        var imageID: Int?, categoryID: Int?, box: BoxXYWH?, score: Double?
        try s.beginObject("a detection object")
        var first = true
        while let key = try s.nextKey(first: first) {
            first = false
            if s.key(key, is: "image_id") {
                do throws(AnnotationError) { imageID = try s.readInt("an integer image id") } catch { throw error.within(".image_id") }
            } else if s.key(key, is: "category_id") {
                do throws(AnnotationError) { categoryID = try s.readInt("an integer category id") } catch { throw error.within(".category_id") }
            } else if s.key(key, is: "bbox") {
                do throws(AnnotationError) { box = try bbox(&s) } catch { throw error.within(".bbox") }
            } else if s.key(key, is: "score") {
                s.skipWhitespace()
                let at = s.position
                do throws(AnnotationError) {
                    let v = try s.readNumber()
                    guard v.isFinite else { throw s.error(.invalidValue, "score must be finite, found \(s.numberText(from: at))", at: at) }
                    score = v
                } catch { throw error.within(".score") }
            } else {
                do throws(AnnotationError) { try s.skipValue() } catch { throw error.within(".\(try s.text(of: key))") }
            }
        }
        guard let imageID else { throw missing(s, "image_id", at: start, in: "detection") }
        guard let categoryID else { throw missing(s, "category_id", at: start, in: "detection") }
        guard let box else { throw missing(s, "bbox", at: start, in: "detection") }
        guard let score else { throw missing(s, "score", at: start, in: "detection") }
        return Detection(imageID: imageID, categoryID: categoryID, bbox: box, score: score)
    }

    /// `[x, y, width, height]`: four finite numbers, width and height ≥ 0.
    private static func bbox(_ s: inout JSONScanner) throws(AnnotationError) -> BoxXYWH {
        s.skipWhitespace()
        let open = s.position
        try s.beginArray("a bbox [x, y, width, height]")
        var v = (0.0, 0.0, 0.0, 0.0)
        let names = ["x", "y", "width", "height"]
        for i in 0..<4 {
            guard try s.nextElement(first: i == 0) else {
                throw s.error(.invalidValue, "bbox has \(i) numbers, needs 4 [x, y, width, height]", at: open)
            }
            s.skipWhitespace()
            let at = s.position
            let x: Double
            do throws(AnnotationError) { x = try s.readNumber() } catch { throw error.within("[\(i)]") }
            guard x.isFinite else {
                throw s.error(.invalidValue, "\(names[i]) is \(s.numberText(from: at)), must be finite", at: at).within("[\(i)]")
            }
            guard i < 2 || x >= 0 else {
                throw s.error(.invalidValue, "negative \(names[i]) \(s.numberText(from: at))", at: at).within("[\(i)]")
            }
            switch i {
            case 0: v.0 = x
            case 1: v.1 = x
            case 2: v.2 = x
            default: v.3 = x
            }
        }
        guard try !s.nextElement(first: false) else {
            throw s.error(.invalidValue, "bbox has more than 4 numbers, needs [x, y, width, height]", at: open)
        }
        return BoxXYWH(x: v.0, y: v.1, width: v.2, height: v.3)
    }
}
