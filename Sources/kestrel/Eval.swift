import ArgumentParser
import KestrelAnnotations
import KestrelMetrics

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate detections (COCO mAP equal to pycocotools, Pascal VOC AP) or, with --task segment, label maps (mIoU).",
        discussion: """
            --metric coco prints the 12 lines pycocotools prints, then AP/AP50/AP75/AR100 per class; the numbers
            equal pycocotools 2.0.11 exactly, including two of its bugs (a GT with id 0 never matches; stats[0]
            always uses maxDets 100), which --fix-gt-id-zero and --fix-stats0 correct.
            --metric voc07 (11-point) and voc12 (all-point, the VOC2010+ devkit) print AP per class and their mean,
            IoU > 0.5 by default, difficult objects neither right nor wrong, with the devkit's +1 pixel
            convention unless --continuous.

            Formats (--format): coco: GT is a COCO JSON file, DETS a COCO results file. voc: GT is a folder of
            VOC XML files (or a VOC root with Annotations/), DETS a folder of devkit result files
            (<anything>_<class>.txt: "image score xmin ymin xmax ymax" per line). yolo: GT is a folder with
            labels/ and images/ (class names from classes.txt if present), DETS a folder of label files with a
            confidence column ("class cx cy w h conf").
            """)

    @Option(help: "Ground truth: a COCO JSON file, a VOC folder or a YOLO folder (see --format).")
    var gt: String

    @Option(name: [.customLong("dets"), .customLong("pred")],
            help: "Detections: a COCO results JSON file, a VOC results folder or a YOLO labels folder (--task segment: --pred, a folder of predicted label maps).")
    var dets: String

    @Option(help: "Annotation format of --gt and --dets: coco, voc or yolo.")
    var format: AnnotationFormat = .coco

    @Option(help: "coco (AP@[.5:.95], pycocotools), voc07 (11-point) or voc12 (all-point).")
    var metric: Metric = .coco

    @Option(help: "IoU threshold for --metric voc07/voc12 (a detection is right when IoU > T). Default 0.5.")
    var iou: Double?

    @Option(help: "COCO maxDets, three ascending numbers.")
    var maxDets = "1,10,100"

    @Flag(help: "COCO: count a match with a ground-truth box whose id is 0 (pycocotools never does).")
    var fixGtIdZero = false

    @Flag(help: "COCO: compute stats[0] with the third maxDets instead of pycocotools' fixed 100.")
    var fixStats0 = false

    @Flag(help: "Drop detections on images the ground truth lacks (with a warning) instead of failing.")
    var dropUnknownImages = false

    @Flag(help: "VOC: continuous coordinates (IoU without the devkit's +1 pixel).")
    var continuous = false

    @Option(help: "Write precision-recall curves per class as PNG files into this folder.")
    var plots: String?

    @Option(help: "detect (default) or segment (--gt and --pred are folders of label-map PNGs paired by stem).")
    var task: EvalTask = .detect

    @OptionGroup(title: "Semantic segmentation (--task segment)") var segmentation: SegmentEvalOptions

    @OptionGroup var output: OutputOptions

    enum Metric: String, ExpressibleByArgument, CaseIterable {
        case coco, voc07, voc12
    }

    func validate() throws {
        if let iou {
            guard metric != .coco else {
                throw ValidationError("--iou applies to --metric voc07/voc12; COCO averages IoU 0.50:0.95 (AP50 is its second line)")
            }
            guard iou >= 0 && iou < 1 else { throw ValidationError("--iou must be in [0, 1)") }
        }
        guard parsedMaxDets != nil else { throw ValidationError("--max-dets must be three ascending positive integers, e.g. 1,10,100") }
    }

    var parsedMaxDets: [Int]? {
        let v = maxDets.split(separator: ",").compactMap { Int($0.trimmingSpaces) }
        guard v.count == 3, v.allSatisfy({ $0 > 0 }), v == v.sorted() else { return nil }
        return v
    }

    func run() throws {
        if task == .segment { return try SegmentationEvaluation(gt: gt, pred: dets, options: segmentation, json: output.json).run() }
        let (groundTruth, detections) = try loadBoth(gt: gt, dets: dets, format: format, dropUnknownImages: dropUnknownImages)
        switch metric {
        case .coco:
            var p = COCOEvalParameters()
            p.maxDetections = parsedMaxDets!
            p.fixGroundTruthIDZero = fixGtIdZero
            p.fixStats0MaxDetections = fixStats0
            p.dropDetectionsOnUnknownImages = dropUnknownImages
            let r = try orExit { () throws(AnnotationError) in
                do throws(AnnotationError) { return try COCOEvaluator.evaluate(groundTruth: groundTruth, detections: detections, parameters: p) } catch {
                    throw error.inFile(dets)  // what the evaluator refuses is the detections' fault
                }
            }
            for w in r.warnings { Console.error("warning: \(w)") }
            if output.json {
                Console.out(JSON.object([
                    ("metric", .string("coco")), ("stats", .array(r.stats.map { .double($0) })),
                    ("perClass", .array(r.perCategory.map { c in
                        .object([("id", .int(c.id)), ("name", .string(c.name)), ("ap", .double(c.ap)),
                                 ("ap50", .double(c.ap50)), ("ap75", .double(c.ap75)), ("ar100", .double(c.ar))])
                    })),
                ]).text)
            } else {
                for line in r.summaryLines { Console.out(line) }
                Console.out("")
                Console.out("Per class (area all, maxDets \(p.maxDetections[2])):")
                let width = max(8, r.perCategory.map { $0.name.count }.max() ?? 0)
                Console.out("  " + pad("id", 6) + pad("class", width + 2) + "    AP    AP50    AP75   AR\(p.maxDetections[2])")
                for c in r.perCategory {
                    Console.out("  " + pad(String(c.id), 6) + pad(c.name.isEmpty ? "-" : c.name, width + 2)
                        + [c.ap, c.ap50, c.ap75, c.ar].map { padLeft(cell($0), 6) }.joined(separator: "  "))
                }
            }
            if let plots { try writePlots(coco: r, folder: plots) }
        case .voc07, .voc12:
            var p = VOCEvalParameters()
            p.interpolation = metric == .voc07 ? .elevenPoint : .allPoint
            p.iouThreshold = iou ?? 0.5
            p.plusOnePixel = !continuous
            p.dropDetectionsOnUnknownImages = dropUnknownImages
            let r = try orExit { () throws(AnnotationError) in
                do throws(AnnotationError) { return try VOCEvaluator.evaluate(groundTruth: groundTruth, detections: detections, parameters: p) } catch {
                    throw error.inFile(dets)
                }
            }
            for w in r.warnings { Console.error("warning: \(w)") }
            if output.json {
                Console.out(JSON.object([
                    ("metric", .string(metric.rawValue)), ("variant", .string(r.variantDescription)),
                    ("map", .double(r.map)),
                    ("perClass", .array(r.perClass.map { c in
                        .object([("id", .int(c.id)), ("name", .string(c.name)), ("ap", c.ap.map { .double($0) } ?? .null)])
                    })),
                ]).text)
            } else {
                Console.out(r.variantDescription)
                let width = max(8, r.perClass.map { $0.name.count }.max() ?? 0)
                Console.out("  " + pad("id", 6) + pad("class", width + 2) + "    AP   GT  dets")
                for c in r.perClass {
                    Console.out("  " + pad(String(c.id), 6) + pad(c.name.isEmpty ? "-" : c.name, width + 2)
                        + padLeft(c.ap.map { formatFixed($0, 4) } ?? "-", 6) + padLeft(String(c.groundTruthCount), 5)
                        + padLeft(String(c.detectionCount), 6))
                }
                Console.out("mAP = \(formatFixed(r.map, 4)) over \(r.perClass.filter { $0.ap != nil }.count) classes")
            }
            if let plots { try writePlots(voc: r, folder: plots) }
        }
    }

    private func cell(_ v: Double) -> String { v < 0 ? "-" : formatFixed(v, 3) }
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
private func padLeft(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}

/// Runs a library call; an annotation error is printed (naming the file and where in it) and exits with 1.
func orExit<T>(_ body: () throws(AnnotationError) -> T) throws -> T {
    do throws(AnnotationError) { return try body() } catch {
        Console.error("error: \(error)")
        throw ExitCode(1)
    }
}
