import ArgumentParser
import Foundation
import KestrelAugment
import KestrelImage

/// One `kestrel augment` run: the files, where they go, and the parallel loop that writes them.
final class AugmentJob: @unchecked Sendable {
    let pipeline: Pipeline
    let inputRoot: String
    let outputRoot: String
    let maskRoot: String?
    let maskOutputRoot: String?
    /// Image paths relative to `inputRoot`, sorted; the index in this list is the sample index.
    let files: [String]
    let copies: Int
    let seed: UInt64
    let format: String
    let quality: Int
    let previewRows: Int
    let partners: DiskPartners
    /// Boxes of each image (same order as `files`), when annotations were given; box tags index the source
    /// dataset's annotations.
    let labels: [[LabeledBox]]?

    struct Failure: Error {
        var path: String
        var message: String
    }

    /// What the run did; filled by the workers under `lock`.
    final class Report: @unchecked Sendable {
        var written = 0
        var boxesIn = 0
        var boxesOut = 0
        var failures: [Failure] = []
        var previews: [[Sample]] = []
        /// Per input image (nil if it failed): every copy's output name (relative), size and boxes.
        var copies: [[WrittenCopy]?] = []
        var seconds = 0.0
        // Work distribution and progress, under the run's lock.
        var next = 0
        var done = 0
        var lastPrint = 0.0
    }

    init(
        pipeline: Pipeline, inputRoot: String, outputRoot: String, maskRoot: String?, maskOutputRoot: String?,
        files: [String], copies: Int, seed: UInt64, format: String, quality: Int, previewRows: Int,
        labels: [[LabeledBox]]? = nil
    ) {
        (self.pipeline, self.inputRoot, self.outputRoot, self.maskRoot, self.maskOutputRoot) =
            (pipeline, inputRoot, outputRoot, maskRoot, maskOutputRoot)
        (self.files, self.copies, self.seed, self.format, self.quality, self.previewRows) =
            (files, copies, seed, format, quality, previewRows)
        self.labels = labels
        partners = DiskPartners(root: inputRoot, maskRoot: maskRoot, files: files, labels: labels)
    }

    // MARK: Paths

