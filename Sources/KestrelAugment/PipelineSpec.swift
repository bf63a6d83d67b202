#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// Pipeline files: JSON naming transforms in snake_case with their parameters (docs/augment.md lists them all).
//
//   {"transforms": [{"name": "hflip", "p": 0.5}, {"name": "rotate", "degrees": 30}, ...],
//    "boxes": {"min_visibility": 0.3, "min_area": 4}}
//
// Range parameters take [low, high] or one number, which means (per parameter, as documented):
//   ±x around 1 for factors (brightness, contrast, saturation, affine scale, gamma): [1 − x, 1 + x]
//   ±x around 0 for angles and shifts (rotate and hue degrees, shear, translate):     [−x, x]
//   exactly x for everything else (sizes, std, sigma, alpha, …):                    [x, x]

extension Pipeline {
    /// Parses a pipeline file's text. Errors name `file`, the line and column, and the path of the value.
    public init(json text: String, file: String = "") throws(AugmentError) {
        let root = try JSONNode.parse(text, file: file)
        var steps: JSONNode
        var policy = BoxPolicy()
        switch root.value {
        case .array:
            steps = root
        case .object(let members):
            var reader = ParameterReader(members: members, node: root, path: "", owner: "the pipeline", file: file)
            guard let list = reader.node("transforms") else {
                throw reader.error(at: root, "", "a pipeline needs \"transforms\": [ … ]")
            }
            steps = list
            if let boxes = reader.node("boxes") {
                guard case .object(let b) = boxes.value else {
                    throw reader.error(at: boxes, "boxes", "\"boxes\" must be an object, got \(boxes.kind)")
                }
                var r = ParameterReader(members: b, node: boxes, path: "boxes", owner: "boxes", file: file)
                policy.minVisibility = try r.double("min_visibility", default: 0, in: 0...1)
                policy.minArea = try r.double("min_area", default: 0, in: 0...1e12)
                try r.finish()
            }
            try reader.finish()
        default:
            throw AugmentError(
                .pipeline("a pipeline file holds an object {\"transforms\": [ … ]}, got \(root.kind)"),
                at: .init(file: file, line: root.line, column: root.column, path: ""))
        }
        self.init(try TransformRegistry.list(steps, path: "transforms", file: file), boxPolicy: policy)
    }

    /// Reads and parses a pipeline file.
    public init(contentsOfFile path: String) throws(AugmentError) {
        guard let f = fopen(path, "r") else {
            throw AugmentError(.io("\(path): cannot open: \(String(cString: strerror(errno)))"))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n > 0 { bytes += buffer[0..<n] }
            if n < buffer.count { break }
            if bytes.count > 16 << 20 { throw AugmentError(.io("\(path): over 16 MB; not a pipeline file")) }
        }
        try self.init(json: String(decoding: bytes, as: UTF8.self), file: path)
    }
}

/// Reads one JSON object's members as typed parameters, remembering which keys were asked for so unknown keys
/// (usually typos) are reported.
struct ParameterReader {
    let members: [(key: String, line: Int, column: Int, value: JSONNode)]
    let node: JSONNode
    let path: String
    let owner: String
    let file: String
    var known: [String] = []

    init(
        members: [(key: String, line: Int, column: Int, value: JSONNode)], node: JSONNode, path: String, owner: String,
        file: String
    ) {
        (self.members, self.node, self.path, self.owner, self.file) = (members, node, path, owner, file)
    }

    func error(at n: JSONNode, _ key: String, _ message: String) -> AugmentError {
        let p = key.isEmpty ? path : (path.isEmpty ? key : "\(path).\(key)")
        return AugmentError(
            .pipeline("\(owner): \(message)"), at: .init(file: file, line: n.line, column: n.column, path: p))
    }

    mutating func node(_ key: String) -> JSONNode? {
        known.append(key)
        return members.first { $0.key == key }?.value
    }

    /// Fails on keys nobody asked for, suggesting the closest known one.
    func finish() throws(AugmentError) {
        for m in members where !known.contains(m.key) {
            let suggestion = known.min { editDistance($0, m.key) < editDistance($1, m.key) }
            var message = "unknown parameter \"\(m.key)\""
            if let s = suggestion, editDistance(s, m.key) <= 3 { message += " (did you mean \"\(s)\"?)" }
            message += "; known: " + known.filter { $0 != "name" }.joined(separator: ", ")
            throw AugmentError(
                .pipeline("\(owner): \(message)"),
                at: .init(file: file, line: m.line, column: m.column, path: path.isEmpty ? m.key : "\(path).\(m.key)"))
        }
    }

