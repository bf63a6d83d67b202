import KestrelGeometry
import KestrelImage

extension COCO {
    /// The ground truth as COCO JSON, laid out as Python's `json.dump` lays it out (`", "` and `": "`
    /// separators), numbers in their shortest round-trip form, verbatim fields (`info`, `segmentation`, unknown
    /// keys) as they were read. Top-level extra fields come first, then `images`, `annotations`, `categories`.
    /// `difficult` and `truncated` are written only when true.
    public static func encode(_ dataset: DetectionDataset) -> String {
        var w = JSONText()
        w.raw("{")
        var firstField = true
        func field(_ key: String) {
            if !firstField { w.raw(", ") }
            firstField = false
            w.string(key)
            w.raw(": ")
        }
        for f in dataset.extraFields {
            field(f.key)
            w.raw(f.value.text)
        }
        field("images")
        w.list(dataset.images) { w, image in
            w.raw("{\"id\": ")
            w.int(image.id)
            w.raw(", \"file_name\": ")
            w.string(image.fileName)
            if let width = image.width {
                w.raw(", \"width\": ")
                w.int(width)
            }
            if let height = image.height {
                w.raw(", \"height\": ")
                w.int(height)
            }
            w.extra(image.extraFields)
            w.raw("}")
        }
        field("annotations")
        w.list(dataset.annotations) { w, a in
            w.raw("{\"id\": ")
            w.int(a.id)
            w.raw(", \"image_id\": ")
            w.int(a.imageID)
            w.raw(", \"category_id\": ")
            w.int(a.categoryID)
            w.raw(", \"bbox\": ")
            w.box(a.bbox)
            w.raw(", \"area\": ")
            w.number(a.area)
            w.raw(", \"iscrowd\": ")
            w.raw(a.isCrowd ? "1" : "0")
            if let seg = a.segmentation {
                w.raw(", \"segmentation\": ")
                w.raw(seg.text)
            }
            if a.difficult { w.raw(", \"difficult\": 1") }
            if a.truncated { w.raw(", \"truncated\": 1") }
            w.extra(a.extraFields)
            w.raw("}")
        }
        field("categories")
        w.list(dataset.categories) { w, c in
            w.raw("{\"id\": ")
            w.int(c.id)
            w.raw(", \"name\": ")
            w.string(c.name)
            if let s = c.supercategory {
                w.raw(", \"supercategory\": ")
                w.string(s)
            }
            w.extra(c.extraFields)
            w.raw("}")
        }
        w.raw("}\n")
        return w.text
    }

    /// Detections as a COCO results array.
    public static func encode(_ detections: [Detection]) -> String {
        var w = JSONText()
        w.list(detections) { w, d in
            w.raw("{\"image_id\": ")
            w.int(d.imageID)
            w.raw(", \"category_id\": ")
            w.int(d.categoryID)
            w.raw(", \"bbox\": ")
            w.box(d.bbox)
            w.raw(", \"score\": ")
            w.number(d.score)
            w.raw("}")
        }
        w.raw("\n")
        return w.text
    }

    /// Writes a ground-truth file atomically (temporary file + rename).
    public static func write(_ dataset: DetectionDataset, toFile path: String) throws(AnnotationError) {
        try writeText(encode(dataset), to: path)
    }

    /// Writes a results file atomically.
    public static func write(_ detections: [Detection], toFile path: String) throws(AnnotationError) {
        try writeText(encode(detections), to: path)
    }
}

/// Writes text atomically, mapping I/O errors to ``AnnotationError``.
func writeText(_ text: String, to path: String) throws(AnnotationError) {
    do throws(ImageError) { try FileIO.writeAtomically(Array(text.utf8), to: path) } catch {
        throw AnnotationError(.io, error.message, file: path)
    }
}

/// A small JSON text builder.
struct JSONText {
    var text = ""

    mutating func raw(_ s: String) { text += s }

    mutating func int(_ v: Int) { text += String(v) }

    /// Shortest round-trip form (as Python's `repr`: `0.1`, `1e-05`, `10.0`); non-finite values as Python
    /// writes them (`NaN`, `Infinity`).
    mutating func number(_ v: Double) {
        if v.isNaN {
            text += "NaN"
        } else if v.isInfinite {
            text += v < 0 ? "-Infinity" : "Infinity"
        } else {
            text += v.description
        }
    }

    mutating func string(_ s: String) {
        text += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(u)
            }
        }
        text += "\""
    }

    mutating func box(_ b: BoxXYWH) {
        text += "["
        number(b.x)
        text += ", "
        number(b.y)
        text += ", "
        number(b.width)
        text += ", "
        number(b.height)
        text += "]"
    }

    mutating func extra(_ fields: [JSONField]) {
        for f in fields {
            text += ", "
            string(f.key)
            text += ": " + f.value.text
        }
    }

    mutating func list<T>(_ items: [T], _ body: (inout JSONText, T) -> Void) {
        text += "["
        for (i, item) in items.enumerated() {
            if i > 0 { text += ", " }
            body(&self, item)
        }
        text += "]"
    }
}
