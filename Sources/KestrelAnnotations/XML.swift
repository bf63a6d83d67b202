// A small XML reader for annotation files (Pascal VOC): elements, text, attributes (checked, not kept),
// comments, processing instructions, a DOCTYPE without an internal subset, CDATA and the predefined and numeric
// character references. Not a general XML processor: no namespaces, no DTDs. Errors carry line:column.

/// An element: its name, its text (concatenated character data, entities resolved, not trimmed), its child
/// elements in order, and where it starts.
struct XMLElement: Sendable {
    var name: String
    var text = ""
    var children: [XMLElement] = []
    var line: Int
    var column: Int

    /// The first child named `name`.
    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// All children named `name`.
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// The text with surrounding whitespace removed.
    var trimmedText: String {
        var s = Substring(text)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

struct XMLReader {
    private let bytes: [UInt8]
    private var p = 0
    private let file: String?

    /// Parses a document and returns its root element.
    static func parse(_ bytes: [UInt8], file: String?) throws(AnnotationError) -> XMLElement {
        var r = XMLReader(bytes: bytes, file: file)
        return try r.document()
    }

    private init(bytes: [UInt8], file: String?) {
        self.bytes = bytes
        self.file = file
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { p = 3 }
    }

    private func location(_ offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for i in 0..<min(offset, bytes.count) {
            if bytes[i] == 0x0A {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    private func error(_ message: String, at offset: Int? = nil) -> AnnotationError {
        let (line, column) = location(offset ?? p)
        return AnnotationError(.syntax, message, file: file, line: line, column: column)
    }

    private func starts(_ s: StaticString, at i: Int? = nil) -> Bool {
        let i = i ?? p
        let n = s.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        let u = s.utf8Start
        for k in 0..<n where bytes[i + k] != u[k] { return false }
        return true
    }

    private mutating func skipSpace() {
        while p < bytes.count, bytes[p] == 0x20 || bytes[p] == 0x09 || bytes[p] == 0x0A || bytes[p] == 0x0D { p += 1 }
    }

    /// Skips past `terminator`, or throws `what` unterminated.
    private mutating func skip(past terminator: StaticString, _ what: String) throws(AnnotationError) {
        let start = p
        while p < bytes.count {
            if starts(terminator) {
                p += terminator.utf8CodeUnitCount
                return
            }
            p += 1
        }
        throw error("unterminated \(what)", at: start)
    }

    /// Skips comments, processing instructions, DOCTYPE and whitespace.
    private mutating func skipMisc() throws(AnnotationError) {
        while true {
            skipSpace()
            if starts("<!--") {
                try skip(past: "-->", "comment")
            } else if starts("<?") {
                try skip(past: "?>", "processing instruction")
            } else if starts("<!DOCTYPE") {
                try skip(past: ">", "DOCTYPE")
            } else {
                return
            }
        }
    }

    private mutating func document() throws(AnnotationError) -> XMLElement {
        try skipMisc()
        guard p < bytes.count, bytes[p] == UInt8(ascii: "<") else {
            throw error(p < bytes.count ? "expected an element" : "empty document")
        }
        let root = try element(depth: 0)
        try skipMisc()
        if p < bytes.count { throw error("content after the root element") }
        return root
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
            || b == 0x2E || b == 0x3A || b >= 0x80
    }

    private mutating func name() throws(AnnotationError) -> String {
        let start = p
        while p < bytes.count, Self.isNameByte(bytes[p]) { p += 1 }
        guard p > start else { throw error("expected a name") }
        return String(decoding: bytes[start..<p], as: UTF8.self)
    }

    private mutating func element(depth: Int) throws(AnnotationError) -> XMLElement {
        guard depth < 256 else { throw error("elements nested deeper than 256 levels") }
        let (line, column) = location(p)
        p += 1  // <
        var e = XMLElement(name: try name(), line: line, column: column)
        // Attributes: checked for syntax, not kept.
        while true {
            skipSpace()
            guard p < bytes.count else { throw error("unterminated tag <\(e.name)>") }
            if bytes[p] == UInt8(ascii: "/") {
                guard starts("/>") else { throw error("expected '/>'") }
                p += 2
                return e
            }
            if bytes[p] == UInt8(ascii: ">") {
                p += 1
                break
            }
            _ = try name()
            skipSpace()
            guard p < bytes.count, bytes[p] == UInt8(ascii: "=") else { throw error("expected '=' after an attribute name") }
            p += 1
            skipSpace()
            guard p < bytes.count, bytes[p] == UInt8(ascii: "\"") || bytes[p] == UInt8(ascii: "'") else {
                throw error("expected a quoted attribute value")
            }
            let quote = bytes[p]
            let start = p
            p += 1
            while p < bytes.count && bytes[p] != quote { p += 1 }
            guard p < bytes.count else { throw error("unterminated attribute value", at: start) }
            p += 1
        }
        // Content.
        var text: [UInt8] = []
        while true {
            guard p < bytes.count else { throw error("<\(e.name)> is never closed", at: offset(line, column)) }
            let b = bytes[p]
            if b == UInt8(ascii: "<") {
                if starts("</") {
                    p += 2
                    let closing = try name()
                    guard closing == e.name else {
                        throw error("</\(closing)> closes <\(e.name)> (opened at \(line):\(column))", at: p - closing.utf8.count - 2)
                    }
                    skipSpace()
                    guard p < bytes.count, bytes[p] == UInt8(ascii: ">") else { throw error("expected '>'") }
                    p += 1
                    guard let s = String(validating: text, as: UTF8.self) else {
                        throw error("text of <\(e.name)> is not valid UTF-8", at: offset(line, column))
                    }
                    e.text = s
                    return e
                } else if starts("<!--") {
                    try skip(past: "-->", "comment")
                } else if starts("<![CDATA[") {
                    let start = p + 9
                    try skip(past: "]]>", "CDATA section")
                    text.append(contentsOf: bytes[start..<(p - 3)])
                } else if starts("<?") {
                    try skip(past: "?>", "processing instruction")
                } else {
                    e.children.append(try element(depth: depth + 1))
                }
            } else if b == UInt8(ascii: "&") {
                text.append(contentsOf: try reference())
            } else {
                text.append(b)
                p += 1
            }
        }
    }

    /// The byte offset of a line:column (for errors reported at an element's start).
    private func offset(_ line: Int, _ column: Int) -> Int {
        var l = 1, i = 0
        while i < bytes.count && l < line {
            if bytes[i] == 0x0A { l += 1 }
            i += 1
        }
        return i + column - 1
    }

    private mutating func reference() throws(AnnotationError) -> [UInt8] {
        let start = p
        guard let semicolon = bytes[p...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
            throw error("'&' not followed by an entity reference (write &amp;)")
        }
        let body = String(decoding: bytes[(p + 1)..<semicolon], as: UTF8.self)
        p = semicolon + 1
        switch body {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            var value: UInt32?
            if body.hasPrefix("#x") { value = UInt32(body.dropFirst(2), radix: 16) } else if body.hasPrefix("#") {
                value = UInt32(body.dropFirst(), radix: 10)
            }
            guard let v = value, let scalar = Unicode.Scalar(v) else {
                throw error("unknown entity &\(body);", at: start)
            }
            return Array(String(Character(scalar)).utf8)
        }
    }
}