    /// The canonical path of an existing folder, or exit 2 with a message.
    static func existingFolder(_ path: String, role: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            Console.error("error: --\(role == "masks" ? "masks" : role) \(path) is not a folder")
            throw ExitCode(2)
        }
        return canonical(path)
    }

    /// Creates the output folder if needed; refuses the input folder itself or any folder inside it.
    static func preparedOutput(_ path: String, notInside input: String, role: String) throws -> String {
        let resolved = canonical(path)
        if isInside(resolved, input) {
            Console.error("error: the \(role) folder \(path) is the input folder or inside it; refusing to write there")
            throw ExitCode(2)
        }
        do {
            try FileManager.default.createDirectory(atPath: resolved, withIntermediateDirectories: true)
        } catch {
            Console.error("error: cannot create \(path): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        return canonical(path)
    }

    /// The absolute path with symbolic links and `.`/`..` resolved as far as the path exists.
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var existing = url
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path) && existing.pathComponents.count > 1 {
            rest.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        var base = existing.resolvingSymlinksInPath().path
        for part in rest { base = (base as NSString).appendingPathComponent(part) }
        return base
    }

    static func isInside(_ path: String, _ folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// PNG and JPEG files under `root` (by extension), relative paths, sorted; hidden entries are skipped.
    static func imageFiles(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            if ["png", "jpg", "jpeg"].contains((rel as NSString).pathExtension.lowercased()) { out.append(rel) }
        }
        return out.sorted()
    }

    /// `cat.jpg`, copy 3 of 12 → `cat_03.jpg` (zero-padded so listings sort), extension per `--format`.
    func outputName(_ rel: String, copy: Int, forMask: Bool) -> String {
        let stem = (rel as NSString).deletingPathExtension
        let digits = String(copies - 1).count
        let number = String(repeating: "0", count: max(0, digits - String(copy).count)) + String(copy)
        let ext: String
        if forMask {
            ext = "png"
        } else {
            switch format {
            case "png": ext = "png"
            case "jpg", "jpeg": ext = "jpg"
            default: ext = (rel as NSString).pathExtension
            }
        }
        return "\(stem)_\(number).\(ext)"
    }

    // MARK: Running

    func run(threads: Int, progress: Bool) -> Report {
        let report = Report()
        report.previews = Array(repeating: [], count: min(previewRows, files.count))
        report.copies = Array(repeating: nil, count: files.count)
        let lock = NSLock()
        let start = Date()
        let total = files.count
        let workers = max(1, min(threads, total))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i: Int = lock.withLock {
                    defer { report.next += 1 }
                    return report.next
                }
                guard i < total else { return }
                let outcome = process(i)
                lock.withLock {
                    switch outcome {
                    case .success(let result):
                        report.written += result.written
                        report.boxesIn += result.boxesIn
                        report.boxesOut += result.boxesOut
                        if i < report.previews.count { report.previews[i] = result.preview }
                        report.copies[i] = result.copies
                    case .failure(let f):
                        report.failures.append(f)
                    }
                    report.done += 1
                    let done = report.done
                    let elapsed = Date().timeIntervalSince(start)
                    if progress && (elapsed - report.lastPrint >= 0.1 || done == total) {
                        report.lastPrint = elapsed
                        let rate = Double(done) / max(elapsed, 1e-9)
                        let eta = Double(total - done) / max(rate, 1e-9)
                        Console.progress(
                            "\(done)/\(total) images · \(fixed(rate * Double(copies), 1)) copies/s · ETA \(fixed(eta, 0)) s"
                        )
                    }
                }
            }
        }
        if progress { Console.progressDone() }
        report.seconds = Date().timeIntervalSince(start)
        report.failures.sort { $0.path < $1.path }
        return report
    }

    struct WrittenCopy {
        var name: String
        var width: Int
        var height: Int
        var boxes: [LabeledBox]
    }

    struct ImageResult {
        var written = 0
        var boxesIn = 0
        var boxesOut = 0
        var preview: [Sample] = []
        var copies: [WrittenCopy] = []
    }

    /// Decodes image `i` and writes its copies.
    func process(_ i: Int) -> Result<ImageResult, Failure> {
        let rel = files[i]
        let sample: Sample
        do throws(AugmentError) {
            sample = try partners.sample(at: i)
        } catch {
            return .failure(Failure(path: (inputRoot as NSString).appendingPathComponent(rel), message: error.message))
        }
        var result = ImageResult()
        if i < previewRows { result.preview.append(sample) }
        for k in 0..<copies {
            let out: Sample
            do throws(AugmentError) {
                out = try pipeline.augment(sample, seed: seed, index: i, copy: k, partners: partners)
            } catch {
                return .failure(
                    Failure(path: (inputRoot as NSString).appendingPathComponent(rel), message: error.description))
            }
            let name = outputName(rel, copy: k, forMask: false)
            let path = (outputRoot as NSString).appendingPathComponent(name)
            do {
                try write(out.image, to: path)
                if let maskOutputRoot, let mask = out.mask {
                    try write(
                        mask,
                        to: (maskOutputRoot as NSString).appendingPathComponent(outputName(rel, copy: k, forMask: true))
                    )
                }
            } catch let failure as FailureError {
                return .failure(failure.failure)
            } catch {
                return .failure(Failure(path: path, message: "\(error)"))
            }
            result.written += 1
            result.copies.append(WrittenCopy(name: name, width: out.width, height: out.height, boxes: out.boxes))
            result.boxesIn += sample.boxes.count
            result.boxesOut += out.boxes.count
            if i < previewRows && k < 5 { result.preview.append(out) }
        }
        return .success(result)
    }

    struct FailureError: Error {
        var failure: Failure
    }

    func write(_ image: Image, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Never replace an input, however the paths are spelled. (Files are written to a temporary name and
        // renamed, which replaces a directory entry, never the contents of a hard- or symbolically linked file.)
        if isInside(path, inputRoot) {
            throw FailureError(failure: Failure(path: path, message: "would overwrite an input file; skipped"))
        }
        var image = image
        let options: EncodeOptions
        if ImageFormat.forWriting(path: path) == .jpeg {
            if image.channels == 2 || image.channels == 4 { image = image.flattened(onto: 255) }
            options = .jpeg(JPEGEncodeOptions(quality: quality))
        } else {
            options = .png
        }
        do throws(ImageError) {
            try image.write(toFile: path, options: options)
        } catch {
            throw FailureError(failure: Failure(path: path, message: error.message))
        }
    }

    func isInside(_ path: String, _ folder: String) -> Bool { Self.isInside(Self.canonical(path), folder) }
}

/// The samples of the input folder, decoded on demand (for the image being augmented and for mixing partners).
/// Stateless, so any thread may call it.
struct DiskPartners: PartnerSource {
    let root: String
    let maskRoot: String?
    let files: [String]
    let labels: [[LabeledBox]]?

    var count: Int { files.count }

    func sample(at index: Int) throws(AugmentError) -> Sample {
        guard files.indices.contains(index) else { throw AugmentError(.partner("no sample \(index)")) }
        let rel = files[index]
        let path = (root as NSString).appendingPathComponent(rel)
        let image: Image
        do throws(ImageError) {
            image = try Image(contentsOfFile: path)
        } catch {
            throw AugmentError(.io(error.message))
        }
        var mask: Image? = nil
        if let maskRoot {
            let maskPath = (maskRoot as NSString).appendingPathComponent(
                (rel as NSString).deletingPathExtension + ".png")
            do throws(ImageError) {
                let m = try Image(contentsOfFile: maskPath)
                mask = m.channels == 1 ? m : try m.converted(toChannels: 1)
            } catch {
                throw AugmentError(.io("its mask \(maskPath): \(error.message)"))
            }
        }
        do throws(AugmentError) {
            return try Sample(image: image, boxes: labels?[index] ?? [], mask: mask)
        } catch {
            throw AugmentError(.io(error.message))
        }
    }
}

extension Console {
    /// Rewrites the progress line on stderr (a terminal): carriage return, the text, clear to end of line.
    static func progress(_ line: String) {
        error("\r\u{1B}[K" + line, newline: false)
    }

    /// Ends the progress line.
    static func progressDone() {
        error("", newline: true)
    }

    static func error(_ text: String, newline: Bool) {
        if newline {
            error(text)
        } else {
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}
