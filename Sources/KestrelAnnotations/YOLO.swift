import KestrelGeometry
import KestrelImage

/// YOLO (darknet / Ultralytics) labels: one text file per image, a line `class cx cy w h` per object with the
/// centre and size normalised to the image's width and height.
///
/// Layout read and written: `folder/images/` (the images, .jpg/.jpeg/.png), `folder/labels/<image stem>.txt`,
/// and optionally `folder/classes.txt` (one class name per line; line k names class k). An image without a
/// label file has no objects; a label file without an image is an error (its size is needed).
///
/// Images get ids 1…N in sorted file order and their size from the file header with the EXIF orientation applied
/// (as Ultralytics does). Class k becomes category id k, named from classes.txt or "k".
/// Pixel boxes: `x = (cx − w/2)·W`, `y = (cy − h/2)·H`, `width = w·W`, `height = h·H`.
///
/// Detections (`readResults`): the same label files with a sixth column, the confidence
/// (`class cx cy w h conf`, Ultralytics' `save_txt` with `save_conf`), in one folder.
public enum YOLO {
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// Reads `folder/images`, `folder/labels` and `folder/classes.txt` (see the type's description). Errors name
    /// the label file, line and column.
    public static func readDataset(folder: String) throws(AnnotationError) -> Loaded<DetectionDataset> {
        let imagesFolder = Folders.join(folder, "images"), labelsFolder = Folders.join(folder, "labels")
        guard Folders.isDirectory(imagesFolder) else {
            throw AnnotationError(.io, "no images/ folder (a YOLO dataset holds images/ and labels/)", file: folder)
        }
        let imageFiles = try Folders.files(in: imagesFolder).filter { imageExtensions.contains(Folders.fileExtension($0)) }
        let labelFiles = Folders.isDirectory(labelsFolder)
            ? try Folders.files(in: labelsFolder).filter { Folders.fileExtension($0) == "txt" } : []
        let names = try classNames(folder)
        var dataset = DetectionDataset()
        var stemToImage: [String: ImageEntry] = [:]
        for (n, file) in imageFiles.enumerated() {
            let path = Folders.join(imagesFolder, file)
            let info: ImageInfo
            do throws(ImageError) { info = try ImageCodec.info(contentsOfFile: path) } catch {
                throw AnnotationError(.io, "cannot read the image size: \(error.message)", file: path)
            }
            let size = info.orientedSize
            let image = ImageEntry(id: n + 1, fileName: file, width: size.width, height: size.height)
            guard stemToImage.updateValue(image, forKey: Folders.stem(file)) == nil else {
                throw AnnotationError(.inconsistent, "two images share the stem '\(Folders.stem(file))'", file: path)
            }
            dataset.images.append(image)
        }
        var used = Set<Int>()
        for file in labelFiles {
            let path = Folders.join(labelsFolder, file)
            guard let image = stemToImage[Folders.stem(file)] else {
                throw AnnotationError(.inconsistent, "no image in images/ for this label file", file: path)
            }
            let lines = try TextLines(try Folders.readText(path), file: path)
            for line in lines.lines {
                guard line.fields.count == 5 else {
                    throw lines.error(line, 0, "expected 5 fields (class cx cy w h), found \(line.fields.count)")
                }
                let (c, box) = try parse(line, lines, image: image)
                used.insert(c)
                dataset.annotations.append(Annotation(id: dataset.annotations.count + 1, imageID: image.id, categoryID: c, bbox: box))
            }
        }
        if let names {
            if let bad = used.first(where: { $0 >= names.count }) {
                throw AnnotationError(.inconsistent, "class \(bad) is used but classes.txt names only \(names.count) classes",
                                      file: Folders.join(folder, "classes.txt"))
            }
            dataset.categories = names.enumerated().map { Category(id: $0.offset, name: $0.element) }
        } else {
            dataset.categories = used.sorted().map { Category(id: $0, name: String($0)) }
        }
        return Loaded(dataset)
    }

    /// Detections from a folder of label files with a confidence column, for the images of `groundTruth`
    /// (matched by file stem; their sizes must be known).
    public static func readResults(
        folder: String, groundTruth: DetectionDataset, dropUnknownImages: Bool = false
    ) throws(AnnotationError) -> Loaded<[Detection]> {
        var byStem: [String: ImageEntry] = [:]
        for i in groundTruth.images { byStem[Folders.stem(i.fileName)] = i }
        var out: [Detection] = []
        var unknown = 0
        for file in try Folders.files(in: folder) where Folders.fileExtension(file) == "txt" {
            let path = Folders.join(folder, file)
            guard let image = byStem[Folders.stem(file)] else {
                guard dropUnknownImages else {
                    throw AnnotationError(.inconsistent, "no image '\(Folders.stem(file))' in the ground truth", file: path)
                }
                unknown += 1
                continue
            }
            let lines = try TextLines(try Folders.readText(path), file: path)
            for line in lines.lines {
                guard line.fields.count == 6 else {
                    throw lines.error(line, 0, "expected 6 fields (class cx cy w h confidence), found \(line.fields.count)")
                }
                let (c, box) = try parse(line, lines, image: image)
                out.append(Detection(imageID: image.id, categoryID: c, bbox: box, score: try lines.number(line, 5)))
            }
        }
        var warnings: [AnnotationWarning] = []
        if unknown > 0 { warnings.append(AnnotationWarning("\(unknown) label file(s) for images not in the ground truth; dropped", file: folder)) }
        return Loaded(out, warnings: warnings)
    }

