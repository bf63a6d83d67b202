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

    /// Starts `kestrel ARGS` (a training run writing into `runDirectory`), waits for its first epoch to land in
    /// `metrics.jsonl` (at most a minute), presses Ctrl-C and returns the exit status. 0 means the run finished
    /// before the signal arrived.
    public static func interruptAfterFirstEpoch(_ arguments: [String], runDirectory: String) throws -> Int32 {
        guard let exe = executable else { throw CocoaError(.fileNoSuchFile) }
        let p = Process()
        p.executableURL = exe
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: runDirectory + "/metrics.jsonl") && Date() < deadline && p.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
        p.interrupt()
        p.waitUntilExit()
        return p.terminationStatus
    }

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