    mutating func double(_ key: String, default value: Double, in limits: ClosedRange<Double>) throws(AugmentError)
        -> Double
    {
        guard let n = node(key) else { return value }
        guard case .number(let v) = n.value else {
            throw error(at: n, key, "\"\(key)\" must be a number, got \(n.kind)")
        }
        guard limits.contains(v) else {
            throw error(at: n, key, "\"\(key)\" must be within \(show(limits)), got \(show(v))")
        }
        return v
    }

    mutating func int(_ key: String, in limits: ClosedRange<Int>) throws(AugmentError) -> Int? {
        guard let n = node(key) else { return nil }
        guard case .number(let v) = n.value, v == v.rounded(), abs(v) < 1e15 else {
            throw error(
                at: n, key, "\"\(key)\" must be a whole number, got \(n.kind == "a number" ? "a fraction" : n.kind)")
        }
        guard limits.contains(Int(v)) else {
            throw error(
                at: n, key, "\"\(key)\" must be within \(limits.lowerBound)...\(limits.upperBound), got \(Int(v))")
        }
        return Int(v)
    }

    mutating func int(_ key: String, default value: Int, in limits: ClosedRange<Int>) throws(AugmentError) -> Int {
        try int(key, in: limits) ?? value
    }

    mutating func bool(_ key: String, default value: Bool) throws(AugmentError) -> Bool {
        guard let n = node(key) else { return value }
        guard case .bool(let v) = n.value else {
            throw error(at: n, key, "\"\(key)\" must be true or false, got \(n.kind)")
        }
        return v
    }

    /// How a single number is read for a range parameter.
    enum Single { case aroundOne, aroundZero, exact }

    mutating func range(
        _ key: String, default value: ClosedRange<Double>, single: Single, in limits: ClosedRange<Double>
    ) throws(AugmentError) -> ClosedRange<Double> {
        guard let n = node(key) else { return value }
        var lo: Double
        var hi: Double
        switch n.value {
        case .number(let x):
            switch single {
            case .aroundOne: (lo, hi) = (1 - x, 1 + x)
            case .aroundZero: (lo, hi) = (-x, x)
            case .exact: (lo, hi) = (x, x)
            }
            if single != .exact && x < 0 {
                throw error(at: n, key, "\"\(key)\" must not be negative (it means ±\(show(-x))), got \(show(x))")
            }
            if single == .aroundOne { lo = max(lo, limits.lowerBound) }
        case .array(let items):
            guard items.count == 2, case .number(let a) = items[0].value, case .number(let b) = items[1].value else {
                throw error(at: n, key, "\"\(key)\" must be a number or [low, high]")
            }
            guard a <= b else { throw error(at: n, key, "\"\(key)\": low \(show(a)) is above high \(show(b))") }
            (lo, hi) = (a, b)
        default:
            throw error(at: n, key, "\"\(key)\" must be a number or [low, high], got \(n.kind)")
        }
        guard limits.contains(lo), limits.contains(hi) else {
            throw error(at: n, key, "\"\(key)\" must lie within \(show(limits)), got [\(show(lo)), \(show(hi))]")
        }
        return lo...hi
    }

