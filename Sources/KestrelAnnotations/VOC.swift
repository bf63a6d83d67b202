import KestrelGeometry

/// Pascal VOC: a folder of XML annotation files (one per image), and the devkit's detection results files.
///
/// Reading ground truth: `folder` is a VOC root holding `Annotations/`, or a folder of `.xml` files. Images get
/// ids 1…N in sorted file order; classes are the object names found, sorted, with ids 1…K (for the 20 VOC
/// classes this is the devkit's own order). Boxes are kept as written (`x = xmin`, `width = xmax − xmin`); the
/// devkit's +1 is the VOC metric's business. Required: `<object><name>` and `<bndbox>` with `xmin ≤ xmax`,
/// `ymin ≤ ymax`; `<difficult>` and `<truncated>` are optional (0 when absent, counted in a warning); a missing
/// `<filename>` becomes the XML file's stem + ".jpg", also with a warning.
///
/// Results: the devkit's per-class files, `<anything>_<class>.txt`, each line `image score xmin ymin xmax ymax`,
/// where `image` is the image file's stem.
public enum VOC {
    // MARK: Reading

    /// Reads every `.xml` file of `folder/Annotations` (or of `folder`); warnings count the optional fields that
    /// were absent. Errors name the file, line:column and the element path.
    public static func readDataset(folder: String) throws(AnnotationError) -> Loaded<DetectionDataset> {
        let annotations = Folders.isDirectory(Folders.join(folder, "Annotations")) ? Folders.join(folder, "Annotations") : folder
        guard Folders.isDirectory(annotations) else {
            throw AnnotationError(.io, "not a folder (expected a VOC root with Annotations/ or a folder of .xml files)", file: folder)
        }
        let files = try Folders.files(in: annotations).filter { Folders.fileExtension($0) == "xml" }
        guard !files.isEmpty else { throw AnnotationError(.io, "no .xml files", file: annotations) }
        struct Object {
            var name: String
            var box: BoxXYWH
            var difficult: Bool
            var truncated: Bool
        }
        var images: [ImageEntry] = []
        var objects: [[Object]] = []
        var noDifficult = 0, noTruncated = 0, noFileName = 0
        for (n, name) in files.enumerated() {
            let path = Folders.join(annotations, name)
            let root = try XMLReader.parse(try Folders.readText(path), file: path)
            func fail(_ kind: AnnotationError.Kind, _ message: String, _ element: XMLElement, _ where_: String) -> AnnotationError {
                AnnotationError(kind, message, file: path, line: element.line, column: element.column, path: where_)
            }
            guard root.name == "annotation" else {
                throw fail(.invalidValue, "the root element is <\(root.name)>, expected <annotation>", root, root.name)
            }
            var fileName = root.child("filename")?.trimmedText ?? ""
            if fileName.isEmpty {
                fileName = Folders.stem(name) + ".jpg"
                noFileName += 1
            }
            var width: Int?, height: Int?
            if let size = root.child("size") {
                for (tag, value) in [("width", 0), ("height", 1)] {
                    guard let e = size.child(tag) else { continue }
                    guard let v = Int(e.trimmedText), v >= 0 else {
                        throw fail(.invalidValue, "\(tag) '\(e.trimmedText)' is not a non-negative integer", e, "annotation/size/\(tag)")
                    }
                    if value == 0 { width = v } else { height = v }
                }
            }
            images.append(ImageEntry(id: n + 1, fileName: fileName, width: width, height: height))
            var mine: [Object] = []
            for (k, o) in root.children("object").enumerated() {
                let at = "annotation/object[\(k + 1)]"
                guard let nameElement = o.child("name"), !nameElement.trimmedText.isEmpty else {
                    throw fail(.missingField, "object has no <name>", o, at)
                }
                guard let bb = o.child("bndbox") else { throw fail(.missingField, "object has no <bndbox>", o, at) }
                var c = [0.0, 0.0, 0.0, 0.0]
                for (i, tag) in ["xmin", "ymin", "xmax", "ymax"].enumerated() {
                    guard let e = bb.child(tag) else { throw fail(.missingField, "<bndbox> has no <\(tag)>", bb, at + "/bndbox") }
                    guard let v = parseDecimal(e.trimmedText) else {
                        throw fail(.invalidValue, "<\(tag)> '\(e.trimmedText)' is not a finite number", e, at + "/bndbox/\(tag)")
                    }
                    c[i] = v
                }
                guard c[2] >= c[0] else { throw fail(.invalidValue, "xmax \(c[2]) < xmin \(c[0])", bb, at + "/bndbox") }
                guard c[3] >= c[1] else { throw fail(.invalidValue, "ymax \(c[3]) < ymin \(c[1])", bb, at + "/bndbox") }
                func flag(_ tag: String, _ missing: inout Int) throws(AnnotationError) -> Bool {
                    guard let e = o.child(tag) else {
                        missing += 1
                        return false
                    }
                    switch e.trimmedText {
                    case "0": return false
                    case "1": return true
                    default: throw fail(.invalidValue, "<\(tag)> must be 0 or 1, found '\(e.trimmedText)'", e, at + "/\(tag)")
                    }
                }
                mine.append(Object(
                    name: nameElement.trimmedText, box: BoxXYWH(x: c[0], y: c[1], width: c[2] - c[0], height: c[3] - c[1]),
                    difficult: try flag("difficult", &noDifficult), truncated: try flag("truncated", &noTruncated)))
            }
            objects.append(mine)
        }
        let names = Array(Set(objects.joined().map(\.name))).sorted()
        var idOf: [String: Int] = [:]
        for (i, n) in names.enumerated() { idOf[n] = i + 1 }
        var dataset = DetectionDataset(images: images, categories: names.enumerated().map { Category(id: $0.offset + 1, name: $0.element) })
        for (i, list) in objects.enumerated() {
            for o in list {
                dataset.annotations.append(Annotation(
                    id: dataset.annotations.count + 1, imageID: i + 1, categoryID: idOf[o.name]!, bbox: o.box,
                    difficult: o.difficult, truncated: o.truncated))
            }
        }
        var warnings: [AnnotationWarning] = []
        if noDifficult > 0 { warnings.append(AnnotationWarning("\(noDifficult) object(s) have no <difficult>; taken as 0", file: annotations)) }
        if noTruncated > 0 { warnings.append(AnnotationWarning("\(noTruncated) object(s) have no <truncated>; taken as 0", file: annotations)) }
        if noFileName > 0 {
            warnings.append(AnnotationWarning("\(noFileName) file(s) have no <filename>; using the XML file's name with .jpg", file: annotations))
        }
        return Loaded(dataset, warnings: warnings)
    }

