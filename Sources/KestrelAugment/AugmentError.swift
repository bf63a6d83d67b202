/// Everything that can go wrong building or running an augmentation pipeline.
///
/// The description is ready to show a user. Errors from a pipeline file name the file, the line and column
/// of the offending value, and its path in the document:
/// `pipe.json:4:22: transforms[1] (rotate): "degrees" must be a number or [low, high], got a string`.
public struct AugmentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// A transform was given an impossible parameter (negative size, probability above 1, …).
        case invalidParameter(String)
        /// A sample is inconsistent (mask size differs from the image, mask not 1-channel, …).
        case invalidSample(String)
        /// A mixing transform needs other samples and none were provided, or loading one failed.
        case partner(String)
        /// The pipeline file is not valid JSON or describes an invalid pipeline.
        case pipeline(String)
        /// The pipeline file cannot be read.
        case io(String)
    }

    public var kind: Kind
    /// Where in a pipeline file the problem is, when it comes from one.
    public var location: Location?

    /// A position in a pipeline file: file name (may be empty), 1-based line and column, and the path of the
    /// value inside the document (e.g. `transforms[2].degrees`).
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var column: Int
        public var path: String

        public init(file: String, line: Int, column: Int, path: String) {
            self.file = file
            self.line = line
            self.column = column
            self.path = path
        }

        public var description: String {
            let place = (file.isEmpty ? "" : file + ":") + "\(line):\(column)"
            return path.isEmpty ? place : "\(place): \(path)"
        }
    }

    public init(_ kind: Kind, at location: Location? = nil) {
        self.kind = kind
        self.location = location
    }

    /// The problem without the location.
    public var message: String {
        switch kind {
        case .invalidParameter(let what): what
        case .invalidSample(let what): "invalid sample: \(what)"
        case .partner(let what): what
        case .pipeline(let what): what
        case .io(let what): what
        }
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }

    static func parameter(_ what: String) -> AugmentError { AugmentError(.invalidParameter(what)) }
}
