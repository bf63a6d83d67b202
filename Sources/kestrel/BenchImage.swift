import ArgumentParser
import KestrelImage

/// Loads the files of one format for an image benchmark; a bad file stops the benchmark with its error.
private func loadSet(_ files: [String]) throws -> [(path: String, bytes: [UInt8], info: ImageInfo)] {
    try files.map { path in
        do throws(ImageError) {
            let bytes = try FileIO.read(path)
            let info = try ImageCodec.info(bytes)
            return (path, bytes, info)
        } catch {
            Console.error("error: \(error.at(path))")
            throw ExitCode(1)
        }
    }
}

private func sizeLabel(_ label: String, count: Int, megapixels: Double, bytes: Int, ext: String) -> String {
    "\(label) (\(count) photos, \(fixed(megapixels, 2)) MP, \(fixed(Double(bytes) / 1e6, 2)) MB \(ext))"
}

func fixed(_ v: Double, _ digits: Int) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (v * p).rounded() / p
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    } else if digits > 0 {
        s += "." + String(repeating: "0", count: digits)
    }
    return s
}

private func report(_ options: BenchOptions, work: String, size: String, megapixels: Double, seconds: [Double],
                    extra: [(String, JSON)] = []) {
    let rates = seconds.map { megapixels / $0 }
    if options.output.json {
        Console.out(benchRecord(suite: "image_io", work: work, size: size, threads: 1, values: rates, unit: "MP/s",
                                extra: extra).text)
    } else {
        Console.out("\(work) · \(size): \(fixed(median(rates), 1)) MP/s (min \(fixed(rates.min()!, 1)), max \(fixed(rates.max()!, 1)))")
    }
}

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode speed in megapixels per second, one thread, bytes already in memory.",
        discussion: """
            Files are grouped by format; each repetition decodes the whole group. Compare with
            ../shared/anchors/image_io.py on the same files in the same run (tools/bench_image_io.sh does both).
            """)

    @Argument(help: "PNG and JPEG files.")
    var files: [String]

    @OptionGroup var options: BenchOptions

    func run() throws {
        let set = try loadSet(files)
        for format in ImageFormat.allCases {
            let group = set.filter { $0.info.format == format }
            guard !group.isEmpty else { continue }
            let mp = group.reduce(0.0) { $0 + Double($1.info.width * $1.info.height) / 1e6 }
            let (seconds, guardInfo) = try options.guarded {
                try measure(repeats: options.repeats, minTime: options.minTime) {
                    for item in group { _ = try ImageCodec.decode(item.bytes) }
                }
            }
            let ext = format == .png ? "png" : "jpg"
            report(options, work: format == .png ? "decode PNG" : "decode JPEG",
                   size: sizeLabel(options.label, count: group.count, megapixels: mp,
                                   bytes: group.reduce(0) { $0 + $1.bytes.count }, ext: ext),
                   megapixels: mp, seconds: seconds, extra: guardInfo)
        }
    }
}

struct BenchEncode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode speed in megapixels per second, one thread, to memory: PNG at zlib levels 1 and 6, JPEG q90.",
        discussion: "The files are decoded to RGB first; only the encoding is timed.")

    @Argument(help: "PNG and JPEG files (decoded, then re-encoded).")
    var files: [String]

    @Option(help: "PNG filter: none, sub, up, average, paeth, adaptive.")
    var pngFilter: PNGFilter = .paeth

    @Option(help: "JPEG quality.")
    var quality = 90

    @OptionGroup var options: BenchOptions

    func run() throws {
        let set = try loadSet(files)
        let images = try set.map { item in
            do throws(ImageError) {
                return try Image(decoding: item.bytes, options: DecodeOptions(channels: 3))
            } catch {
                Console.error("error: \(error.at(item.path))")
                throw ExitCode(1)
            }
        }
        let mp = images.reduce(0.0) { $0 + Double($1.pixelCount) / 1e6 }
        let ext = set.first?.info.format == .jpeg ? "jpg" : "png"
        let size = sizeLabel(options.label, count: images.count, megapixels: mp,
                             bytes: set.reduce(0) { $0 + $1.bytes.count }, ext: ext)
        let jobs: [(String, EncodeOptions)] = [
            ("encode PNG zlib level 1", .png(PNGEncodeOptions(compressionLevel: 1, filter: pngFilter))),
            ("encode PNG zlib level 6", .png(PNGEncodeOptions(compressionLevel: 6, filter: pngFilter))),
            ("encode JPEG q\(quality)", .jpeg(JPEGEncodeOptions(quality: quality))),
        ]
        for (work, encode) in jobs {
            var bytes = 0
            let (seconds, guardInfo) = try options.guarded {
                try measure(repeats: options.repeats, minTime: options.minTime) {
                    bytes = 0
                    for image in images { bytes += try image.encoded(encode).count }
                }
            }
            report(options, work: work, size: size, megapixels: mp, seconds: seconds,
                   extra: [("bytes", .int(bytes)), ("filter", .string(pngFilter.rawValue))] + guardInfo)
        }
    }
}

extension PNGFilter: ExpressibleByArgument {}
