#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file that could not be read or written: the path and what went wrong (the system's reason included).
public struct FileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Whole-file reads with a size cap, and writes that never leave a half-written file behind. Shared by every
/// Kestrel module that touches files (images, checkpoints, annotations, reports).
public enum Files {
    /// Reads a whole file. Refuses directories and files over `maxBytes` before reading them.
    public static func read(_ path: String, maxBytes: Int = 1 << 30) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path, message: errnoText("cannot open")) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path: path, message: errnoText("cannot stat")) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError(path: path, message: "not a regular file") }
        let size = Int(st.st_size)
        guard size <= maxBytes else {
            throw FileError(path: path, message: "file is \(size) bytes, over the \(maxBytes)-byte limit")
        }
        var result = [UInt8](repeating: 0, count: size)
        var filled = 0
        let failed: Bool = result.withUnsafeMutableBytes { buffer in
            while filled < size {
                let n = systemRead(fd, buffer.baseAddress! + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                if n == 0 { break }  // the file shrank while we read it
                filled += n
            }
            return false
        }
        if failed { throw FileError(path: path, message: errnoText("read failed")) }
        if filled < size { result.removeLast(size - filled) }
        return result
    }

    /// Writes `bytes` to `path` atomically: into a new temporary file in the same folder, then renamed over
    /// `path`. A crash or error leaves either the old file or the new one, never a partial file, and no
    /// temporary file behind. The new file gets the usual permissions (0666 minus the umask).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw FileError(path: path, message: "no file name in the output path") }
        var fd: Int32 = -1
        var tmp = ""
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let suffix = String(generator.next() & 0xFFFF_FFFF, radix: 36)
            tmp = (folder.isEmpty ? "" : folder + "/") + ".\(name).kestrel-\(suffix).tmp"
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw FileError(path: path, message: errnoText("cannot create a file in \(folder.isEmpty ? "/" : folder)"))
        }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        let written: Bool = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        let writeError = errnoText("write failed")
        guard close(fd) == 0, written else {
            throw FileError(path: path, message: written ? errnoText("close failed") : writeError)
        }
        guard rename(tmp, path) == 0 else { throw FileError(path: path, message: errnoText("cannot rename into place")) }
        ok = true
    }

    /// Writes UTF-8 text atomically.
    public static func writeAtomically(text: String, to path: String) throws(FileError) {
        try writeAtomically(Array(text.utf8), to: path)
    }

    /// True when both paths name the same existing file (same device and inode), however they are spelled.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat()
        var sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// True when something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var s = stat()
        return stat(path, &s) == 0
    }

    /// True when `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var s = stat()
        return stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    static func errnoText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }
}

@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