    mutating func intRange(_ key: String, default value: ClosedRange<Int>, in limits: ClosedRange<Int>)
        throws(AugmentError) -> ClosedRange<Int>
    {
        guard let n = node(key) else { return value }
        func whole(_ j: JSONNode) -> Int? {
            if case .number(let v) = j.value, v == v.rounded(), abs(v) < 1e9 { return Int(v) }
            return nil
        }
        var r: ClosedRange<Int>
        if let v = whole(n) {
            r = v...v
        } else if case .array(let items) = n.value, items.count == 2, let a = whole(items[0]), let b = whole(items[1]) {
            guard a <= b else { throw error(at: n, key, "\"\(key)\": low \(a) is above high \(b)") }
            r = a...b
        } else {
            throw error(at: n, key, "\"\(key)\" must be a whole number or [low, high], got \(n.kind)")
        }
        guard limits.contains(r.lowerBound), limits.contains(r.upperBound) else {
            throw error(at: n, key, "\"\(key)\" must lie within \(limits.lowerBound)...\(limits.upperBound)")
        }
        return r
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws(AugmentError) -> T
    where T.RawValue == String {
        guard let n = node(key) else { return value }
        let names = T.allCases.map(\.rawValue)
        guard case .string(let s) = n.value, let v = T(rawValue: s) else {
            throw error(
                at: n, key,
                "\"\(key)\" must be one of \(names.joined(separator: ", "))"
                    + (n.kind == "a string" ? "" : ", got \(n.kind)"))
        }
        return v
    }

    /// A fill: a number for every channel or [v1, …, v4] per channel, each 0...255.
    mutating func fill(_ key: String = "fill", default value: PixelFill = .black) throws(AugmentError) -> PixelFill {
        guard let n = node(key) else { return value }
        return try pixelFill(n, key)
    }

    func pixelFill(_ n: JSONNode, _ key: String) throws(AugmentError) -> PixelFill {
        func byte(_ j: JSONNode) -> UInt8? {
            if case .number(let v) = j.value, v == v.rounded(), (0...255).contains(v) { return UInt8(v) }
            return nil
        }
        if let v = byte(n) { return PixelFill(v) }
        if case .array(let items) = n.value, (1...4).contains(items.count) {
            var values: [UInt8] = []
            for item in items {
                guard let v = byte(item) else {
                    throw error(at: item, key, "fill values must be whole numbers 0...255")
                }
                values.append(v)
            }
            return try PixelFill(values)
        }
        throw error(at: n, key, "\"\(key)\" must be 0...255 or [r, g, b], got \(n.kind)")
    }

    mutating func eraseFill() throws(AugmentError) -> EraseFill {
        guard let n = node("fill") else { return .constant(.black) }
        if case .string(let s) = n.value {
            guard s == "random" else { throw error(at: n, "fill", "\"fill\" must be 0...255, [r, g, b] or \"random\"") }
            return .random
        }
        return .constant(try pixelFill(n, "fill"))
    }

    mutating func maskFill() throws(AugmentError) -> UInt8 {
        UInt8(try int("mask_fill", default: 255, in: 0...255))
    }

    mutating func side(_ key: String) throws(AugmentError) -> Int? {
        try int(key, in: 1...maxAugmentSide)
    }
}

func show(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}

func show(_ r: ClosedRange<Double>) -> String { "[\(show(r.lowerBound)), \(show(r.upperBound))]" }

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1...max(1, b.count) where !b.isEmpty {
            let saved = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = saved
        }
    }
    return row[b.count]
}

/// The transforms a pipeline file can name.
enum TransformRegistry {
    typealias Builder =
        @Sendable (inout ParameterReader, _ path: String, _ file: String) throws(AugmentError) -> any Augmentation

    /// Every name a pipeline file accepts (aliases included), in documentation order.
    static let names: [String] = entries.map(\.0)

