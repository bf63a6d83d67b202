import ArgumentParser
import KestrelData
import KestrelImage
import KestrelModels
import KestrelSegmentation
import KestrelTraining

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a trained model: the top classes and their probabilities.",
        discussion: "With --json, one object per file: {\"path\", \"top\": [{\"class\", \"index\", \"probability\"}]} or {\"path\", \"error\"}.")

    @Option(help: "A run folder written by `kestrel train`.")
    var model: String

    @Argument(help: "Images (PNG or JPEG).")
    var files: [String]

    @Option(name: .customLong("top"), help: "How many classes to show per image.")
    var top = 3

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let classifier: TrainedClassifier
        do { classifier = try TrainedClassifier(runDirectory: model) } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        let n = classifier.config.normalization
        var failures = 0
        for path in files {
            do {
                let image = try Image(contentsOfFile: path, options: DecodeOptions(channels: n.channels))
                guard image.width == n.width, image.height == n.height else {
                    throw DataError("image is \(image.width)x\(image.height); the model takes \(n.width)x\(n.height)", path: path)
                }
                let p = classifier.probabilities(try n.batch([image])).scalars
                let ranked = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }.prefix(top)
                if output.json {
                    Console.out(JSON.object([
                        ("path", .string(path)),
                        ("top", .array(ranked.map { i in
                            .object([("class", .string(classifier.config.classes[i])), ("index", .int(i)), ("probability", .double(Double(p[i])))])
                        })),
                    ]).text)
                } else {
                    Console.out("\(path): " + ranked.map { "\(classifier.config.classes[$0]) \(fixed(100 * Double(p[$0]), 1))%" }.joined(separator: ", "))
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

struct TestModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Accuracy, per-class precision/recall and the confusion matrix of a trained model on a dataset.",
        discussion: "With --json: {\"accuracy\", \"meanClassAccuracy\", \"loss\", \"images\", \"classes\", \"perClass\": [{\"class\", \"precision\", \"recall\", \"support\"}], \"confusion\": [[…]]} (rows: true class, columns: predicted).")

    @Option(help: "A run folder written by `kestrel train`.")
    var model: String

    @Option(help: "An ImageFolder or .csv manifest with the same classes.")
    var data: String

    @Option(name: .customLong("batch-size"), help: "Images per batch.")
    var batchSize = 64

    @Flag(name: .customLong("skip-unreadable"), help: "Report and skip unreadable images instead of stopping.")
    var skipUnreadable = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let classifier = try TrainedClassifier(runDirectory: model)
            let dataset: ClassificationDataset
            do { dataset = try ClassificationDataset.load(data) } catch { throw TrainingError(error.message, path: error.path) }
            guard dataset.classes == classifier.config.classes else {
                throw TrainingError("the data's classes \(dataset.classes) differ from the model's \(classifier.config.classes)", path: data)
            }
            let n = classifier.config.normalization
            let (loss, m) = try ClassificationTask.evaluate(
                model: classifier.model, data: dataset, normalization: n, batchSize: batchSize, skipUnreadable: skipUnreadable,
                prepare: { image, _, _ in
                    guard image.width == n.width, image.height == n.height else {
                        throw DataError("image is \(image.width)x\(image.height); the model takes \(n.width)x\(n.height)")
                    }
                    return image
                })
            let names = classifier.config.classes
            if output.json {
                Console.out(JSON.object([
                    ("accuracy", .double(m.accuracy)), ("meanClassAccuracy", .double(m.meanClassAccuracy)), ("loss", .double(loss)),
                    ("images", .int(m.total)), ("classes", .array(names.map { .string($0) })),
                    ("perClass", .array(names.indices.map { c in
                        .object([("class", .string(names[c])), ("precision", m.precision(c).map { .double($0) } ?? .null),
                                 ("recall", m.recall(c).map { .double($0) } ?? .null), ("support", .int(m.counts[c].reduce(0, +)))])
                    })),
                    ("confusion", .array(m.counts.map { .array($0.map { .int($0) }) })),
                ]).text)
            } else {
                Console.out("accuracy \(fixed(100 * m.accuracy, 2))% (\(m.correct)/\(m.total)), mean class accuracy \(fixed(100 * m.meanClassAccuracy, 2))%, loss \(fixed(loss, 4))")
                Console.out("class        precision  recall  support")
                for c in names.indices {
                    let name = names[c].padding(toLength: 12, withPad: " ", startingAt: 0)
                    let p = m.precision(c).map { fixed(100 * $0, 1) + "%" } ?? "–"
                    let r = m.recall(c).map { fixed(100 * $0, 1) + "%" } ?? "–"
                    Console.out("\(name) \(p.leftPad(9))  \(r.leftPad(6))  \(String(m.counts[c].reduce(0, +)).leftPad(7))")
                }
                Console.out("confusion (rows: true, columns: predicted)")
                for (c, row) in m.counts.enumerated() {
                    Console.out(names[c].padding(toLength: 12, withPad: " ", startingAt: 0) + row.map { String($0).leftPad(5) }.joined())
                }
            }
        } catch let e as TrainingError {
            Console.error("error: \(e)")
            throw ExitCode(1)
        }
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models `kestrel train` can build, with parameter counts.",
        discussion: """
            With --json, one object per model: {"name", "parameters", "inputSize", "classes", "summary"}. --task
            segment lists the segmentation models instead (they take any input size: "inputSize" is null; the
            count includes the frozen bilinear upsampling weights of the VGG FCNs).
            """)

    @Option(help: "classify (the classifiers) or segment (the segmentation models, 21 classes as Pascal VOC by default).")
    var task = "classify"

    @Option(help: "Classes of the classifier head (default: 1000 for ImageNet-size models, 10 for the others).")
    var classes: Int?

    @Option(name: .customLong("input-size"), help: "Input side (default: each model's own).")
    var inputSize: Int?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard ["classify", "segment"].contains(task) else { throw ValidationError("--task must be classify or segment") }
        if let classes, classes < 2 { throw ValidationError("--classes must be at least 2") }
    }

    func run() throws {
        if task == "segment" { return try listSegmentationModels() }
        for e in ModelZoo.entries {
            let k = classes ?? (e.defaultInputSize >= 224 ? 1000 : 10)
            let size = inputSize ?? e.defaultInputSize
            let count: Int
            do { count = try ModelZoo.make(e.name, classes: k, inputSize: size).parameterCount } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
            if output.json {
                Console.out(JSON.object([("name", .string(e.name)), ("parameters", .int(count)), ("inputSize", .int(size)),
                                         ("classes", .int(k)), ("summary", .string(e.summary))]).text)
            } else {
                Console.out("\(e.name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(String(count).leftPad(11)) parameters  \(size)x\(size), \(k) classes  \(e.summary)")
            }
        }
    }

    func listSegmentationModels() throws {
        let k = classes ?? 21
        for e in SegmentationZoo.entries {
            let count: Int
            do { count = try SegmentationZoo.make(e.name, classes: k).parameterCount } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
            if output.json {
                Console.out(JSON.object([("name", .string(e.name)), ("parameters", .int(count)), ("inputSize", .null),
                                         ("classes", .int(k)), ("summary", .string(e.summary))]).text)
            } else {
                Console.out("\(e.name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(String(count).leftPad(11)) parameters  any size, \(k) classes  \(e.summary)")
            }
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
