import ArgumentParser
import Foundation
import KestrelAnnotations
import KestrelAugment
import KestrelImage

struct Augment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write augmented copies of every image in a folder, with a JSON pipeline (docs/augment.md).",
        discussion: """
            Every PNG/JPEG under INPUT (recursively, sorted by path) gets COPIES augmented copies in OUTPUT,
            keeping the folder structure: INPUT/a/cat.jpg → OUTPUT/a/cat_0.jpg, cat_1.jpg, … Copy k of the
            i-th image is a pure function of (pipeline, seed, i, k), so the files are byte-identical for any
            --threads. Mixing transforms (mixup, cutmix, mosaic) draw their partners from the same folder.
            With --masks, label masks (1-channel PNG, same relative path, .png) travel with the pixels and are
            written to --mask-output. With an annotation set (--annotations COCO.json, --voc DIR or --yolo DIR)
            the images it lists are augmented with their boxes, and a new set in the same format describes the
            copies: OUTPUT/<name>.json (COCO), OUTPUT/Annotations/ (VOC), or OUTPUT/images, labels and
            classes.txt (YOLO, whose images are read from DIR/images unless --input is given).
            OUTPUT may not be INPUT or inside it, nor hold the input annotations; inputs are never overwritten;
            every file is written to a temporary name and renamed. Unreadable images are reported and skipped;
            the exit status is 1 if any failed. A progress line is shown when stderr is a terminal.
            """)

    @Option(help: "The pipeline file (JSON; see docs/augment.md).")
    var pipeline: String

    @Option(help: "The folder of images to augment (with --yolo: DIR/images by default).")
    var input: String?

    @Option(help: "The folder to write to (created if missing).")
    var output: String

    @Option(help: "Augmented copies per image.")
    var copies = 1

    @Option(help: "Random seed; the same seed gives the same files.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads (0: one per core).")
    var threads = 0

    @Option(help: "Output format: same (as the input), png or jpg.")
    var format = "same"

    @Option(help: "JPEG quality, 1-100.")
    var quality = 90

    @Option(help: "A folder of label masks (1-channel PNG) mirroring INPUT.")
    var masks: String?

    @Option(help: "Where augmented masks go (required with --masks).")
    var maskOutput: String?

    @Option(help: "Write a contact sheet of originals and their copies (PNG), boxes and masks drawn.")
    var preview: String?

    @Option(help: "A COCO annotation file for the images in INPUT (file_name relative to INPUT).")
    var annotations: String?

    @Option(help: "A Pascal VOC folder (Annotations/*.xml) for the images in INPUT.")
    var voc: String?

    @Option(help: "A YOLO folder (images/, labels/, classes.txt).")
    var yolo: String?

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        guard (1...100_000).contains(copies) else { throw ValidationError("--copies must be 1...100000") }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 (all cores) or more") }
        guard ["same", "png", "jpg", "jpeg"].contains(format) else {
            throw ValidationError("--format must be same, png or jpg")
        }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1...100") }
        guard (masks == nil) == (maskOutput == nil) else {
            throw ValidationError("--masks and --mask-output go together")
        }
        guard [annotations, voc, yolo].compactMap({ $0 }).count <= 1 else {
            throw ValidationError("give one of --annotations, --voc and --yolo")
        }
        guard input != nil || yolo != nil else { throw ValidationError("--input is required (except with --yolo)") }
        if let preview, ImageFormat.forWriting(path: preview) != .png {
            throw ValidationError("--preview must name a .png file")
        }
    }

    func run() throws {
        let recipe: Pipeline
        do throws(AugmentError) {
            recipe = try Pipeline(contentsOfFile: pipeline)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(2)
        }
        let input = self.input ?? (yolo.map { ($0 as NSString).appendingPathComponent("images") } ?? ".")
        let inputRoot = try AugmentJob.existingFolder(input, role: "input")
        // The output may not hold the input annotations either (VOC and YOLO folders, the COCO file).
        let annotationFolder = voc ?? yolo
        if let folder = annotationFolder, AugmentJob.isInside(AugmentJob.canonical(output), AugmentJob.canonical(folder)) {
            Console.error("error: the output folder \(output) is inside the annotation folder \(folder); refusing to write there")
            throw ExitCode(2)
        }
        let outputFolder = try AugmentJob.preparedOutput(output, notInside: inputRoot, role: "output")
        let outputRoot =
            yolo == nil
            ? outputFolder
            : try AugmentJob.preparedOutput(
                (output as NSString).appendingPathComponent("images"), notInside: inputRoot, role: "output")
        var annotationSet: AugmentAnnotations? = nil
        if let path = annotations ?? voc ?? yolo {
            let format: AnnotationFormat = annotations != nil ? .coco : voc != nil ? .voc : .yolo
            annotationSet = try AugmentAnnotations.load(format: format, path: path, output: output)
            if format == .coco, AugmentJob.canonical(annotationSet!.outputPath) == AugmentJob.canonical(path) {
                Console.error("error: the new annotations would replace \(path); choose another output folder")
                throw ExitCode(2)
            }
        }
        var maskRoot: String? = nil
        var maskOutputRoot: String? = nil
        if let masks, let maskOutput {
            maskRoot = try AugmentJob.existingFolder(masks, role: "masks")
            maskOutputRoot = try AugmentJob.preparedOutput(maskOutput, notInside: inputRoot, role: "mask output")
            if let m = maskRoot, AugmentJob.isInside(maskOutputRoot!, m) {
                Console.error("error: --mask-output \(maskOutput) is inside --masks \(masks); refusing to write there")
                throw ExitCode(2)
            }
        }
        let files = annotationSet?.files ?? AugmentJob.imageFiles(under: inputRoot)
        guard !files.isEmpty else {
            Console.error("error: no PNG or JPEG files under \(input)")
            throw ExitCode(1)
        }
        let job = AugmentJob(
            pipeline: recipe, inputRoot: inputRoot, outputRoot: outputRoot, maskRoot: maskRoot,
            maskOutputRoot: maskOutputRoot, files: files, copies: copies, seed: seed, format: format,
            quality: quality, previewRows: preview == nil ? 0 : 6, labels: annotationSet?.labels)
        let workers = threads == 0 ? ProcessInfo.processInfo.activeProcessorCount : threads
        let report = job.run(threads: workers, progress: Console.stderrIsTerminal)
        for failure in report.failures { Console.error("error: \(failure.path): \(failure.message)") }
        if let annotationSet {
            let (augmented, dropped) = annotationSet.augmented(report.copies, copiesPerImage: copies)
            try annotationSet.write(augmented, droppedSegmentations: dropped)
        }
        let classNames = Dictionary(
            (annotationSet?.dataset.categories ?? []).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        if let preview {
            do throws(ImageError) {
                try ContactSheet.render(report.previews, classNames: classNames).write(toFile: preview)
            } catch {
                Console.error("error: preview: \(error)")
                throw ExitCode(1)
            }
        }
        let rate = Double(report.written) / max(report.seconds, 1e-9)
        if outputOptions.json {
            Console.out(
                JSON.object([
                    ("inputs", .int(files.count)), ("copies", .int(copies)), ("written", .int(report.written)),
                    (
                        "failed",
                        .array(
                            report.failures.map {
                                .object([("path", .string($0.path)), ("error", .string($0.message))])
                            })
                    ),
                    ("boxes_in", .int(report.boxesIn)), ("boxes_out", .int(report.boxesOut)),
                    ("seconds", .double(round6(report.seconds))), ("images_per_second", .double(round6(rate))),
                    ("seed", .int(Int(truncatingIfNeeded: seed))), ("threads", .int(workers)),
                    ("output", .string(output)), ("preview", preview.map { .string($0) } ?? .null),
                ("annotations", annotationSet.map { .string($0.outputPath) } ?? .null),
                ]).text)
        } else {
            var line = "augmented \(files.count - report.failures.count) of \(files.count) images × \(copies) "
            line +=
                "= \(report.written) files in \(fixed(report.seconds, 2)) s (\(fixed(rate, 1)) images/s, \(workers) threads) → \(output)"
            if !report.failures.isEmpty { line += "; \(report.failures.count) failed" }
            Console.out(line)
            if let preview { Console.out("preview: \(preview)") }
            if let annotationSet {
                Console.out("annotations (\(annotationSet.format.rawValue)): \(annotationSet.outputPath)")
            }
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