    /// Reads devkit results files for the classes of `groundTruth` from `folder`. Lines naming an image the
    /// ground truth lacks are an error unless `dropUnknownImages` (then dropped with a warning).
    public static func readResults(
        folder: String, groundTruth: DetectionDataset, dropUnknownImages: Bool = false
    ) throws(AnnotationError) -> Loaded<[Detection]> {
        let files = try Folders.files(in: folder).filter { Folders.fileExtension($0) == "txt" }
        let imageOf = imageIDsByStem(groundTruth)
        var detections: [Detection] = []
        var unknown = 0
        var used = 0
        // Longest class names first, so "_pottedplant.txt" is not taken for a class "plant".
        for c in groundTruth.categories.sorted(by: { $0.name.count > $1.name.count }) {
            for name in files where name.hasSuffix("_\(c.name).txt") || name == "\(c.name).txt" {
                used += 1
                let path = Folders.join(folder, name)
                let lines = try TextLines(try Folders.readText(path), file: path)
                for line in lines.lines {
                    guard line.fields.count == 6 else {
                        throw lines.error(line, 0, "expected 6 fields (image score xmin ymin xmax ymax), found \(line.fields.count)")
                    }
                    guard let image = imageOf[line.fields[0].text] else {
                        guard dropUnknownImages else {
                            throw lines.error(line, 0, "image '\(line.fields[0].text)' is not in the ground truth")
                        }
                        unknown += 1
                        continue
                    }
                    var v = [Double]()
                    for f in 1..<6 { v.append(try lines.number(line, f)) }
                    guard v[3] >= v[1] else { throw lines.error(line, 4, "xmax \(v[3]) < xmin \(v[1])") }
                    guard v[4] >= v[2] else { throw lines.error(line, 5, "ymax \(v[4]) < ymin \(v[2])") }
                    detections.append(Detection(imageID: image, categoryID: c.id,
                                                bbox: BoxXYWH(x: v[1], y: v[2], width: v[3] - v[1], height: v[4] - v[2]), score: v[0]))
                }
            }
        }
        guard used > 0 || files.isEmpty else {
            throw AnnotationError(.io, "no file named <anything>_<class>.txt for the ground truth's classes", file: folder)
        }
        var warnings: [AnnotationWarning] = []
        if unknown > 0 { warnings.append(AnnotationWarning("\(unknown) detection(s) on images not in the ground truth; dropped", file: folder)) }
        return Loaded(detections, warnings: warnings)
    }