    static let entries: [(String, Builder)] = [
        ("hflip", { _, _, _ in HorizontalFlip() }),
        ("vflip", { _, _, _ in VerticalFlip() }),
        (
            "rot90",
            { r, _, _ throws(AugmentError) in
                guard let n = r.node("k") else { return try Rot90() }
                if case .array(let items) = n.value {
                    var ks: [Int] = []
                    for item in items {
                        guard case .number(let v) = item.value, [0, 1, 2, 3].contains(v) else {
                            throw r.error(at: item, "k", "\"k\" values must be 0, 1, 2 or 3")
                        }
                        ks.append(Int(v))
                    }
                    do throws(AugmentError) { return try Rot90(turns: ks) } catch {
                        throw r.error(at: n, "k", error.message)
                    }
                }
                guard case .number(let v) = n.value, [0, 1, 2, 3].contains(v) else {
                    throw r.error(at: n, "k", "\"k\" must be 0, 1, 2, 3 or a list of them")
                }
                return try Rot90(turns: [Int(v)])
            }
        ),
        (
            "rotate",
            { r, _, _ throws(AugmentError) in
                try Rotate(
                    degrees: try r.range("degrees", default: -30...30, single: .aroundZero, in: -3600...3600),
                    interpolation: try geometricInterpolation(&r),
                    border: try r.choice("border", default: BorderMode.constant),
                    fill: try r.fill(), maskFill: try r.maskFill(), expand: try r.bool("expand", default: false))
            }
        ),
        (
            "affine",
            { r, _, _ throws(AugmentError) in
                let degrees = try r.range("degrees", default: 0...0, single: .aroundZero, in: -3600...3600)
                let translate = try r.range("translate", default: 0...0, single: .aroundZero, in: -1...1)
                let translateY = try r.range("translate_y", default: translate, single: .aroundZero, in: -1...1)
                let scale = try r.range("scale", default: 1...1, single: .aroundOne, in: 0.001...1000)
                let shear = try r.range("shear", default: 0...0, single: .aroundZero, in: -89...89)
                let shearY = try r.range("shear_y", default: 0...0, single: .aroundZero, in: -89...89)
                guard translate.lowerBound == -translate.upperBound, translateY.lowerBound == -translateY.upperBound
                else {
                    throw r.error(
                        at: r.node, "translate", "\"translate\" is a maximum fraction t (shifts are drawn from [−t, t])"
                    )
                }
                return try Affine(
                    degrees: degrees, translate: (translate.upperBound, translateY.upperBound), scale: scale,
                    shearX: shear,
                    shearY: shearY, interpolation: try geometricInterpolation(&r),
                    border: try r.choice("border", default: BorderMode.constant), fill: try r.fill(),
                    maskFill: try r.maskFill())
            }
        ),
        (
            "crop",
            { r, _, _ throws(AugmentError) in
                try Crop(
                    x: try r.int("x", in: -maxAugmentSide...maxAugmentSide),
                    y: try r.int("y", in: -maxAugmentSide...maxAugmentSide),
                    width: try r.side("width"), height: try r.side("height"), fill: try r.fill(),
                    maskFill: try r.maskFill())
            }
        ),
        (
            "random_crop",
            { r, _, _ throws(AugmentError) in
                try RandomCrop(
                    width: try r.side("width"), height: try r.side("height"), fill: try r.fill(),
                    maskFill: try r.maskFill())
            }
        ),
        (
            "random_resized_crop",
            { r, _, _ throws(AugmentError) in
                try RandomResizedCrop(
                    width: try r.side("width") ?? 224, height: try r.side("height") ?? 224,
                    scale: try r.range("scale", default: 0.08...1, single: .exact, in: 1e-6...1),
                    ratio: try r.range("ratio", default: (3.0 / 4)...(4.0 / 3), single: .exact, in: 1e-3...1e3),
                    interpolation: try r.choice("interpolation", default: Interpolation.bilinear))
            }
        ),
        (
            "resize",
            { r, _, _ throws(AugmentError) in
                let w = try r.side("width")
                let h = try r.side("height")
                return try Resize(
                    width: w == nil && h == nil ? 224 : w, height: w == nil && h == nil ? 224 : h,
                    interpolation: try r.choice("interpolation", default: Interpolation.bilinear))
            }
        ),
        (
            "pad",
            { r, _, _ throws(AugmentError) in
                let all = try r.int("padding", default: 8, in: 0...maxAugmentSide)
                return try Pad(
                    top: try r.int("top", default: all, in: 0...maxAugmentSide),
                    bottom: try r.int("bottom", default: all, in: 0...maxAugmentSide),
                    left: try r.int("left", default: all, in: 0...maxAugmentSide),
                    right: try r.int("right", default: all, in: 0...maxAugmentSide),
                    border: try r.choice("border", default: BorderMode.constant), fill: try r.fill(),
                    maskFill: try r.maskFill())
            }
        ),
        (
            "brightness",
            { r, _, _ throws(AugmentError) in
                try Brightness(factor: try r.range("factor", default: 0.8...1.2, single: .aroundOne, in: 0...100))
            }
        ),
        (
            "contrast",
            { r, _, _ throws(AugmentError) in
                try Contrast(factor: try r.range("factor", default: 0.8...1.2, single: .aroundOne, in: 0...100))
            }
        ),
        (
            "brightness_contrast",
            { r, _, _ throws(AugmentError) in
                try BrightnessContrast(
                    brightness: try r.range("brightness", default: 0.8...1.2, single: .aroundOne, in: 0...100),
                    contrast: try r.range("contrast", default: 0.8...1.2, single: .aroundOne, in: 0...100))
            }
        ),
        (
            "saturation",
            { r, _, _ throws(AugmentError) in
                try Saturation(factor: try r.range("factor", default: 0.7...1.3, single: .aroundOne, in: 0...100))
            }
        ),
        (
            "hue",
            { r, _, _ throws(AugmentError) in
                try Hue(degrees: try r.range("degrees", default: -20...20, single: .aroundZero, in: -360...360))
            }
        ),
        (
            "hue_saturation",
            { r, _, _ throws(AugmentError) in
                try HueSaturation(
                    hue: try r.range("hue", default: -20...20, single: .aroundZero, in: -360...360),
                    saturation: try r.range("saturation", default: 0.7...1.3, single: .aroundOne, in: 0...100))
            }
        ),
        (
            "gamma",
            { r, _, _ throws(AugmentError) in
                try Gamma(gamma: try r.range("gamma", default: 0.8...1.25, single: .aroundOne, in: 0.01...100))
            }
        ),
        ("grayscale", { _, _, _ in Grayscale() }),
        (
            "color_jitter",
            { r, _, _ throws(AugmentError) in
                func optional(
                    _ key: String, _ d: ClosedRange<Double>, _ s: ParameterReader.Single, _ l: ClosedRange<Double>
                )
                    throws(AugmentError) -> ClosedRange<Double>?
                {
                    let v = try r.range(key, default: d, single: s, in: l)
                    return v == (s == .aroundOne ? 1...1 : 0...0) ? nil : v
                }
                return try ColorJitter(
                    brightness: try optional("brightness", 0.8...1.2, .aroundOne, 0...100),
                    contrast: try optional("contrast", 0.8...1.2, .aroundOne, 0...100),
                    saturation: try optional("saturation", 0.8...1.2, .aroundOne, 0...100),
                    hue: try optional("hue", -18...18, .aroundZero, -360...360))
            }
        ),
        (
            "noise",
            { r, _, _ throws(AugmentError) in
                try GaussianNoise(
                    std: try r.range("std", default: 5...25, single: .exact, in: 0...255),
                    perChannel: try r.bool("per_channel", default: true))
            }
        ),
        (
            "blur",
            { r, _, _ throws(AugmentError) in
                try GaussianBlur(
                    kernel: try r.int("kernel", default: 0, in: 0...255),
                    sigma: try r.range("sigma", default: 0.1...2, single: .exact, in: 0.01...100))
            }
        ),
        (
            "cutout",
            { r, _, _ throws(AugmentError) in
                try Cutout(
                    holes: try r.intRange("holes", default: 1...2, in: 0...1000),
                    size: try r.range("size", default: 0.1...0.2, single: .exact, in: 0...1), fill: try r.eraseFill(),
                    maskFill: try r.maskFill())
            }
        ),
        (
            "random_erasing",
            { r, _, _ throws(AugmentError) in
                try RandomErasing(
                    scale: try r.range("scale", default: 0.02...0.33, single: .exact, in: 0...1),
                    ratio: try r.range("ratio", default: 0.3...3.3, single: .exact, in: 1e-3...1e3),
                    fill: try r.eraseFill(),
                    maskFill: try r.maskFill())
            }
        ),
        (
            "zoom_out",
            { r, _, _ throws(AugmentError) in
                try ZoomOut(
                    ratio: try r.range("ratio", default: 1...4, single: .exact, in: 1...16),
                    fill: try r.fill(default: PixelFill(124)), maskFill: try r.maskFill())
            }
        ),
        (
            "iou_crop",
            { r, _, _ throws(AugmentError) in
                try IoURandomCrop(minScale: try r.double("min_scale", default: 0.3, in: 0.01...1))
            }
        ),
        (
            "mixup",
            { r, _, _ throws(AugmentError) in try MixUp(alpha: try r.double("alpha", default: 1, in: 1e-3...1000)) }
        ),
        (
            "cutmix",
            { r, _, _ throws(AugmentError) in try CutMix(alpha: try r.double("alpha", default: 1, in: 1e-3...1000)) }
        ),
        (
            "mosaic",
            { r, _, _ throws(AugmentError) in
                try Mosaic(
                    width: try r.side("width"), height: try r.side("height"),
                    center: try r.range("center", default: 0.25...0.75, single: .exact, in: 0...1),
                    interpolation: try r.choice("interpolation", default: Interpolation.bilinear))
            }
        ),
        (
            "one_of",
            { r, path, file throws(AugmentError) in
                let choices = try nested(&r, path, file)
                var weights: [Double]? = nil
                if let n = r.node("weights") {
                    guard case .array(let items) = n.value, items.count == choices.count else {
                        throw r.error(
                            at: n, "weights",
                            "\"weights\" must be an array with one number per transform (\(choices.count))")
                    }
                    weights = []
                    for item in items {
                        guard case .number(let v) = item.value, v >= 0 else {
                            throw r.error(at: item, "weights", "weights must be non-negative numbers")
                        }
                        weights!.append(v)
                    }
                }
                do throws(AugmentError) { return try OneOf(choices, weights: weights) } catch {
                    throw r.error(at: r.node, "", error.message)
                }
            }
        ),
        (
            "some_of",
            { r, path, file throws(AugmentError) in
                let choices = try nested(&r, path, file)
                let n = try r.intRange("n", default: 1...choices.count, in: 0...choices.count)
                return try SomeOf(choices, count: n)
            }
        ),
        ("compose", { r, path, file throws(AugmentError) in Compose(try nested(&r, path, file)) }),
    ]

