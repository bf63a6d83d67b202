import ArgumentParser
import KestrelImage

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show format, size, channels, bit depth and EXIF orientation of image files.",
        discussion: """
            Reads each file's header (the format comes from the bytes, not the name). A file that cannot be read
            gets an error line and the others are still shown; the exit status is 1 if any file failed.
            With --json, one object per file: {"path", "format", "width", "height", "channels", "bitDepth",
            "orientation", "colorModel", "interlaced"} or {"path", "error"}. Width and height are as stored,
            before the EXIF orientation is applied.
            """)

    @Argument(help: "Image files (PNG or JPEG).")
    var files: [String]

    @Flag(help: "Decode every pixel too, so truncated or damaged data is reported.")
    var verify = false

    @OptionGroup var output: OutputOptions

    func run() throws {
        var failures = 0
        for path in files {
            do throws(ImageError) {
                var info = try ImageCodec.info(contentsOfFile: path)
                if verify { info = try ImageCodec.decode(contentsOfFile: path).info }
                if output.json {
                    Console.out(JSON.object([
                        ("path", .string(path)), ("format", .string(info.format.rawValue)),
                        ("width", .int(info.width)), ("height", .int(info.height)),
                        ("channels", .int(info.channels)), ("bitDepth", .int(info.bitDepth)),
                        ("orientation", .int(info.orientation)), ("colorModel", .string(info.colorModel)),
                        ("interlaced", .bool(info.interlaced)),
                    ]).text)
                } else {
                    let names = [1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"]
                    var line = "\(path): \(info.format == .png ? "PNG" : "JPEG") \(info.width)x\(info.height) "
                    line += "\(names[info.channels] ?? "?") \(info.bitDepth)-bit (stored as \(info.colorModel)"
                    line += info.interlaced ? (info.format == .png ? ", interlaced)" : ", progressive)") : ")"
                    if info.orientation != 1 { line += ", EXIF orientation \(info.orientation)" }
                    Console.out(line)
                }
            } catch {
                failures += 1
                if output.json {
                    Console.out(JSON.object([("path", .string(path)), ("error", .string(error.message))]).text)
                } else {
                    Console.error("error: \(error)")
                }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
