/// A dataset that cannot be read: the file or folder, and what is wrong with it.
public struct DataError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String?
    public let message: String

    public init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }

    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