    static let aliases: [String: String] = [
        "horizontal_flip": "hflip", "vertical_flip": "vflip", "coarse_dropout": "cutout", "gaussian_noise": "noise",
        "gaussian_blur": "blur", "sequence": "compose",
    ]

    static func geometricInterpolation(_ r: inout ParameterReader) throws(AugmentError) -> Interpolation {
        let v = try r.choice("interpolation", default: Interpolation.bilinear)
        if v == .area, let n = r.node("interpolation") {
            throw r.error(
                at: n, "interpolation", "\"interpolation\" must be nearest or bilinear here (area is for resize)")
        }
        return v
    }

    static func nested(_ r: inout ParameterReader, _ path: String, _ file: String) throws(AugmentError)
        -> [any Augmentation]
    {
        guard let n = r.node("transforms") else {
            throw r.error(at: r.node, "", "needs \"transforms\": [ … ] to choose from")
        }
        let list = try self.list(n, path: path + ".transforms", file: file)
        guard !list.isEmpty else { throw r.error(at: n, "transforms", "\"transforms\" must not be empty") }
        return list
    }

    /// A JSON array of transform objects.
    static func list(_ n: JSONNode, path: String, file: String) throws(AugmentError) -> [any Augmentation] {
        guard case .array(let items) = n.value else {
            throw AugmentError(
                .pipeline("\"transforms\" must be an array of transforms, got \(n.kind)"),
                at: .init(file: file, line: n.line, column: n.column, path: path))
        }
        var out: [any Augmentation] = []
        for (i, item) in items.enumerated() { out.append(try transform(item, path: "\(path)[\(i)]", file: file)) }
        return out
    }

