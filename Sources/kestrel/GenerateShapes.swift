import ArgumentParser
import Dispatch
import Foundation
import KestrelAnnotations
import KestrelData
import KestrelFiles
import KestrelGeometry
import KestrelImage

struct GenerateShapes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-shapes",
        abstract: "Generate the synthetic shapes detection/segmentation dataset (seeded, deterministic).",
        discussion: """
            Writes OUT/train and OUT/val, each with images/NNNNNN.jpg (or .png), masks/NNNNNN.png (palette PNGs whose
            indices are class ids: 0 background, 1 circle, 2 square, 3 triangle, 4 star; Pascal VOC colours) and
            annotations.json (COCO: boxes tight around each object's visible pixels, areas in pixels, outline
            polygons). Backgrounds are crops of the photos in --backgrounds or procedural textures. Image i of a
            split depends only on (seed, split, i).
            """)

    @Option(help: "Output folder (created; must not exist unless --force).") var out: String
    @Option(help: "Training images.") var train = 1000
    @Option(help: "Validation images.") var val = 200
    @Option(help: "Image side in pixels.") var size = 128
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Folder of photos to crop backgrounds from (none: procedural only).") var backgrounds = "datasets/photos"
    @Option(help: "Image format: jpg or png.") var format = "jpg"
    @Option(help: "Threads.") var threads = 2
    @Flag(help: "Write into an existing folder.") var force = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard train >= 0, val >= 0, train + val > 0 else { throw ValidationError("--train and --val must not be negative, and not both 0") }
        guard (32...2048).contains(size) else { throw ValidationError("--size must be 32...2048") }
        guard format == "jpg" || format == "png" else { throw ValidationError("--format must be jpg or png") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if Files.exists(out) && !force {
            Console.error("error: \(out) exists; use --force to write into it")
            throw ExitCode(1)
        }
        var options = Shapes.Options()
        options.width = size
        options.height = size
        if !backgrounds.isEmpty, Files.isDirectory(backgrounds) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: backgrounds))?.sorted() ?? []
            for f in files where ["png", "jpg", "jpeg"].contains((f as NSString).pathExtension.lowercased()) {
                if let photo = try? Image(contentsOfFile: backgrounds + "/" + f, options: DecodeOptions(channels: 3)),
                    photo.width >= size, photo.height >= size
                {
                    options.photos.append(photo)
                }
            }
        }
        var progress = ProgressLine()
        let start = now()
        var totals: [(String, Int, Int)] = []
        for (split, count, salt) in [("train", train, UInt64(1)), ("val", val, UInt64(2))] where count > 0 {
            let dir = out + "/" + split
            do {
                try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
                try FileManager.default.createDirectory(atPath: dir + "/masks", withIntermediateDirectories: true)
            } catch {
                Console.error("error: \(dir): cannot create folders: \(error.localizedDescription)")
                throw ExitCode(1)
            }
            let splitSeed = seed &* 0x9E37_79B9_7F4A_7C15 &+ salt
            let results = Locked<[Int: [Shapes.Instance]]>([:])
            let failure = Locked<String?>(nil)
            let done = Locked<Int>(0)
            let opts = options
            let ext = format
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                var i = worker
                while i < count {
                    if failure.value != nil { return }
                    let scene = Shapes.scene(seed: splitSeed, index: i, options: opts)
                    let name = String(format: "%06d", i)
                    do throws(ImageError) {
                        try scene.image.write(toFile: "\(dir)/images/\(name).\(ext)",
                                              options: ext == "jpg" ? .jpeg(JPEGEncodeOptions(quality: 92)) : .png)
                        try scene.mask.write(toFile: "\(dir)/masks/\(name).png", options: .png(PNGEncodeOptions(palette: Palette.voc)))
                    } catch {
                        failure.set("\(error)")
                        return
                    }
                    results.update { $0[i] = scene.instances }
                    done.update { $0 += 1 }
                    i += threads
                }
            }
            if let f = failure.value {
                Console.error("error: \(f)")
                throw ExitCode(1)
            }
            // COCO annotations, in image order.
            var dataset = DetectionDataset(categories: Shapes.classNames.enumerated().map { Category(id: $0.offset + 1, name: $0.element, supercategory: "shape") })
            var annotationID = 1
            let all = results.value
            for i in 0..<count {
                dataset.images.append(ImageEntry(id: i + 1, fileName: String(format: "%06d.%@", i, format), width: size, height: size))
                for inst in all[i] ?? [] {
                    let poly = inst.polygon.flatMap { [$0.x, $0.y] }.map { String(format: "%.2f", $0) }.joined(separator: ",")
                    dataset.annotations.append(Annotation(
                        id: annotationID, imageID: i + 1, categoryID: inst.classID, bbox: inst.box.xywh, area: Double(inst.area),
                        segmentation: RawJSON("[[\(poly)]]")))
                    annotationID += 1
                }
            }
            do { try COCO.write(dataset, toFile: dir + "/annotations.json") } catch {
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
            totals.append((split, count, dataset.annotations.count))
            progress.update("\(split): \(count) images", force: true)
        }
        progress.clear()
        let seconds = now() - start
        if output.json {
            Console.out(JSON.object([("out", .string(out)), ("seconds", .double(round6(seconds))),
                                     ("splits", .array(totals.map { .object([("split", .string($0.0)), ("images", .int($0.1)), ("objects", .int($0.2))]) }))]).text)
        } else {
            for (split, n, objects) in totals { Console.out("\(out)/\(split): \(n) images, \(objects) objects") }
        }
    }
}

/// A value shared between concurrent workers.
final class Locked<T>: @unchecked Sendable {
    private var stored: T
    private let lock = NSLock()
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func set(_ v: T) { lock.withLock { stored = v } }
    func update(_ f: (inout T) -> Void) { lock.withLock { f(&stored) } }
}
