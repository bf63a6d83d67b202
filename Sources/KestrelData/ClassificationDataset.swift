import Foundation
import KestrelFiles

/// One labelled image file.
public struct LabeledFile: Sendable, Equatable, Hashable {
    /// The file path (as found: relative paths stay relative to the process's working directory).
    public var path: String
    /// Index into the dataset's `classes`.
    public var label: Int

    public init(path: String, label: Int) {
        self.path = path
        self.label = label
    }
}

/// Image files with class labels: an ImageFolder (one sub-folder per class, as torchvision's `ImageFolder`) or a
/// CSV manifest of `path,label` lines. Classes are sorted by name; files within a class by path, so the same
/// folder always gives the same indices.
public struct ClassificationDataset: Sendable, Equatable {
    /// Class names; a sample's `label` indexes this array.
    public var classes: [String]
    public var samples: [LabeledFile]

    public init(classes: [String], samples: [LabeledFile]) {
        self.classes = classes
        self.samples = samples
    }

    public var count: Int { samples.count }

    /// File extensions listed as images (the decoder still checks each file's bytes).
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "jpe"]

    /// Reads `path`: a folder (ImageFolder) or a `.csv` manifest.
    public static func load(_ path: String) throws(DataError) -> ClassificationDataset {
        if Files.isDirectory(path) { return try imageFolder(path) }
        if path.lowercased().hasSuffix(".csv") { return try csvManifest(path) }
        if !Files.exists(path) { throw DataError("no such file or folder", path: path) }
        throw DataError("expected a folder with one sub-folder per class, or a .csv manifest", path: path)
    }

    /// An ImageFolder: `root/<class>/<image>`. Hidden entries are ignored; files that are not PNG/JPEG by
    /// extension are ignored. Fewer than 2 classes, or an empty class folder, is an error.
    public static func imageFolder(_ root: String) throws(DataError) -> ClassificationDataset {
        let fm = FileManager.default
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root) } catch {
            throw DataError("cannot list the folder: \(error.localizedDescription)", path: root)
        }
        let classes = entries.filter { !$0.hasPrefix(".") && Files.isDirectory(root + "/" + $0) }.sorted()
        guard classes.count >= 2 else {
            throw DataError("found \(classes.count) class folder\(classes.count == 1 ? "" : "s"); a classifier needs at least 2 (one sub-folder per class)", path: root)
        }
        var samples: [LabeledFile] = []
        for (label, name) in classes.enumerated() {
            let folder = root + "/" + name
            let files: [String]
            do { files = try fm.contentsOfDirectory(atPath: folder) } catch {
                throw DataError("cannot list the folder: \(error.localizedDescription)", path: folder)
            }
            let images = files.filter { f in
                !f.hasPrefix(".") && imageExtensions.contains((f as NSString).pathExtension.lowercased())
            }.sorted()
            guard !images.isEmpty else { throw DataError("class folder has no PNG or JPEG images", path: folder) }
            samples += images.map { LabeledFile(path: folder + "/" + $0, label: label) }
        }
        return ClassificationDataset(classes: classes, samples: samples)
    }

    /// A CSV manifest: one `path,label` per line (an optional `path,label` header; fields may be quoted with
    /// `"`), paths relative to the manifest's folder. Labels are class names; classes are the sorted distinct
    /// labels.
    public static func csvManifest(_ path: String) throws(DataError) -> ClassificationDataset {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, maxBytes: 1 << 30) } catch { throw DataError(error.message, path: path) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw DataError("not UTF-8 text", path: path) }
        let base = (path as NSString).deletingLastPathComponent
        var rows: [(String, String)] = []
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = try splitCSV(line, line: n + 1, path: path)
            guard fields.count == 2 else {
                throw DataError("line \(n + 1): expected 2 fields (path,label), found \(fields.count)", path: path)
            }
            if rows.isEmpty && n == firstNonEmptyLine(text) && fields[0].lowercased() == "path" && fields[1].lowercased() == "label" {
                continue
            }
            guard !fields[0].isEmpty, !fields[1].isEmpty else {
                throw DataError("line \(n + 1): empty path or label", path: path)
            }
            let file = fields[0].hasPrefix("/") ? fields[0] : (base.isEmpty ? fields[0] : base + "/" + fields[0])
            rows.append((file, fields[1]))
        }
        let classes = Array(Set(rows.map(\.1))).sorted()
        guard classes.count >= 2 else {
            throw DataError("the manifest names \(classes.count) class\(classes.count == 1 ? "" : "es"); a classifier needs at least 2", path: path)
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        return ClassificationDataset(classes: classes, samples: rows.map { LabeledFile(path: $0.0, label: index[$0.1]!) })
    }

    private static func firstNonEmptyLine(_ text: String) -> Int {
        for (n, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !l.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return n
        }
        return 0
    }

    static func splitCSV(_ line: String, line n: Int, path: String) throws(DataError) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        current.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        guard !quoted else { throw DataError("line \(n): unterminated quote", path: path) }
        fields.append(current.trimmingCharacters(in: .whitespaces))
        chars.removeAll()
        return fields
    }

    /// A deterministic stratified split: within each class, a seeded shuffle puts ⌊fraction·n + 0.5⌋ files into
    /// validation (at least 1 when the class has 2 or more files and the fraction is positive).
    public func split(validationFraction: Double, seed: UInt64) -> (train: ClassificationDataset, validation: ClassificationDataset) {
        var train: [LabeledFile] = [], validation: [LabeledFile] = []
        for label in classes.indices {
            var members = samples.filter { $0.label == label }
            var rng = SplitMix(seed: seed ^ (UInt64(label) &* 0x9E37_79B9_7F4A_7C15))
            members.shuffle(using: &rng)
            var k = Int((validationFraction * Double(members.count)).rounded())
            if validationFraction > 0 && members.count >= 2 { k = max(1, k) }
            k = min(k, members.count - (members.count >= 2 ? 1 : 0))
            validation += members.prefix(k).sorted { $0.path < $1.path }
            train += members.dropFirst(k).sorted { $0.path < $1.path }
        }
        return (ClassificationDataset(classes: classes, samples: train), ClassificationDataset(classes: classes, samples: validation))
    }

    /// Number of samples per class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        for s in samples { counts[s.label] += 1 }
        return counts
    }
}

/// SplitMix64, for deterministic shuffles and splits (the loaders of every task use it, so a seed means the same
/// order everywhere).
public struct SplitMix: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}
