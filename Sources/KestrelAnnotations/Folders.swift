import KestrelImage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Folder listing and path helpers for the folder-based formats (VOC, YOLO), without Foundation.
enum Folders {
    /// True when `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var s = stat()
        return stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names (not paths) of the regular files in `path`, sorted bytewise; hidden files are skipped.
    static func files(in path: String) throws(AnnotationError) -> [String] {
        guard let dir = opendir(path) else {
            throw AnnotationError(.io, "cannot open folder: \(String(cString: strerror(errno)))", file: path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            var s = stat()
            if stat(join(path, name), &s) == 0 && (s.st_mode & S_IFMT) == S_IFREG { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Creates `path` (and missing parents) as a directory if it does not exist.
    static func makeDirectory(_ path: String) throws(AnnotationError) {
        if isDirectory(path) { return }
        if let slash = path.dropLast().lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]))
        }
        guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
            throw AnnotationError(.io, "cannot create folder: \(String(cString: strerror(errno)))", file: path)
        }
    }

    static func join(_ a: String, _ b: String) -> String { a.hasSuffix("/") ? a + b : a + "/" + b }

    /// The file name without its last extension: "000005.jpg" → "000005".
    static func stem(_ name: String) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return base }
        return String(base[..<dot])
    }

    /// The lowercased extension without the dot ("JPG" → "jpg"), or "".
    static func fileExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...]).lowercased()
    }

    static func readText(_ path: String) throws(AnnotationError) -> [UInt8] {
        do throws(ImageError) { return try FileIO.read(path) } catch {
            throw AnnotationError(.io, error.message, file: path)
        }
    }
}
