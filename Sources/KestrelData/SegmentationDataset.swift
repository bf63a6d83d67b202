import Dispatch
import Foundation
import KestrelAnnotations
import KestrelFiles
import KestrelImage

/// Where one image's label map comes from.
public enum MaskSource: Sendable, Equatable {
    /// A label-map PNG: palette indices (Pascal VOC's SegmentationClass) or gray values are class ids.
    case file(String)
    /// Instances of a COCO file, rasterised as pycocotools does (see ``COCOLabelMap``).
    case coco(COCOLabelMap)
}

/// The semantic label map of one image of a COCO file: its instances painted in file order (later ones over
/// earlier ones) on a background of 0, each with its class's label (1 + the category's position among the
/// categories sorted by id); crowd instances are painted 255 ("ignore"), as COCO's evaluation ignores them.
public struct COCOLabelMap: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// (label, segmentation, annotation id) in paint order.
    public var layers: [(label: UInt8, segmentation: COCOSegmentation, annotationID: Int)]

    public init(width: Int, height: Int, layers: [(label: UInt8, segmentation: COCOSegmentation, annotationID: Int)]) {
        self.width = width
        self.height = height
        self.layers = layers
    }

    /// The label map, `[height, width, 1]`.
    public func render() -> Image {
        var labels = [UInt8](repeating: 0, count: width * height)
        for layer in layers {
            for (i, v) in layer.segmentation.mask(height: height, width: width).enumerated() where v != 0 {
                labels[i] = layer.label
            }
        }
        return try! Image(width: width, height: height, channels: 1, pixels: labels)  // size checked at load
    }

    public static func == (a: COCOLabelMap, b: COCOLabelMap) -> Bool {
        a.width == b.width && a.height == b.height
            && a.layers.elementsEqual(b.layers) { $0.label == $1.label && $0.segmentation == $1.segmentation && $0.annotationID == $1.annotationID }
    }
}

/// One image with its label map.
public struct SegmentationSample: Sendable, Equatable {
    public var image: String
    public var mask: MaskSource

    public init(image: String, mask: MaskSource) {
        self.image = image
        self.mask = mask
    }

    /// Where errors about the mask point: the mask file, or the COCO file's image.
    public var maskDescription: String {
        switch mask {
        case .file(let path): path
        case .coco: image + " (COCO annotations)"
        }
    }
}

/// Images with per-pixel class labels, from an image folder and a label-map folder paired by file stem, or from a
/// COCO file with polygon/RLE masks.
///
/// Label maps are `[H, W, 1]` class ids `0..<classes.count`, with 255 meaning "ignore" (not trained on, not
/// scored); each must have its image's size. Images are read as stored (no EXIF rotation), so they stay
/// aligned with their masks pixel for pixel.
public struct SegmentationDataset: Sendable, Equatable {
    /// Class names; label value i is class i (class 0 is usually the background).
    public var classes: [String]
    public var samples: [SegmentationSample]

    public init(classes: [String], samples: [SegmentationSample]) {
        self.classes = classes
        self.samples = samples
    }

    public var count: Int { samples.count }

    /// The label value that is never a class: such pixels are neither trained on nor scored.
    public static let ignoreLabel: UInt8 = 255

    /// Pairs `images/STEM.{png,jpg,jpeg}` with `masks/STEM.png`. The masks define the dataset: every mask needs
    /// an image (else an error naming the mask); images without a mask are left out and counted in
    /// `unpairedImages` (Pascal VOC's JPEGImages holds many more photos than SegmentationClass has masks).
    /// Samples are sorted by stem. `classes` may be empty here and filled in later (see ``survey(workers:)``).
    public static func folders(images: String, masks: String, classes: [String] = []) throws(DataError)
        -> (dataset: SegmentationDataset, unpairedImages: Int)
    {
        let imageFiles = try files(byStemIn: images, extensions: ClassificationDataset.imageExtensions)
        let maskFiles = try files(byStemIn: masks, extensions: ["png"])
        guard !maskFiles.isEmpty else { throw DataError("no PNG label maps in the folder", path: masks) }
        var samples: [SegmentationSample] = []
        for stem in maskFiles.keys.sorted() {
            guard let image = imageFiles[stem] else {
                throw DataError("no image \(stem).png/.jpg for this mask in \(images)", path: masks + "/" + maskFiles[stem]!)
            }
            samples.append(SegmentationSample(image: images + "/" + image, mask: .file(masks + "/" + maskFiles[stem]!)))
        }
        let unpaired = imageFiles.keys.filter { maskFiles[$0] == nil }.count
        return (SegmentationDataset(classes: classes, samples: samples), unpaired)
    }