    /// Image ids by the stem of their file name.
    static func imageIDsByStem(_ d: DetectionDataset) -> [String: Int] {
        var out: [String: Int] = [:]
        for i in d.images { out[Folders.stem(i.fileName)] = i.id }
        return out
    }

    // MARK: Writing

    /// Writes `<folder>/Annotations/<image stem>.xml` for every image. Crowd annotations become `difficult`
    /// (VOC has no crowd regions) and segmentations are dropped; both are reported as warnings.
    public static func write(_ dataset: DetectionDataset, toFolder folder: String) throws(AnnotationError) -> [AnnotationWarning] {
        let out = Folders.join(folder, "Annotations")
        try Folders.makeDirectory(out)
        var names: [Int: String] = [:]
        for c in dataset.categories { names[c.id] = c.name }
        var byImage: [Int: [Annotation]] = [:]
        for a in dataset.annotations { byImage[a.imageID, default: []].append(a) }
        var stems = Set<String>()
        var crowd = 0, segmentations = 0
        for image in dataset.images {
            let stem = Folders.stem(image.fileName.isEmpty ? String(image.id) : image.fileName)
            guard stems.insert(stem).inserted else {
                throw AnnotationError(.inconsistent, "two images share the file stem '\(stem)'; VOC names files by stem")
            }
            var x = "<annotation>\n\t<filename>\(escape(image.fileName.isEmpty ? stem + ".jpg" : image.fileName))</filename>\n"
            if let w = image.width, let h = image.height {
                x += "\t<size>\n\t\t<width>\(w)</width>\n\t\t<height>\(h)</height>\n\t</size>\n"
            }
            for a in byImage[image.id] ?? [] {
                guard let name = names[a.categoryID] else {
                    throw AnnotationError(.inconsistent, "annotation \(a.id) has category \(a.categoryID), which has no name")
                }
                if a.isCrowd { crowd += 1 }
                if a.segmentation != nil { segmentations += 1 }
                let b = a.bbox
                x += "\t<object>\n\t\t<name>\(escape(name))</name>\n\t\t<truncated>\(a.truncated ? 1 : 0)</truncated>\n"
                x += "\t\t<difficult>\(a.difficult || a.isCrowd ? 1 : 0)</difficult>\n\t\t<bndbox>\n"
                x += "\t\t\t<xmin>\(plain(b.x))</xmin>\n\t\t\t<ymin>\(plain(b.y))</ymin>\n"
                x += "\t\t\t<xmax>\(plain(b.x + b.width))</xmax>\n\t\t\t<ymax>\(plain(b.y + b.height))</ymax>\n"
                x += "\t\t</bndbox>\n\t</object>\n"
            }
            x += "</annotation>\n"
            try writeText(x, to: Folders.join(out, stem + ".xml"))
        }
        var warnings: [AnnotationWarning] = []
        if crowd > 0 { warnings.append(AnnotationWarning("\(crowd) crowd annotation(s) written as difficult (VOC has no crowd regions)")) }
        if segmentations > 0 { warnings.append(AnnotationWarning("\(segmentations) segmentation(s) dropped (VOC XML holds boxes only)")) }
        return warnings
    }

