import ArgumentParser
import Foundation
import KestrelData
import KestrelImage
import KestrelMetrics

/// What `kestrel eval` evaluates.
enum EvalTask: String, ExpressibleByArgument, CaseIterable {
    case detect, segment
}

/// `kestrel eval --task segment` options (--gt and --pred are `Eval`'s).
struct SegmentEvalOptions: ParsableArguments {
    @Option(name: .customLong("classes"), help: "Segmentation: number of classes (default: the highest label in --gt or --pred, plus 1).")
    var classCount: Int?

    @Option(name: .customLong("class-names"), help: "Segmentation: class names, comma-separated, label 0 first.")
    var classNames: String?
}

/// `kestrel eval --task segment --gt MASK_DIR --pred MASK_DIR`: the FCN paper's four metrics and per-class IoU
/// from one confusion matrix over every pixel of every image (ground-truth 255 excluded).
struct SegmentationEvaluation {
    let gt: String
    let pred: String
    let options: SegmentEvalOptions
    let json: Bool

    func run() throws {
        do throws(DataError) {
            try evaluate()
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }

    func evaluate() throws(DataError) {
        // Ground truth defines the images; every one needs a prediction with its stem.
        let truths = try SegmentationDataset.files(byStemIn: gt, extensions: ["png"])
        let predictions = try SegmentationDataset.files(byStemIn: pred, extensions: ["png"])
        guard !truths.isEmpty else { throw DataError("no PNG label maps in the folder", path: gt) }
        for stem in truths.keys.sorted() where predictions[stem] == nil {
            throw DataError("no prediction \(stem).png in \(pred)", path: gt + "/" + truths[stem]!)
        }
        let extra = predictions.keys.filter { truths[$0] == nil }.count
        if extra > 0 { Console.error("warning: \(extra) prediction\(extra == 1 ? "" : "s") in \(pred) without ground truth, ignored") }
        var names: [String]? = options.classNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let n = options.classCount {
            if let given = names, given.count != n { throw DataError("--classes \(n) but --class-names lists \(given.count)") }
            names = names ?? (0..<n).map { String($0) }
        }
        var pairs: [(truth: Image, prediction: Image, gtPath: String, predPath: String)] = []
        var highest = 0
        for stem in truths.keys.sorted() {
            let g = gt + "/" + truths[stem]!, p = pred + "/" + predictions[stem]!
            let t: Image, q: Image
            do { t = try ImageCodec.decodeLabels(contentsOfFile: g) } catch { throw DataError(error.message, path: g) }
            do { q = try ImageCodec.decodeLabels(contentsOfFile: p) } catch { throw DataError(error.message, path: p) }
            guard t.width == q.width, t.height == q.height else {
                throw DataError("prediction is \(q.width)x\(q.height) but the ground truth \(g) is \(t.width)x\(t.height)", path: p)
            }
            if let v = q.pixels.max() {
                guard v != 255 else { throw DataError("prediction has label 255 (ignore); predictions must be classes", path: p) }
                highest = max(highest, Int(v))
            }
            highest = max(highest, Int(t.pixels.filter { $0 != 255 }.max() ?? 0))
            pairs.append((t, q, g, p))
        }
        let classes = names ?? (0...max(1, highest)).map { String($0) }
        var matrix = SegmentationConfusion(classes: classes.count)
        for pair in pairs {
            if let bad = pair.prediction.pixels.first(where: { Int($0) >= classes.count }) {
                throw DataError("predicted label \(bad) is not a class (0...\(classes.count - 1))", path: pair.predPath)
            }
            if let bad = pair.truth.pixels.first(where: { Int($0) >= classes.count && $0 != 255 }) {
                throw DataError("label \(bad) is not a class (0...\(classes.count - 1), or 255 to ignore)", path: pair.gtPath)
            }
            matrix.add(truth: pair.truth.pixels, prediction: pair.prediction.pixels)
        }
        let iou = matrix.iou, accuracy = matrix.classAccuracy
        if json {
            Console.out(JSON.object([
                ("images", .int(pairs.count)), ("pixels", .int(matrix.pixels)),
                ("pixelAccuracy", .double(matrix.pixelAccuracy)), ("meanClassAccuracy", .double(matrix.meanClassAccuracy)),
                ("meanIoU", .double(matrix.meanIoU)), ("frequencyWeightedIoU", .double(matrix.frequencyWeightedIoU)),
                ("perClass", .array(classes.indices.map { c in
                    .object([("class", .string(classes[c])), ("iou", iou[c].map { .double($0) } ?? .null),
                             ("accuracy", accuracy[c].map { .double($0) } ?? .null), ("pixels", .int(matrix.counts[c].reduce(0, +)))])
                })),
                ("confusion", .array(matrix.counts.map { .array($0.map { .int($0) }) })),
            ]).text)
        } else {
            Console.out("\(pairs.count) images, \(matrix.pixels) labelled pixels, \(classes.count) classes")
            Console.out("pixel accuracy         \(fixed(matrix.pixelAccuracy, 4))")
            Console.out("mean class accuracy    \(fixed(matrix.meanClassAccuracy, 4))")
            Console.out("mean IoU               \(fixed(matrix.meanIoU, 4))")
            Console.out("frequency-weighted IoU \(fixed(matrix.frequencyWeightedIoU, 4))")
            for line in SegmentationTable.lines(classes.indices.map { (classes[$0], iou[$0], accuracy[$0], matrix.counts[$0].reduce(0, +)) }) {
                Console.out(line)
            }
        }
    }
}