    /// The names of a folder's files with one of `extensions` (lower case), by stem (hidden files skipped); two
    /// files with one stem are an error.
    public static func files(byStemIn folder: String, extensions: Set<String>) throws(DataError) -> [String: String] {
        guard Files.isDirectory(folder) else {
            throw DataError(Files.exists(folder) ? "not a folder" : "no such folder", path: folder)
        }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DataError("cannot list the folder: \(error.localizedDescription)", path: folder)
        }
        var out: [String: String] = [:]
        for name in entries.sorted() where !name.hasPrefix(".") {
            let ext = (name as NSString).pathExtension.lowercased()
            guard extensions.contains(ext) else { continue }
            let stem = (name as NSString).deletingPathExtension
            if let other = out[stem] {
                throw DataError("two files with the stem '\(stem)' (\(other), \(name)); images and masks pair by stem", path: folder)
            }
            out[stem] = name
        }
        return out
    }

    /// A COCO file's images (in `imagesFolder`, by `file_name`) with label maps drawn from their annotations'
    /// polygons or RLEs (see ``COCOLabelMap``). Classes: "background", then the category names in id order (at
    /// most 254). Every annotation needs a segmentation; images lacking width/height in the file get them from
    /// the image file's header.
    public static func coco(annotations path: String, images imagesFolder: String) throws(DataError) -> SegmentationDataset {
        let coco: DetectionDataset
        do { coco = try COCO.readDataset(contentsOfFile: path).value } catch { throw DataError("\(error)") }
        let categories = coco.categories.sorted { $0.id < $1.id }
        guard !categories.isEmpty else { throw DataError("the file has no categories", path: path) }
        guard categories.count <= 254 else {
            throw DataError("\(categories.count) categories; label maps hold at most 254 classes besides the background", path: path)
        }
        let labelOf = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1.id, UInt8($0 + 1)) })
        var byImage: [Int: [Annotation]] = [:]
        for a in coco.annotations { byImage[a.imageID, default: []].append(a) }
        var samples: [SegmentationSample] = []
        for entry in coco.images {
            let file = imagesFolder + "/" + entry.fileName
            var width = entry.width ?? 0, height = entry.height ?? 0
            if entry.width == nil || entry.height == nil {
                do {
                    let info = try ImageCodec.info(contentsOfFile: file, options: DecodeOptions(applyOrientation: false))
                    (width, height) = (info.width, info.height)
                } catch { throw DataError("image \(entry.id) has no width/height and its file cannot be read: \(error.message)", path: path) }
            }
            var layers: [(label: UInt8, segmentation: COCOSegmentation, annotationID: Int)] = []
            for a in byImage[entry.id] ?? [] {
                guard let label = labelOf[a.categoryID] else {
                    throw DataError("annotation \(a.id) has category \(a.categoryID), which the file does not list", path: path)
                }
                guard let raw = a.segmentation else {
                    throw DataError("annotation \(a.id) has no segmentation (a semantic label map needs polygons or RLE)", path: path)
                }
                do {
                    let s = try COCOSegmentation(raw, height: height, width: width)
                    layers.append((a.isCrowd ? SegmentationDataset.ignoreLabel : label, s, a.id))
                } catch { throw DataError("annotation \(a.id): segmentation: \(error.message)", path: path) }
            }
            samples.append(SegmentationSample(image: file, mask: .coco(COCOLabelMap(width: width, height: height, layers: layers))))
        }
        return SegmentationDataset(classes: ["background"] + categories.map(\.name), samples: samples)
    }

    /// A seeded split: ⌊fraction·n + ½⌋ samples (at least 1 when n ≥ 2 and the fraction is positive) go to
    /// validation; both parts keep the original order.
    public func split(validationFraction: Double, seed: UInt64) -> (train: SegmentationDataset, validation: SegmentationDataset) {
        var order = Array(samples.indices)
        var rng = SplitMix(seed: seed ^ 0x5E6D_A7A5_E7C0_FFEE)
        order.shuffle(using: &rng)
        var k = Int((validationFraction * Double(count)).rounded())
        if validationFraction > 0 && count >= 2 { k = max(1, k) }
        k = min(k, max(0, count - 1))
        let held = Set(order.prefix(k))
        return (SegmentationDataset(classes: classes, samples: samples.indices.filter { !held.contains($0) }.map { samples[$0] }),
                SegmentationDataset(classes: classes, samples: samples.indices.filter { held.contains($0) }.map { samples[$0] }))
    }

    /// Reads sample `index`: the image (`channels` 1 or 3, as stored) and its label map `[H, W, 1]`, checked: the
    /// same size as the image, and every label below `classes.count` or 255 (unless `classes` is empty).
    /// Errors name the file at fault.
    public func load(_ index: Int, channels: Int = 3) throws(DataError) -> (image: Image, mask: Image) {
        let s = samples[index]
        let image: Image
        do { image = try Image(contentsOfFile: s.image, options: DecodeOptions(applyOrientation: false, channels: channels)) } catch {
            throw DataError(error.message, path: s.image)
        }
        let mask = try loadMask(index)
        guard mask.width == image.width, mask.height == image.height else {
            throw DataError("label map is \(mask.width)x\(mask.height) but its image \(s.image) is \(image.width)x\(image.height)",
                            path: s.maskDescription)
        }
        return (image, mask)
    }

    /// Reads and checks sample `index`'s label map alone.
    public func loadMask(_ index: Int) throws(DataError) -> Image {
        let s = samples[index]
        let mask: Image
        switch s.mask {
        case .file(let path):
            do { mask = try ImageCodec.decodeLabels(contentsOfFile: path) } catch { throw DataError(error.message, path: path) }
        case .coco(let map):
            mask = map.render()
        }
        if !classes.isEmpty, let bad = mask.pixels.first(where: { Int($0) >= classes.count && $0 != SegmentationDataset.ignoreLabel }) {
            throw DataError("label \(bad) is not a class (0...\(classes.count - 1), or 255 to ignore)", path: s.maskDescription)
        }
        return mask
    }

    /// What the label maps hold, from reading every one (on `workers` threads).
    public struct LabelSurvey: Sendable, Equatable {
        /// Pixels per label value 0...255.
        public var pixels: [Int]
        /// Per label value: the pixels of all the images in which it occurs (for median-frequency balancing).
        public var imagePixels: [Int]
        public init(pixels: [Int], imagePixels: [Int]) {
            self.pixels = pixels
            self.imagePixels = imagePixels
        }

        /// The highest label other than 255, or nil when every pixel is 255.
        public var maxLabel: Int? { (0..<255).last { pixels[$0] > 0 } }

        /// SegNet's median-frequency balancing (Eigen & Fergus 2015): class c's frequency is its pixels over
        /// the pixels of the images it occurs in, and its weight is median(frequencies) / frequency(c). Classes
        /// that never occur get weight 0 (they contribute no loss anyway). Classes `0..<classes`.
        public func medianFrequencyWeights(classes: Int) -> [Float] {
            let freq: [Double?] = (0..<classes).map { imagePixels[$0] > 0 ? Double(pixels[$0]) / Double(imagePixels[$0]) : nil }
            let present = freq.compactMap { $0 }.sorted()
            guard !present.isEmpty else { return [Float](repeating: 1, count: classes) }
            let m = present.count
            let median = m % 2 == 1 ? present[m / 2] : (present[m / 2 - 1] + present[m / 2]) / 2
            return freq.map { f in f.map { Float(median / $0) } ?? 0 }
        }
    }

    /// Reads every label map, checks it against its image's size (from the image file's header) and, when
    /// `classes` is set, its labels; counts pixels per label. The first bad file (in sample order) is the error.
    public func survey(workers: Int = 1) throws(DataError) -> LabelSurvey {
        let n = samples.count
        let results = UnsafeMutableBufferPointer<Result<[Int], DataError>?>.allocate(capacity: n)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let box = UncheckedSendable(results)
        let threads = max(1, min(workers, n))
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for i in stride(from: worker, to: n, by: threads) {
                box.value[i] = Result { () throws(DataError) -> [Int] in
                    let mask = try loadMask(i)
                    let info: ImageInfo
                    do throws(ImageError) { info = try ImageCodec.info(contentsOfFile: samples[i].image, options: DecodeOptions(applyOrientation: false)) } catch {
                        throw DataError(error.message, path: samples[i].image)
                    }
                    guard info.width == mask.width, info.height == mask.height else {
                        throw DataError("label map is \(mask.width)x\(mask.height) but its image \(samples[i].image) is \(info.width)x\(info.height)",
                                        path: samples[i].maskDescription)
                    }
                    var counts = [Int](repeating: 0, count: 256)
                    for v in mask.pixels { counts[Int(v)] += 1 }
                    return counts
                }
            }
        }
        var total = [Int](repeating: 0, count: 256), imagePixels = [Int](repeating: 0, count: 256)
        for i in 0..<n {
            let counts = try results[i]!.get()
            let size = counts.reduce(0, +)
            for v in 0..<256 where counts[v] > 0 {
                total[v] += counts[v]
                imagePixels[v] += size
            }
        }
        return LabelSurvey(pixels: total, imagePixels: imagePixels)
    }
}

/// Hands a value to concurrent closures whose accesses the caller keeps disjoint.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
