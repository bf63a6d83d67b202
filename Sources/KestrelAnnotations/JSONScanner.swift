// A streaming JSON scanner over bytes in memory: the parsers for COCO files walk the document with it and build
// their values directly, with no intermediate tree, parsing numbers in place. This is the one file of the
// module that holds a raw pointer; it is valid only inside `JSONScanner.scan(_:file:_:)`.
//
// Accepts RFC 8259 JSON plus what Python's `json` module writes and reads: the literals NaN, Infinity and
// -Infinity (callers reject them where a finite number is required), and duplicate keys (callers take the last,
// as Python does). A UTF-8 byte-order mark at the start is skipped. Strings must be valid UTF-8.
//
// Numbers are correctly rounded: a decimal mantissa of at most 19 digits that fits 2^53 with a power of ten
// up to 22 is converted with one exact multiplication or division (Clinger's fast path); anything else goes
// through the standard library's correctly rounded `Double(String)`.

import Dispatch

/// The bytes of a document shared read-only by two scanners on two threads during ``JSONScanner/scanInTwo``.
private struct SharedBytes: @unchecked Sendable {
    let base: UnsafePointer<UInt8>
    let count: Int
}

/// The two parts' results, each slot written by one thread, read after both finished.
private final class TwoResults<A, B>: @unchecked Sendable {
    var a: Result<A, AnnotationError>?
    var b: Result<B, AnnotationError>?
}

struct JSONScanner {
    private let base: UnsafePointer<UInt8>
    let count: Int
    private(set) var position: Int
    let file: String?
    /// Deepest nesting accepted (deeper input is refused instead of overflowing the stack).
    static let maxDepth = 512

    private init(base: UnsafePointer<UInt8>, count: Int, file: String?, position: Int = 0) {
        self.base = base
        self.count = count
        self.file = file
        self.position = position
        if position == 0 && count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { self.position = 3 }
    }

