import ArgumentParser
import Foundation
import KestrelData
import KestrelFiles
import KestrelImage
import KestrelSegmentation
import KestrelTraining

struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment images with a trained model: a palette label PNG per image, optional colour overlays.",
        discussion: """
            For FILE.jpg writes OUT/FILE.png: a palette PNG of the input's size whose indices are class ids (Pascal
            VOC colours; `kestrel eval --task segment` reads it). --overlay also writes OUT/overlays/FILE.png, the
            photo with each class's colour blended in (background left as is). Images are resized to the model's
            input size, and the class scores resized back (bilinear) before the best class is taken per pixel;
            --native runs the model at the image's own size instead. Pixels are read as stored (no EXIF
            rotation), like the masks the model was trained on. OUT must not be a folder the inputs are in; files
            are written atomically. With --json, one object per file: {"path", "mask", "overlay", "width",
            "height", "pixels": {class: count}} or {"path", "error"}.
            """)

    @Option(help: "A run folder written by `kestrel train --task segment`.")
    var model: String

    @Argument(help: "Images (PNG or JPEG).")
    var files: [String]

    @Option(help: "Output folder for the label maps (created if missing).")
    var out: String

    @Flag(help: "Also write colour overlays into OUT/overlays/.")
    var overlay = false

    @Option(help: "Overlay opacity of the class colours, 0...1.")
    var alpha = 0.5

    @Flag(help: "Run at each image's own size instead of the model's input size.")
    var native = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one image") }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in 0...1") }
        // Two inputs with one stem would write the same mask.
        var seen: [String: String] = [:]
        for f in files {
            let stem = ((f as NSString).lastPathComponent as NSString).deletingPathExtension
            if let other = seen[stem] { throw ValidationError("\(other) and \(f) would both write \(stem).png; segment them into different folders") }
            seen[stem] = f
        }
    }

    /// A folder's canonical path (symlinks resolved), for comparing folders.
    static func canonicalFolder(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    func run() throws {
        let outFolder = Segment.canonicalFolder(out)
        for f in files {
            let folder = Segment.canonicalFolder((f as NSString).deletingLastPathComponent.isEmpty ? "." : (f as NSString).deletingLastPathComponent)
            if folder == outFolder || Files.sameFile(folder, out) {
                Console.error("error: \(out) holds the input \(f); write the label maps to another folder (--out)")
                throw ExitCode(1)
            }
        }
        let segmenter: TrainedSegmenter
        do { segmenter = try TrainedSegmenter(runDirectory: model) } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            if overlay { try FileManager.default.createDirectory(atPath: out + "/overlays", withIntermediateDirectories: true) }
        } catch {
            Console.error("error: \(out): cannot create the folder: \(error.localizedDescription)")
            throw ExitCode(1)
        }
        let classes = segmenter.config.classes
        let channels = segmenter.config.normalization.channels
        let palette = PNGEncodeOptions(palette: Palette.voc)
        var failures = 0
        for path in files {
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let maskPath = out + "/" + stem + ".png"
            let overlayPath = out + "/overlays/" + stem + ".png"
            do {
                let image: Image
                do { image = try Image(contentsOfFile: path, options: DecodeOptions(applyOrientation: false, channels: channels)) } catch {
                    throw DataError(error.message, path: path)
                }
                let labels = try segmenter.segment(image, native: native)
                do {
                    try labels.write(toFile: maskPath, options: .png(palette))
                    if overlay {
                        let shown = channels == 3 ? image : try Image(contentsOfFile: path, options: DecodeOptions(applyOrientation: false, channels: 3))
                        try LabelMaps.overlay(shown, labels: labels, alpha: alpha).write(toFile: overlayPath)
                    }
                } catch { throw DataError(error.message, path: error.path) }
                let counts = LabelMaps.histogram(labels)
                if output.json {
                    Console.out(JSON.object([
                        ("path", .string(path)), ("mask", .string(maskPath)), ("overlay", overlay ? .string(overlayPath) : .null),
                        ("width", .int(labels.width)), ("height", .int(labels.height)),
                        ("pixels", .object(classes.indices.map { (classes[$0], .int(counts[$0])) })),
                    ]).text)
                } else {
                    let total = Double(labels.pixels.count)
                    let shares = classes.indices.filter { counts[$0] > 0 }.map { "\(classes[$0]) \(fixed(100 * Double(counts[$0]) / total, 1))%" }
                    Console.out("\(path) -> \(maskPath) (\(labels.width)x\(labels.height)): \(shares.joined(separator: ", "))")
                }
            } catch {
                failures += 1
                let e = (error as? DataError) ?? DataError("\(error)", path: path)
                let message = e.path == nil || e.path == path ? e.message : "\(e)"
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
