import ArgumentParser
import KestrelAnnotations
import KestrelImage

struct ConvertAnnotations: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-annotations",
        abstract: "Convert ground truth (or, with --dets, detections) between COCO JSON, Pascal VOC and YOLO.",
        discussion: """
            Layouts: coco is one JSON file; voc is a folder with Annotations/*.xml (detections: devkit files
            <prefix><class>.txt); yolo is a folder with labels/*.txt and classes.txt (images are read for their
            size, never copied; detections: one label file per image with a confidence column).
            Boxes keep their pixel values: a VOC box xmin..xmax becomes x = xmin, width = xmax - xmin. YOLO class
            k is category k; writing YOLO numbers categories 0..K-1 in ascending id order and lists their names in
            classes.txt. What a format cannot express (crowd regions in VOC or YOLO, segmentations outside COCO)
            is reported as a warning.
            Detections name images by id (COCO) or file stem (VOC, YOLO), so --dets needs the ground truth (--gt)
            to translate between them.
            """)

    @Argument(help: "Input file (coco) or folder (voc, yolo).")
    var input: String

    @Argument(help: "Output file (coco) or folder (voc, yolo).")
    var output: String

    @Option(help: "Input format: coco, voc or yolo.")
    var from: AnnotationFormat

    @Option(help: "Output format: coco, voc or yolo.")
    var to: AnnotationFormat

    @Flag(help: "Convert detections (results) instead of ground truth.")
    var dets = false

    @Option(help: "With --dets: the ground truth the detections belong to.")
    var gt: String?

    @Option(help: "Format of --gt (default: --from).")
    var gtFormat: AnnotationFormat?

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    func validate() throws {
        if dets && gt == nil { throw ValidationError("--dets needs --gt (detections name images through the ground truth)") }
        if !dets && gt != nil { throw ValidationError("--gt is only used with --dets") }
    }

    func run() throws {
        if FileIO.exists(output) && !force {
            Console.error("error: \(output) exists; use --force to replace it")
            throw ExitCode(1)
        }
        if FileIO.sameFile(input, output) {
            Console.error("error: \(output) is the input; refusing to overwrite it")
            throw ExitCode(1)
        }
        if dets {
            let truth = try orExit { () throws(AnnotationError) in try (gtFormat ?? from).readDataset(gt!) }
            for w in truth.warnings { Console.error("warning: \(w)") }
            let detections = try orExit { () throws(AnnotationError) in
                try from.readDetections(input, groundTruth: truth.value)
            }
            for w in detections.warnings { Console.error("warning: \(w)") }
            try orExit { () throws(AnnotationError) in try to.write(detections.value, groundTruth: truth.value, to: output) }
            Console.out("wrote \(detections.value.count) detections to \(output) (\(to.rawValue))")
        } else {
            let loaded = try orExit { () throws(AnnotationError) in try from.readDataset(input) }
            for w in loaded.warnings { Console.error("warning: \(w)") }
            let d = loaded.value
            let warnings = try orExit { () throws(AnnotationError) in try to.write(d, to: output) }
            for w in warnings { Console.error("warning: \(w)") }
            Console.out("wrote \(d.images.count) images, \(d.annotations.count) annotations, \(d.categories.count) categories to \(output) (\(to.rawValue))")
        }
    }
}