    /// Runs `first` on a scanner from the start and `second` on a scanner from `split`, at the same time on two
    /// threads, over the same bytes (read only). The caller decides whether the two parts fit together.
    static func scanInTwo<A: Sendable, B: Sendable>(
        _ bytes: [UInt8], file: String?, split: Int,
        _ first: @Sendable (inout JSONScanner) -> Result<A, AnnotationError>,
        _ second: @Sendable (inout JSONScanner) -> Result<B, AnnotationError>
    ) -> (Result<A, AnnotationError>, Result<B, AnnotationError>) {
        bytes.withUnsafeBufferPointer { buffer in
            let shared = SharedBytes(base: buffer.baseAddress!, count: buffer.count)
            let out = TwoResults<A, B>()
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                if i == 0 {
                    var s = JSONScanner(base: shared.base, count: shared.count, file: file)
                    out.a = first(&s)
                } else {
                    var s = JSONScanner(base: shared.base, count: shared.count, file: file, position: split)
                    out.b = second(&s)
                }
            }
            return (out.a!, out.b!)
        }
    }

    /// Searches forward from `from` for `}`, whitespace, `,`, whitespace, `{` and returns the comma's offset: in
    /// an array of objects without strings that contain this pattern, a boundary between two elements.
    static func likelyElementBoundary(_ bytes: [UInt8], from: Int) -> Int? {
        var i = from
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "}") {
                var j = i + 1
                while j < bytes.count && (bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09) { j += 1 }
                if j < bytes.count && bytes[j] == UInt8(ascii: ",") {
                    var k = j + 1
                    while k < bytes.count && (bytes[k] == 0x20 || bytes[k] == 0x0A || bytes[k] == 0x0D || bytes[k] == 0x09) { k += 1 }
                    if k < bytes.count && bytes[k] == UInt8(ascii: "{") { return j }
                }
            }
            i += 1
        }
        return nil
    }

    /// Runs `body` with a scanner over `bytes`; then requires that only whitespace follows what it read.
    static func scan<T>(
        _ bytes: [UInt8], file: String?, _ body: (inout JSONScanner) throws(AnnotationError) -> T
    ) throws(AnnotationError) -> T {
        let result: Result<T, AnnotationError> = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else {
                return .failure(AnnotationError(.syntax, "empty file", file: file))
            }
            var scanner = JSONScanner(base: base, count: buffer.count, file: file)
            return Result { () throws(AnnotationError) -> T in
                let value = try body(&scanner)
                scanner.skipWhitespace()
                if scanner.position < scanner.count {
                    throw scanner.error(.syntax, "unexpected \(scanner.describeByte()) after the end of the JSON value")
                }
                return value
            }
        }
        return try result.get()
    }

    /// The current byte (the caller has checked `position < count`).
    var currentByte: UInt8? { position < count ? base[position] : nil }

    // MARK: - Errors

    /// An error located at `offset` (default: the current position), with its line and column.
    func error(_ kind: AnnotationError.Kind, _ message: String, at offset: Int? = nil) -> AnnotationError {
        let end = min(offset ?? position, count)
        var line = 1, lineStart = 0
        for i in 0..<end where base[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        // Column in characters (UTF-8 continuation bytes do not start a character).
        var column = 1
        for i in lineStart..<end where base[i] & 0xC0 != 0x80 { column += 1 }
        return AnnotationError(kind, message, file: file, line: line, column: column)
    }

    func describeByte(at offset: Int? = nil) -> String {
        let p = offset ?? position
        guard p < count else { return "end of file" }
        let b = base[p]
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16)
    }

    // MARK: - Structure

    @inline(__always)
    mutating func skipWhitespace() {
        while position < count {
            let b = base[position]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            position += 1
        }
    }

    /// The next non-whitespace byte, not consumed; nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < count ? base[position] : nil
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: String) throws(AnnotationError) {
        skipWhitespace()
        guard position < count, base[position] == byte else {
            throw error(.syntax, "expected \(what), found \(describeByte())")
        }
        position += 1
    }

    /// The kind of the next value, for messages ("an object", "a number"…).
    mutating func nextValueKind() -> String {
        switch peek() {
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        case nil: "the end of the file"
        default: "a number"
        }
    }

    /// Consumes `[` (throwing `expectedWhat` otherwise); then call ``nextElement(first:)`` before each element.
    mutating func beginArray(_ expectedWhat: String = "an array") throws(AnnotationError) {
        guard peek() == UInt8(ascii: "[") else {
            throw error(.invalidValue, "expected \(expectedWhat), found \(nextValueKind())")
        }
        position += 1
    }

    /// True when another array element follows (consuming the comma before it), false at `]` (consumed).
    mutating func nextElement(first: Bool) throws(AnnotationError) -> Bool {
        guard let b = peek() else { throw error(.syntax, "unexpected end of file inside an array") }
        if b == UInt8(ascii: "]") {
            position += 1
            return false
        }
        if !first {
            guard b == UInt8(ascii: ",") else { throw error(.syntax, "expected ',' or ']', found \(describeByte())") }
            position += 1
            skipWhitespace()
            if position < count && base[position] == UInt8(ascii: "]") {
                throw error(.syntax, "trailing comma before ']'")
            }
        }
        return true
    }

    /// Consumes `{`; then call ``nextKey(first:)`` before each member.
    mutating func beginObject(_ expectedWhat: String = "an object") throws(AnnotationError) {
        guard peek() == UInt8(ascii: "{") else {
            throw error(.invalidValue, "expected \(expectedWhat), found \(nextValueKind())")
        }
        position += 1
    }

    /// The next member's key (and consumes the `:` after it), or nil at `}` (consumed).
    mutating func nextKey(first: Bool) throws(AnnotationError) -> Key? {
        guard let b = peek() else { throw error(.syntax, "unexpected end of file inside an object") }
        if b == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        if !first {
            guard b == UInt8(ascii: ",") else { throw error(.syntax, "expected ',' or '}', found \(describeByte())") }
            position += 1
        }
        guard peek() == UInt8(ascii: "\"") else {
            throw error(.syntax, first ? "expected a key or '}', found \(describeByte())" : "expected a key, found \(describeByte())")
        }
        let start = position + 1
        var p = start
        var escaped = false
        while p < count {
            let c = base[p]
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                escaped = true
                p += 1
            }
            p += 1
        }
        let key: Key
        if escaped {
            key = Key(start: start, end: start, decoded: try readString())
        } else {
            guard p < count else { throw error(.syntax, "unterminated string", at: position) }
            key = Key(start: start, end: p, decoded: nil)
            position = p + 1
        }
        try expect(UInt8(ascii: ":"), "':' after a key")
        return key
    }

    /// An object key, as raw bytes for allocation-free comparison (or decoded, when it had escapes).
    struct Key {
        let start: Int
        let end: Int
        let decoded: String?
    }

    /// The key as a string (validated UTF-8).
    func text(of key: Key) throws(AnnotationError) -> String {
        if let decoded = key.decoded { return decoded }
        return try utf8String(key.start, key.end)
    }

    /// True when `key` is exactly `name` (ASCII).
    @inline(__always)
    func key(_ key: Key, is name: StaticString) -> Bool {
        if let decoded = key.decoded { return decoded == name.description }
        let n = name.utf8CodeUnitCount
        guard key.end - key.start == n else { return false }
        let p = name.utf8Start
        for i in 0..<n where base[key.start + i] != p[i] { return false }
        return true
    }

    // MARK: - Scalars

    /// A JSON string, unescaped. Throws on invalid UTF-8, raw control characters and bad escapes.
    mutating func readString(_ what: String = "a string") throws(AnnotationError) -> String {
        guard peek() == UInt8(ascii: "\"") else {
            throw error(.invalidValue, "expected \(what), found \(nextValueKind())")
        }
        let open = position
        position += 1
        let start = position
        while position < count {
            let c = base[position]
            if c == UInt8(ascii: "\"") {
                let s = try utf8String(start, position)
                position += 1
                return s
            }
            if c == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if c < 0x20 { throw error(.syntax, "raw control character in a string (must be escaped)") }
            position += 1
        }
        throw error(.syntax, "unterminated string", at: open)
    }

    private func utf8String(_ start: Int, _ end: Int) throws(AnnotationError) -> String {
        let bytes = UnsafeBufferPointer(start: base + start, count: end - start)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw error(.syntax, "string is not valid UTF-8", at: start)
        }
        return s
    }

    private mutating func readEscapedString(from start: Int) throws(AnnotationError) -> String {
        var bytes = Array(UnsafeBufferPointer(start: base + start, count: position - start))
        while position < count {
            let c = base[position]
            if c == UInt8(ascii: "\"") {
                position += 1
                guard let s = String(validating: bytes, as: UTF8.self) else {
                    throw error(.syntax, "string is not valid UTF-8", at: start)
                }
                return s
            }
            if c < 0x20 { throw error(.syntax, "raw control character in a string (must be escaped)") }
            if c != UInt8(ascii: "\\") {
                bytes.append(c)
                position += 1
                continue
            }
            guard position + 1 < count else { break }
            let e = base[position + 1]
            position += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard position + 1 < count, base[position] == UInt8(ascii: "\\"), base[position + 1] == UInt8(ascii: "u") else {
                        throw error(.syntax, "unpaired UTF-16 surrogate in \\u escape")
                    }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error(.syntax, "unpaired UTF-16 surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error(.syntax, "unpaired UTF-16 surrogate in \\u escape") }
                bytes.append(contentsOf: String(Character(u)).utf8)
            default:
                throw error(.syntax, "invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: position - 2)
            }
        }
        throw error(.syntax, "unterminated string", at: start - 1)
    }

    private mutating func hex4() throws(AnnotationError) -> UInt32 {
        guard position + 4 <= count else { throw error(.syntax, "truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = base[position]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error(.syntax, "invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }

    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22,
    ]

    /// A number (or NaN / Infinity / -Infinity, which Python writes), correctly rounded to Double.
    /// `what` names the expected value in the message when the next token is not a number.
    mutating func readNumber(_ what: String = "a number") throws(AnnotationError) -> Double {
        skipWhitespace()
        let start = position
        var p = position
        var negative = false
        if p < count && base[p] == UInt8(ascii: "-") {
            negative = true
            p += 1
        }
        guard p < count else { throw error(.syntax, "unexpected end of file, expected \(what)") }
        let first = base[p]
        if first == UInt8(ascii: "N") || first == UInt8(ascii: "I") {
            if !negative && matches("NaN", at: p) {
                position = p + 3
                return .nan
            }
            if matches("Infinity", at: p) {
                position = p + 8
                return negative ? -.infinity : .infinity
            }
        }
        guard first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") else {
            if negative { throw error(.syntax, "'-' not followed by digits", at: start) }
            let isLiteral = matches("true", at: p) || matches("false", at: p) || matches("null", at: p)
            let isValueStart = first == UInt8(ascii: "\"") || first == UInt8(ascii: "[") || first == UInt8(ascii: "{")
            guard isLiteral || isValueStart else { throw error(.syntax, "unexpected \(describeByte())") }
            throw error(.invalidValue, "expected \(what), found \(nextValueKind())")
        }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits held in mantissa
        var exponent = 0
        var inexact = false  // digits beyond the 19 the mantissa holds
        if first == UInt8(ascii: "0") {
            p += 1
            if p < count && base[p] >= UInt8(ascii: "0") && base[p] <= UInt8(ascii: "9") {
                throw error(.syntax, "numbers may not have leading zeros", at: start)
            }
        } else {
            while p < count {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    digits += 1
                } else {
                    exponent += 1
                    if d != 0 { inexact = true }
                }
                p += 1
            }
        }
        if p < count && base[p] == UInt8(ascii: ".") {
            p += 1
            guard p < count, base[p] &- UInt8(ascii: "0") < 10 else {
                throw error(.syntax, "expected digits after the decimal point", at: p)
            }
            while p < count {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if mantissa == 0 && d == 0 {
                    exponent -= 1  // leading zeros of the fraction are not significant
                } else if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    digits += 1
                    exponent -= 1
                } else if d != 0 {
                    inexact = true
                }
                p += 1
            }
        }
        if p < count && (base[p] == UInt8(ascii: "e") || base[p] == UInt8(ascii: "E")) {
            p += 1
            var expNegative = false
            if p < count && (base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-")) {
                expNegative = base[p] == UInt8(ascii: "-")
                p += 1
            }
            guard p < count, base[p] &- UInt8(ascii: "0") < 10 else {
                throw error(.syntax, "expected digits in the exponent", at: p)
            }
            var e = 0
            while p < count {
                let d = base[p] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if e < 100_000 { e = e * 10 + Int(d) }
                p += 1
            }
            exponent += expNegative ? -e : e
        }
        position = p
        if !inexact && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            let m = Double(mantissa)
            let v = exponent >= 0 ? m * Self.exactPowersOfTen[exponent] : m / Self.exactPowersOfTen[-exponent]
            return negative ? -v : v
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: p - start), as: UTF8.self)
        guard let v = Double(text) else { throw error(.syntax, "invalid number", at: start) }
        return v
    }

    /// An integer (a JSON number with an integral value, such as `7` or `7.0`, within ±2^53).
    mutating func readInt(_ what: String = "an integer") throws(AnnotationError) -> Int {
        skipWhitespace()
        let start = position
        let v = try readNumber(what)
        guard v.isFinite, v == v.rounded(), abs(v) <= 9_007_199_254_740_992 else {
            throw error(.invalidValue, "expected \(what), found \(numberText(from: start))", at: start)
        }
        return Int(v)
    }

    /// `true`/`false`, or a number (0 false, anything else true), as COCO writes flags (`"iscrowd": 0`).
    mutating func readFlag(_ what: String) throws(AnnotationError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t") where matches("true", at: position):
            position += 4
            return true
        case UInt8(ascii: "f") where matches("false", at: position):
            position += 5
            return false
        default:
            let start = position
            let v = try readNumber(what)
            guard !v.isNaN else { throw error(.invalidValue, "expected \(what), found NaN", at: start) }
            return v != 0
        }
    }

    /// True (and consumed) when the next token is `null`.
    mutating func readNull() -> Bool {
        if peek() == UInt8(ascii: "n") && matches("null", at: position) {
            position += 4
            return true
        }
        return false
    }

    /// The source text of the number that starts at `start` (for messages).
    func numberText(from start: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: base + start, count: max(0, position - start)), as: UTF8.self)
    }

    private func matches(_ literal: StaticString, at p: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard p + n <= count else { return false }
        let l = literal.utf8Start
        for i in 0..<n where base[p + i] != l[i] { return false }
        return true
    }

    // MARK: - Skipping and capturing

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(AnnotationError) {
        guard depth < Self.maxDepth else { throw error(.syntax, "nesting deeper than \(Self.maxDepth) levels") }
        switch peek() {
        case UInt8(ascii: "{"):
            position += 1
            var first = true
            while try nextKey(first: first) != nil {
                first = false
                try skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            position += 1
            var first = true
            while try nextElement(first: first) {
                first = false
                try skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""):
            _ = try readString()
        case UInt8(ascii: "t") where matches("true", at: position):
            position += 4
        case UInt8(ascii: "f") where matches("false", at: position):
            position += 5
        case UInt8(ascii: "n") where matches("null", at: position):
            position += 4
        case nil:
            throw error(.syntax, "unexpected end of file, expected a value")
        default:
            _ = try readNumber("a value")
        }
    }

    /// Skips one value and returns its exact source text.
    mutating func captureValue() throws(AnnotationError) -> RawJSON {
        skipWhitespace()
        let start = position
        try skipValue()
        return RawJSON(String(decoding: UnsafeBufferPointer(start: base + start, count: position - start), as: UTF8.self))
    }
}
