import Foundation

/// Runs the built `kestrel` executable, for end-to-end CLI tests.
public enum KestrelCLI {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The `kestrel` binary next to the test bundle (SwiftPM puts products in one folder).
    public static let executable: URL? = {
        var candidates = [Bundle.main.bundleURL]
        if let arg0 = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: arg0).deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for dir in candidates {
            let url = dir.appendingPathComponent("kestrel")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    /// Runs `kestrel ARGS` (through `/bin/sh -c` when `shellPrefix` is given, e.g. `ulimit -v 4000000;`).
    public static func run(_ arguments: [String], shellPrefix: String? = nil, in directory: URL? = nil) throws -> Result {
        guard let exe = executable else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        if let prefix = shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let quoted = ([exe.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            process.arguments = ["-c", prefix + " exec " + quoted.joined(separator: " ")]
        } else {
            process.executableURL = exe
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
