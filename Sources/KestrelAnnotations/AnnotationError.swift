/// Everything that can go wrong reading or writing annotation files, or combining ground truth with detections.
///
/// The description names the file and where in it, ready to show a user:
/// `dets.json:1:48213: $[1204].bbox[2]: invalid value: negative width -3.5`
/// (line:column, then the JSON path or the XML element path, then the problem).
public struct AnnotationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file or folder cannot be read or written.
        case io
        /// The text is not valid JSON / XML / YOLO lines.
        case syntax
        /// A required field is absent.
        case missingField
        /// A field has the wrong type or an impossible value (NaN, negative width, non-integer id…).
        case invalidValue
        /// The data contradicts itself: duplicate ids, an annotation on an image that does not exist…
        case inconsistent
    }

    public var kind: Kind
    /// The problem, without the location.
    public var message: String
    /// The file concerned, when there is one.
    public var file: String?
    /// 1-based line and column in `file`, when known.
    public var line: Int?
    public var column: Int?
    /// Where in the document: a JSON path such as `$.annotations[3].bbox` or an XML path such as
    /// `annotation/object[2]/bndbox/xmin`.
    public var path: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil,
                path: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.path = path
    }

    /// The same error, attributed to `file` (kept if already set).
    public func inFile(_ file: String) -> AnnotationError {
        var e = self
        if e.file == nil { e.file = file }
        return e
    }

    /// The same error, with `component` prepended to its path (used while unwinding nested parsers).
    func within(_ component: String) -> AnnotationError {
        var e = self
        e.path = component + (e.path ?? "")
        return e
    }

    var kindText: String {
        switch kind {
        case .io: ""
        case .syntax: "syntax error: "
        case .missingField: "missing field: "
        case .invalidValue: "invalid value: "
        case .inconsistent: "inconsistent: "
        }
    }

    public var description: String {
        var s = ""
        if let file {
            s += file
            if let line {
                s += ":\(line)"
                if let column { s += ":\(column)" }
            }
            s += ": "
        }
        if let path, !path.isEmpty { s += path + ": " }
        return s + kindText + message
    }
}

/// Something a reader or evaluator did that the user should know about but that is not an error (for
/// example detections ignored because their category is not in the ground truth, as pycocotools ignores them).
/// Library code never prints; callers show these.
public struct AnnotationWarning: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var file: String?

    public init(_ message: String, file: String? = nil) {
        self.message = message
        self.file = file
    }

    public var description: String { file.map { "\($0): \(message)" } ?? message }
}
