import Foundation
import KestrelFiles

/// A checkpoint that cannot be read, written or loaded into a model.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String?
    public let message: String

    public init(_ message: String, path: String? = nil) {
        self.message = message
        self.path = path
    }

    public var description: String { path.map { "\($0): \(message)" } ?? message }
}

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
/// N, N bytes of JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}` (padded
/// with spaces to a multiple of 8), then the raw little-endian tensor bytes, offsets relative to their start.
///
/// Kestrel writes F32 tensors (I64 for integer buffers such as `num_batches_tracked`) and reads F32, F64, F16,
/// BF16 and the integer types, converting to Float32.
public enum Safetensors {
    /// An entry to write.
    public struct Entry: Sendable {
        public var name: String
        public var tensor: Tensor
        public var isInteger: Bool
        public init(_ name: String, _ tensor: Tensor, isInteger: Bool = false) {
            self.name = name
            self.tensor = tensor
            self.isInteger = isInteger
        }
    }

    /// A file's contents: tensors in file-offset order, and the metadata strings.
    public struct Contents: Sendable {
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]

        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    static let maxHeaderBytes = 100 << 20

    public static func encode(_ entries: [Entry], metadata: [String: String] = [:]) throws(CheckpointError) -> [UInt8] {
        var seen = Set<String>()
        var header: [String] = []
        var offset = 0
        for e in entries {
            guard seen.insert(e.name).inserted else { throw CheckpointError("tensor \(e.name) appears twice") }
            guard e.name != "__metadata__" else { throw CheckpointError("__metadata__ is reserved") }
            let bytes = e.tensor.count * (e.isInteger ? 8 : 4)
            let shape = e.tensor.shape.dims.map(String.init).joined(separator: ",")
            header.append("\(jsonString(e.name)):{\"dtype\":\"\(e.isInteger ? "I64" : "F32")\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            header.insert("\"__metadata__\":{\(pairs.joined(separator: ","))}", at: 0)
        }
        var json = Array(("{" + header.joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        for e in entries {
            e.tensor.withUnsafeBufferPointer { p in
                if e.isInteger {
                    for v in p {
                        var i = Int64(v.rounded()).littleEndian
                        withUnsafeBytes(of: &i) { out.append(contentsOf: $0) }
                    }
                } else {
                    for v in p {
                        var bits = v.bitPattern.littleEndian
                        withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                    }
                }
            }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(CheckpointError) -> Contents {
        guard bytes.count >= 8 else { throw CheckpointError("too short for a safetensors file (\(bytes.count) bytes)") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderBytes), Int(n) <= bytes.count - 8 else {
            throw CheckpointError("header length \(n) does not fit in a \(bytes.count)-byte file")
        }
        let headerEnd = 8 + Int(n)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw CheckpointError("header is not valid JSON: \(error.localizedDescription)")
        }
        guard let dict = object as? [String: Any] else { throw CheckpointError("header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let meta = dict["__metadata__"] {
            guard let m = meta as? [String: Any] else { throw CheckpointError("__metadata__ is not an object") }
            for (k, v) in m {
                guard let s = v as? String else { throw CheckpointError("__metadata__.\(k) is not a string") }
                metadata[k] = s
            }
        }
        let dataCount = bytes.count - headerEnd
        var entries: [(name: String, begin: Int, end: Int, tensor: Tensor)] = []
        for (name, value) in dict where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw CheckpointError("entry \(name) is not an object") }
            guard let dtype = info["dtype"] as? String, let size = elementSize(dtype) else {
                throw CheckpointError("entry \(name): unsupported dtype \(String(describing: info["dtype"]))")
            }
            guard let shapeAny = info["shape"] as? [Any], let shape = shapeAny.map({ $0 as? Int }) as? [Int],
                shape.allSatisfy({ $0 >= 0 })
            else { throw CheckpointError("entry \(name): bad shape") }
            guard let offs = info["data_offsets"] as? [Any], offs.count == 2, let begin = offs[0] as? Int,
                let end = offs[1] as? Int, begin >= 0, begin <= end, end <= dataCount
            else { throw CheckpointError("entry \(name): data_offsets outside the \(dataCount) data bytes") }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (r, o) = acc.0.multipliedReportingOverflow(by: d)
                return (r, acc.1 || o)
            }
            guard !overflow, count * size == end - begin else {
                throw CheckpointError("entry \(name): shape \(shape) of \(dtype) needs \(count * size) bytes, offsets give \(end - begin)")
            }
            let tensor = convert(bytes, from: headerEnd + begin, count: count, dtype: dtype, shape: Shape(shape))
            entries.append((name, begin, end, tensor))
        }
        entries.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.end < $1.end) }
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw CheckpointError("entries \(a.name) and \(b.name) overlap")
        }
        return Contents(tensors: entries.map { ($0.name, $0.tensor) }, metadata: metadata)
    }

    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to path: String) throws(CheckpointError) {
        let bytes: [UInt8]
        do { bytes = try encode(entries, metadata: metadata) } catch { throw CheckpointError(error.message, path: path) }
        do { try Files.writeAtomically(bytes, to: path) } catch { throw CheckpointError(error.message, path: path) }
    }

    public static func read(_ path: String) throws(CheckpointError) -> Contents {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, maxBytes: 1 << 34) } catch { throw CheckpointError(error.message, path: path) }
        do { return try decode(bytes) } catch { throw CheckpointError(error.message, path: path) }
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": 8
        case "F32", "I32", "U32": 4
        case "F16", "BF16", "I16", "U16": 2
        case "I8", "U8", "BOOL": 1
        default: nil
        }
    }

    static func convert(_ b: [UInt8], from start: Int, count: Int, dtype: String, shape: Shape) -> Tensor {
        func u(_ i: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            return v
        }
        return Tensor(shape: shape) { d in
            let size = elementSize(dtype)!
            for i in 0..<count {
                let o = start + i * size
                switch dtype {
                case "F32": d[i] = Float(bitPattern: UInt32(u(o, 4)))
                case "F64": d[i] = Float(Double(bitPattern: u(o, 8)))
                case "F16": d[i] = halfToFloat(UInt16(u(o, 2)))
                case "BF16": d[i] = Float(bitPattern: UInt32(u(o, 2)) << 16)
                case "I64": d[i] = Float(Int64(bitPattern: u(o, 8)))
                case "U64": d[i] = Float(u(o, 8))
                case "I32": d[i] = Float(Int32(bitPattern: UInt32(u(o, 4))))
                case "U32": d[i] = Float(UInt32(u(o, 4)))
                case "I16": d[i] = Float(Int16(bitPattern: UInt16(u(o, 2))))
                case "U16": d[i] = Float(UInt16(u(o, 2)))
                case "I8": d[i] = Float(Int8(bitPattern: b[o]))
                default: d[i] = Float(b[o])  // U8, BOOL
                }
            }
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

extension Module {
    /// Parameters then buffers with their dotted names: PyTorch's state-dict keys.
    public func stateDict() -> [Safetensors.Entry] {
        namedParameters().map { Safetensors.Entry($0.name, $0.parameter.value) }
            + namedBuffers().map { Safetensors.Entry($0.name, $0.buffer.value, isInteger: $0.buffer.isInteger) }
    }

    /// Copies tensors into the parameters and buffers with the same names. Shapes must match. With `strict`,
    /// every parameter and buffer must be present and no unknown name may appear (as PyTorch's
    /// `load_state_dict(strict=True)`); without, missing ones keep their values and unknown ones are ignored.
    /// Nothing is changed when an error is thrown.
    public func load(stateDict: [(name: String, tensor: Tensor)], strict: Bool = true) throws(CheckpointError) {
        var byName: [String: Tensor] = [:]
        for (n, t) in stateDict { byName[n] = t }
        let params = namedParameters(), buffers = namedBuffers()
        let known = Set(params.map(\.name) + buffers.map(\.name))
        if strict {
            let missing = known.subtracting(byName.keys).sorted()
            let unexpected = Set(byName.keys).subtracting(known).sorted()
            if !missing.isEmpty || !unexpected.isEmpty {
                var parts: [String] = []
                if !missing.isEmpty { parts.append("missing \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? " and \(missing.count - 5) more" : "")") }
                if !unexpected.isEmpty { parts.append("unexpected \(unexpected.prefix(5).joined(separator: ", "))\(unexpected.count > 5 ? " and \(unexpected.count - 5) more" : "")") }
                throw CheckpointError("state dict does not match the model: " + parts.joined(separator: "; "))
            }
        }
        for (n, p) in params {
            if let t = byName[n], t.shape != p.shape {
                throw CheckpointError("\(n): checkpoint shape \(t.shape), model shape \(p.shape)")
            }
        }
        for (n, b) in buffers {
            if let t = byName[n], t.shape != b.value.shape {
                throw CheckpointError("\(n): checkpoint shape \(t.shape), model shape \(b.value.shape)")
            }
        }
        for (n, p) in params { if let t = byName[n] { p.value = t } }
        for (n, b) in buffers { if let t = byName[n] { b.value = t } }
    }

    /// Writes the state dict as a safetensors file, atomically.
    public func saveCheckpoint(to path: String, metadata: [String: String] = [:]) throws(CheckpointError) {
        try Safetensors.write(stateDict(), metadata: metadata, to: path)
    }

    /// Loads a safetensors state dict (see ``load(stateDict:strict:)``); returns the file's metadata.
    @discardableResult
    public func loadCheckpoint(from path: String, strict: Bool = true) throws(CheckpointError) -> [String: String] {
        let contents = try Safetensors.read(path)
        do { try load(stateDict: contents.tensors, strict: strict) } catch { throw CheckpointError(error.message, path: path) }
        return contents.metadata
    }
}

/// IEEE 754 binary16 → Float (portable: Float16 is missing on some platforms).
func halfToFloat(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = Float(h & 0x3FF)
    switch exponent {
    case 0: return sign * mantissa * 0x1p-24  // subnormal
    case 31: return mantissa == 0 ? sign * .infinity : .nan
    default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
}