    /// One transform object: {"name": …, "p": …, parameters…}.
    static func transform(_ n: JSONNode, path: String, file: String) throws(AugmentError) -> any Augmentation {
        guard case .object(let members) = n.value else {
            throw AugmentError(
                .pipeline("a transform must be an object like {\"name\": \"hflip\"}, got \(n.kind)"),
                at: .init(file: file, line: n.line, column: n.column, path: path))
        }
        var r = ParameterReader(members: members, node: n, path: path, owner: "transform", file: file)
        guard let nameNode = r.node("name"), case .string(let given) = nameNode.value else {
            throw r.error(at: n, "", "a transform needs \"name\": \"…\" (one of \(names.joined(separator: ", ")))")
        }
        let name = aliases[given] ?? given
        guard let builder = entries.first(where: { $0.0 == name })?.1 else {
            let closest = (names + aliases.keys).min { editDistance($0, given) < editDistance($1, given) }!
            var message = "unknown transform \"\(given)\""
            if editDistance(closest, given) <= 3 { message += " (did you mean \"\(closest)\"?)" }
            throw r.error(at: nameNode, "name", message + "; known: " + names.joined(separator: ", "))
        }
        r = ParameterReader(members: members, node: n, path: path, owner: name, file: file)
        _ = r.node("name")
        let p = try r.double("p", default: 1, in: 0...1)
        let built: any Augmentation
        do {
            built = try builder(&r, path, file)
        } catch  where error.location == nil {
            throw r.error(at: n, "", error.message)  // a constructor's own check, placed at the transform
        }
        try r.finish()
        return p < 1 ? try RandomApply(built, p: p) : built
    }
}
