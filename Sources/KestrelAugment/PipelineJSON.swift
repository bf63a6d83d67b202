/// A small JSON reader that remembers where every value starts (line and column), so a pipeline file's
/// mistakes can be reported where they are. Strict RFC 8259, except that it also accepts `//` line comments,
/// which are handy in a hand-written pipeline.
struct JSONNode {
    enum Value {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([JSONNode])
        /// Members in file order: key, its position, value.
        case object([(key: String, line: Int, column: Int, value: JSONNode)])
    }

    var value: Value
    var line: Int
    var column: Int

    /// A short description of the value's type, for error messages ("a string", "an array").
    var kind: String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func parse(_ text: String, file: String) throws(AugmentError) -> JSONNode {
        var parser = JSONParser(bytes: Array(text.utf8), file: file)
        parser.skipSpace()
        let node = try parser.value(depth: 0)
        parser.skipSpace()
        if parser.index < parser.bytes.count { throw parser.error("unexpected text after the JSON value") }
        return node
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1
    var lineStart = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var column: Int { index - lineStart + 1 }

    func error(_ message: String) -> AugmentError {
        AugmentError(.pipeline("invalid JSON: " + message), at: .init(file: file, line: line, column: column, path: ""))
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            case 0x2F where index + 1 < bytes.count && bytes[index + 1] == 0x2F:  // "//" comment
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(AugmentError) -> JSONNode {
        guard depth < 64 else { throw error("nested too deeply") }
        guard index < bytes.count else { throw error("the file ends where a value should be") }
        let (l, c) = (line, column)
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [(key: String, line: Int, column: Int, value: JSONNode)] = []
            skipSpace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return JSONNode(value: .object(members), line: l, column: c)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a quoted key")
                }
                let (kl, kc) = (line, column)
                let key = try string()
                if members.contains(where: { $0.key == key }) { throw error("duplicate key \"\(key)\"") }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected ':' after \"\(key)\"")
                }
                index += 1
                skipSpace()
                members.append((key, kl, kc, try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("the file ends inside an object") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return JSONNode(value: .object(members), line: l, column: c)
                }
                throw error("expected ',' or '}' after the value of \"\(key)\"")
            }
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONNode] = []
            skipSpace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return JSONNode(value: .array(items), line: l, column: c)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("the file ends inside an array") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return JSONNode(value: .array(items), line: l, column: c)
                }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return JSONNode(value: .string(try string()), line: l, column: c)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            for (word, v) in [("true", JSONNode.Value.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if index + w.count <= bytes.count && Array(bytes[index..<(index + w.count)]) == w {
                    index += w.count
                    return JSONNode(value: v, line: l, column: c)
                }
            }
            throw error("unexpected word (strings need double quotes)")
        default:
            return JSONNode(value: .number(try number()), line: l, column: c)
        }
    }

    mutating func string() throws(AugmentError) -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b == 0x0A || b < 0x20 { throw error("unescaped control character in a string") }
            if b == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { break }
                let e = bytes[index + 1]
                index += 2
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                        let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
                    else { throw error("bad \\u escape") }
                    index += 4
                    out += Array(String(Unicode.Scalar(v).map(Character.init) ?? "\u{FFFD}").utf8)
                default: throw error("bad escape in a string")
                }
                continue
            }
            out.append(b)
            index += 1
        }
        throw error("the file ends inside a string")
    }

    mutating func number() throws(AugmentError) -> Double {
        let start = index
        while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !text.isEmpty, let v = Double(text), v.isFinite else {
            if text.isEmpty { throw error("unexpected character '\(Character(Unicode.Scalar(bytes[start])))'") }
            throw error("'\(text)' is not a number")
        }
        return v
    }
}
