import ArgumentParser
import Foundation
import KestrelAnnotations
import KestrelData
import KestrelDetection
import KestrelFiles
import KestrelImage
import KestrelMetrics
import KestrelPlot
import KestrelTraining

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find objects in images with a detector trained by `kestrel train --task detect`.",
        discussion: """
            On files: one line per image with the objects scoring at least --score (class, score, box x1,y1,x2,y2
            in the image's pixels); --json prints one object per file: {"path", "objects": [{"class", "label",
            "score", "box": [x1, y1, x2, y2]}]} or {"path", "error"}; --draw DIR writes each image with its boxes
            as DIR/<name>.png.

            On an annotated set (--data ANNOTATIONS --images DIR): runs over every image with SSD's evaluation
            threshold (0.01, as the paper and torchvision) and prints the COCO evaluation against the set's ground
            truth; --results FILE writes the detections as a COCO results list, which `kestrel eval --dets` or
            pycocotools reads; --json prints that list on stdout instead of the evaluation (which goes to stderr).
            """)

    @Option(help: "A run folder written by `kestrel train --task detect`.")
    var model: String

    @Argument(help: "Images (PNG or JPEG).")
    var files: [String] = []

    @Option(help: "Show objects scoring at least this (files mode).")
    var score = 0.3

    @Option(help: "Write the images with their boxes drawn into this folder (files mode).")
    var draw: String?

    @Option(help: "An annotation file or folder to run over (with --images).")
    var data: String?

    @Option(help: "The folder the annotations' image file names are relative to.")
    var images: String?

    @Option(help: "Annotation format of --data: coco, voc, yolo.")
    var format = "coco"

    @Option(help: "Write the detections on --data as a COCO results file here.")
    var results: String?

    @Option(name: .customLong("batch-size"), help: "Images per batch (--data).")
    var batchSize = 16

    @Option(help: "Compute threads.")
    var threads: Int?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (data == nil) != files.isEmpty else { throw ValidationError("give image files or --data ANNOTATIONS --images DIR, not both") }
        if data != nil, images == nil { throw ValidationError("--data needs --images DIR") }
        guard score >= 0, score <= 1 else { throw ValidationError("--score must be in [0, 1]") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let detector: TrainedDetector
        do { detector = try TrainedDetector(runDirectory: model) } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        try Compute.withThreads(threads ?? Compute.threads) {
            if let data { try runOnSet(detector, data: data) } else { try runOnFiles(detector) }
        }
    }

    private func runOnSet(_ detector: TrainedDetector, data: String) throws {
        let set: DetectionData
        let evaluation: COCOEvalResult
        let detections: [Detection]
        do {
            set = try loadDetectionData(data, images: images!, format: format, policy: "stop")
            guard set.classes == detector.config.classes else {
                throw TrainingError("the data's classes \(set.classes) differ from the model's \(detector.config.classes)", path: data)
            }
            detections = try DetectionTask.detectAll(detector.ssd, on: set, normalization: detector.config.normalization,
                                                     batchSize: batchSize)
            evaluation = try COCOEvaluator.evaluate(groundTruth: set.groundTruth, detections: detections)
        } catch let e as TrainingError {
            Console.error("error: \(e)")
            throw ExitCode(1)
        } catch let e as AnnotationError {
            Console.error("error: \(e)")
            throw ExitCode(1)
        }
        if let results {
            do { try COCO.write(detections, toFile: results) } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
        }
        if output.json {
            // The COCO results list itself, as `kestrel eval --dets` reads it; the summary goes to stderr.
            Console.out(COCO.encode(detections))
            for line in evaluation.summaryLines { Console.error(line) }
        } else {
            for line in evaluation.summaryLines { Console.out(line) }
        }
        if let results { Console.error("\(detections.count) detections on \(set.count) images written to \(results)") }
    }

    private func runOnFiles(_ detector: TrainedDetector) throws {
        var options = PostprocessOptions()
        options.scoreThreshold = min(score, options.scoreThreshold)
        var failures = 0
        var drawnNames = Set<String>()
        if let draw { try? FileManager.default.createDirectory(atPath: draw, withIntermediateDirectories: true) }
        for path in files {
            do {
                let image = try Image(contentsOfFile: path, options: DecodeOptions(channels: 3))
                let objects = try detector.detect(image, options: options).filter { $0.score >= score }
                if output.json {
                    Console.out(JSON.object([
                        ("path", .string(path)),
                        ("objects", .array(objects.map { o in
                            .object([("class", .string(detector.className(o.label))), ("label", .int(o.label)),
                                     ("score", .double(o.score)),
                                     ("box", .array([o.box.x1, o.box.y1, o.box.x2, o.box.y2].map { .double($0) }))])
                        })),
                    ]).text)
                } else {
                    let text = objects.map { o in
                        "\(detector.className(o.label)) \(fixed(o.score, 2)) [\(fixed(o.box.x1, 0)),\(fixed(o.box.y1, 0)),\(fixed(o.box.x2, 0)),\(fixed(o.box.y2, 0))]"
                    }
                    Console.out("\(path): " + (text.isEmpty ? "nothing" : text.joined(separator: ", ")))
                }
                if let draw {
                    var canvas = Canvas(image: image)
                    for o in objects.reversed() {
                        canvas.drawLabeledBox(
                            x1: o.box.x1, y1: o.box.y1, x2: o.box.x2, y2: o.box.y2,
                            label: "\(detector.className(o.label)) \(fixed(o.score, 2))",
                            Color.palette[(o.label - 1) % Color.palette.count])
                    }
                    // Two inputs with the same name (from different folders) get -2, -3… rather than overwriting.
                    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                    var name = stem + ".png", k = 1
                    while drawnNames.contains(name) {
                        k += 1
                        name = "\(stem)-\(k).png"
                    }
                    drawnNames.insert(name)
                    try canvas.writePNG(toFile: draw + "/" + name)
                }
            } catch {
                failures += 1
                let message = (error as? ImageError).map { $0.message } ?? (error as? DataError)?.message ?? "\(error)"
                if output.json {
                    Console.out(JSON.object([("path", .string(path)), ("error", .string(message))]).text)
                } else {
                    Console.error("error: \(path): \(message)")
                }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
