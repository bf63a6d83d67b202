import KestrelFiles

/// File access for images: ``KestrelFiles/Files`` with its errors reported as ``ImageError/Kind/io(_:)``.
public enum FileIO {
    /// Reads a whole file. Refuses directories and files over `maxBytes` before reading them.
    public static func read(_ path: String, maxBytes: Int = 1 << 30) throws(ImageError) -> [UInt8] {
        do { return try Files.read(path, maxBytes: maxBytes) } catch { throw ImageError(.io(error.message)) }
    }

    /// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        do { try Files.writeAtomically(bytes, to: path) } catch { throw ImageError(.io(error.message)) }
    }

    /// True when both paths name the same existing file.
    public static func sameFile(_ a: String, _ b: String) -> Bool { Files.sameFile(a, b) }

    /// True when something exists at `path`.
    public static func exists(_ path: String) -> Bool { Files.exists(path) }
}