    /// Writes devkit results files `<folder>/<prefix><class>.txt`, one per class that has detections.
    public static func write(
        _ detections: [Detection], groundTruth: DetectionDataset, toFolder folder: String,
        prefix: String = "comp4_det_test_"
    ) throws(AnnotationError) {
        try Folders.makeDirectory(folder)
        var stems: [Int: String] = [:]
        for i in groundTruth.images { stems[i.id] = Folders.stem(i.fileName) }
        for c in groundTruth.categories {
            var text = ""
            for d in detections where d.categoryID == c.id {
                guard let stem = stems[d.imageID] else {
                    throw AnnotationError(.inconsistent, "a detection names image \(d.imageID), which the ground truth lacks")
                }
                let b = d.bbox
                text += "\(stem) \(plain(d.score)) \(plain(b.x)) \(plain(b.y)) \(plain(b.x + b.width)) \(plain(b.y + b.height))\n"
            }
            if !text.isEmpty { try writeText(text, to: Folders.join(folder, prefix + c.name + ".txt")) }
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// A number as VOC and YOLO files write it: integers without ".0", others in shortest round-trip form.
func plain(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    return v.description
}

/// A finite decimal number (`-12`, `3.5`, `1e-3`): no hex, no "nan"/"inf", nothing after it.
func parseDecimal(_ s: Substring) -> Double? {
    var sawDigit = false
    for (i, c) in s.utf8.enumerated() {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): continue
        case UInt8(ascii: "+"), UInt8(ascii: "-"): if i > 0 { continue }
        default: return nil
        }
    }
    guard sawDigit, let v = Double(s), v.isFinite else { return nil }
    return v
}

func parseDecimal(_ s: String) -> Double? { parseDecimal(Substring(s)) }

/// Whitespace-separated fields of a text file, with line and column for messages; blank lines are skipped.
struct TextLines {
    struct Field {
        var text: String
        var column: Int
    }

    struct Line {
        var number: Int
        var fields: [Field]
    }

    let file: String
    var lines: [Line] = []

    init(_ bytes: [UInt8], file: String) throws(AnnotationError) {
        self.file = file
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw AnnotationError(.syntax, "not valid UTF-8 text", file: file)
        }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields: [Field] = []
            var column = 1
            var current = ""
            var start = 1
            for c in raw {
                if c == " " || c == "\t" || c == "\r" {
                    if !current.isEmpty { fields.append(Field(text: current, column: start)) }
                    current = ""
                } else {
                    if current.isEmpty { start = column }
                    current.append(c)
                }
                column += 1
            }
            if !current.isEmpty { fields.append(Field(text: current, column: start)) }
            if !fields.isEmpty { lines.append(Line(number: n + 1, fields: fields)) }
        }
    }

    func error(_ line: Line, _ field: Int, _ message: String, kind: AnnotationError.Kind = .invalidValue) -> AnnotationError {
        AnnotationError(kind, message, file: file, line: line.number, column: field < line.fields.count ? line.fields[field].column : 1)
    }

    func number(_ line: Line, _ field: Int) throws(AnnotationError) -> Double {
        guard let v = parseDecimal(line.fields[field].text) else {
            throw error(line, field, "'\(line.fields[field].text)' is not a finite number")
        }
        return v
    }
}