    static func classNames(_ folder: String) throws(AnnotationError) -> [String]? {
        let path = Folders.join(folder, "classes.txt")
        guard (try? Folders.readText(path)) != nil else { return nil }
        let bytes = try Folders.readText(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw AnnotationError(.syntax, "not valid UTF-8 text", file: path)
        }
        var names = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
        while names.last == "" { names.removeLast() }
        return names
    }

    private static func parse(_ line: TextLines.Line, _ lines: TextLines, image: ImageEntry) throws(AnnotationError)
        -> (Int, BoxXYWH)
    {
        guard let c = Int(line.fields[0].text), c >= 0 else {
            throw lines.error(line, 0, "class '\(line.fields[0].text)' is not a non-negative integer")
        }
        var v = [Double]()
        for f in 1..<5 { v.append(try lines.number(line, f)) }
        guard v[2] >= 0 else { throw lines.error(line, 3, "negative width \(v[2])") }
        guard v[3] >= 0 else { throw lines.error(line, 4, "negative height \(v[3])") }
        guard let w = image.width, let h = image.height else {
            throw lines.error(line, 0, "the size of image \(image.fileName) is unknown", kind: .inconsistent)
        }
        let W = Double(w), H = Double(h)
        return (c, BoxXYWH(x: (v[0] - v[2] / 2) * W, y: (v[1] - v[3] / 2) * H, width: v[2] * W, height: v[3] * H))
    }

    // MARK: Writing

    /// Class index of each category: its position in ascending id order (so ids 0…K−1 keep their numbers).
    static func classIndex(_ d: DetectionDataset) -> [Int: Int] {
        var out: [Int: Int] = [:]
        for (k, c) in d.categories.sorted(by: { $0.id < $1.id }).enumerated() { out[c.id] = k }
        return out
    }

    /// Writes `folder/labels/<stem>.txt` for every image (empty for images without objects) and
    /// `folder/classes.txt`. Images are not copied. Every image needs its width and height. Crowd annotations
    /// and difficult flags cannot be expressed and are reported as warnings.
    public static func write(_ dataset: DetectionDataset, toFolder folder: String) throws(AnnotationError) -> [AnnotationWarning] {
        let labels = Folders.join(folder, "labels")
        try Folders.makeDirectory(labels)
        let index = classIndex(dataset)
        var byImage: [Int: [Annotation]] = [:]
        for a in dataset.annotations { byImage[a.imageID, default: []].append(a) }
        var crowd = 0, difficult = 0
        for image in dataset.images {
            guard let w = image.width, let h = image.height, w > 0, h > 0 else {
                throw AnnotationError(.missingField, "image \(image.id) (\(image.fileName)) has no size; YOLO needs it")
            }
            var text = ""
            for a in byImage[image.id] ?? [] {
                guard let k = index[a.categoryID] else {
                    throw AnnotationError(.inconsistent, "annotation \(a.id) has category \(a.categoryID), which is not in categories")
                }
                if a.isCrowd { crowd += 1 }
                if a.difficult { difficult += 1 }
                text += line(k, a.bbox, Double(w), Double(h)) + "\n"
            }
            try writeText(text, to: Folders.join(labels, Folders.stem(image.fileName) + ".txt"))
        }
        let names = dataset.categories.sorted { $0.id < $1.id }.map { $0.name.isEmpty ? String($0.id) : $0.name }
        try writeText(names.joined(separator: "\n") + "\n", to: Folders.join(folder, "classes.txt"))
        var warnings: [AnnotationWarning] = []
        if crowd > 0 { warnings.append(AnnotationWarning("\(crowd) crowd annotation(s) written as ordinary objects (YOLO has no crowd flag)")) }
        if difficult > 0 { warnings.append(AnnotationWarning("\(difficult) difficult flag(s) dropped (YOLO has none)")) }
        return warnings
    }

    /// Writes detections as label files with a confidence column into `folder`, one per image with detections.
    public static func write(_ detections: [Detection], groundTruth: DetectionDataset, toFolder folder: String) throws(AnnotationError) {
        try Folders.makeDirectory(folder)
        let index = classIndex(groundTruth)
        var images: [Int: ImageEntry] = [:]
        for i in groundTruth.images { images[i.id] = i }
        var byImage: [Int: String] = [:]
        for d in detections {
            guard let image = images[d.imageID], let w = image.width, let h = image.height, let k = index[d.categoryID] else {
                throw AnnotationError(.inconsistent, "a detection names image \(d.imageID) or category \(d.categoryID), unknown or without a size")
            }
            byImage[d.imageID, default: ""] += line(k, d.bbox, Double(w), Double(h)) + " \(plain(d.score))\n"
        }
        for (id, text) in byImage { try writeText(text, to: Folders.join(folder, Folders.stem(images[id]!.fileName) + ".txt")) }
    }

    static func line(_ k: Int, _ b: BoxXYWH, _ W: Double, _ H: Double) -> String {
        "\(k) \(plain((b.x + b.width / 2) / W)) \(plain((b.y + b.height / 2) / H)) \(plain(b.width / W)) \(plain(b.height / H))"
    }
}
