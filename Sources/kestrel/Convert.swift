import ArgumentParser
import KestrelImage

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode an image and encode it in the format OUT's extension names (.png, .jpg, .jpeg).",
        discussion: """
            The EXIF orientation is applied (use --keep-orientation to keep the stored pixels). 16-bit PNGs stay
            16-bit when written as PNG. Writing JPEG from an image with alpha flattens it onto white. OUT is
            written to a temporary file and renamed, so a failure never leaves a partial file. Refuses to write
            over IN, and over an existing OUT unless --force is given.
            """)

    @Argument(help: "The image to read.")
    var input: String

    @Argument(help: "The file to write; its extension chooses the format.")
    var output: String

    @Option(help: "JPEG quality, 1-100.")
    var quality = 90

    @Option(help: "JPEG chroma subsampling: 4:4:4, 4:2:2 or 4:2:0.")
    var subsampling = "4:2:0"

    @Option(help: "PNG zlib compression level, 0-9.")
    var pngLevel = 6

    @Flag(help: "Keep the stored pixels instead of applying the EXIF orientation.")
    var keepOrientation = false

    @Option(help: "Refuse images with more pixels than this (decompression-bomb guard).")
    var maxPixels = DecodeOptions.defaultMaxPixels

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    func validate() throws {
        guard ImageFormat.forWriting(path: output) != nil else {
            throw ValidationError("cannot tell the output format from '\(output)'; use a .png, .jpg or .jpeg name")
        }
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1...100") }
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
        guard (0...9).contains(pngLevel) else { throw ValidationError("--png-level must be 0...9") }
        guard ChromaSubsampling(rawValue: subsampling) != nil else {
            throw ValidationError("--subsampling must be 4:4:4, 4:2:2 or 4:2:0")
        }
    }

    func run() throws {
        if FileIO.sameFile(input, output) {
            Console.error("error: \(output) is the input file; refusing to overwrite it")
            throw ExitCode(1)
        }
        if FileIO.exists(output) && !force {
            Console.error("error: \(output) exists; use --force to replace it")
            throw ExitCode(1)
        }
        let format = ImageFormat.forWriting(path: output)!
        let options = DecodeOptions(maxPixels: maxPixels, applyOrientation: !keepOrientation)
        do throws(ImageError) {
            switch format {
            case .png:
                let encode = EncodeOptions.png(PNGEncodeOptions(compressionLevel: pngLevel))
                let info = try ImageCodec.info(contentsOfFile: input)
                if info.bitDepth == 16 {
                    try ImageCodec.decode16(contentsOfFile: input, options: options).image
                        .write(toFile: output, options: encode)
                } else {
                    try ImageCodec.decode(contentsOfFile: input, options: options).image
                        .write(toFile: output, options: encode)
                }
            case .jpeg:
                var image = try ImageCodec.decode(contentsOfFile: input, options: options).image
                if image.channels == 2 || image.channels == 4 {
                    Console.error("note: JPEG has no alpha channel; flattening \(input) onto white")
                    image = image.flattened(onto: 255)
                }
                let encode = EncodeOptions.jpeg(JPEGEncodeOptions(
                    quality: quality, subsampling: ChromaSubsampling(rawValue: subsampling)!))
                try image.write(toFile: output, options: encode)
            }
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }
}
