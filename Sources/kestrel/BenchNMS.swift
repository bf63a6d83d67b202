import ArgumentParser
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import KestrelData
import KestrelGeometry
import KestrelImage

struct BenchNMS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nms",
        abstract: "Greedy NMS speed (IoU 0.5, one thread) on random or clustered scored boxes, in ms per call.",
        discussion: """
            Boxes are made like ../shared/anchors/nms.py makes them: 'random' puts N boxes of 16-128 px uniformly
            in a 1024x1024 image (most survive); 'clustered' jitters copies of N/100 objects (most are suppressed).
            With --from, the boxes are read instead from a file of little-endian float32 records
            (x1, y1, x2, y2, score), optionally followed by a file of the indices another tool kept (--expect,
            little-endian int64), so tools/bench_nms.sh can time Kestrel on exactly the anchors' boxes and check
            that it keeps the same ones.
            """)

    @Option(help: "Number of boxes: any count (the anchors use 1000, 10000, 50000).")
    var boxes = 10000

    @Option(help: "Box layout: random or clustered.")
    var layout = "random"

    @Option(help: "Read boxes from this float32 file instead of generating them.")
    var from: String?

    @Option(help: "Indices (int64) another tool kept on the --from boxes; reported as same_kept.")
    var expect: String?

    @Option(help: "IoU threshold.")
    var iou = 0.5

    @Option(help: "Seed for generated boxes.")
    var seed: UInt64 = 0

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard boxes > 0 else { throw ValidationError("--boxes must be positive") }
        guard layout == "random" || layout == "clustered" else {
            throw ValidationError("--layout must be random or clustered")
        }
        guard iou >= 0 && iou <= 1 else { throw ValidationError("--iou must be in [0, 1]") }
    }

    func run() throws {
        let (list, scores) = from == nil ? makeBoxes() : try readBoxes(from!)
        if from != nil && list.count != boxes { Console.error("note: \(from!) holds \(list.count) boxes") }
        let options = NMSOptions(iouThreshold: iou)
        var kept: [Int] = []
        let (seconds, guardInfo) = self.options.guarded {
            measure(repeats: self.options.repeats, minTime: self.options.minTime) {
                kept = NMS.greedy(list, scores: scores, options: options)
            }
        }
        var extra: [(String, JSON)] = [("kept", .int(kept.count))]
        if let expect {
            let other = try readIndices(expect)
            extra.append(("same_kept", .bool(Set(other) == Set(kept))))
            extra.append(("same_order", .bool(other == kept)))
        }
        let ms = seconds.map { $0 * 1e3 }
        let size = "\(list.count) boxes (\(layout)), IoU \(iou)"
        if self.options.output.json {
            Console.out(benchRecord(suite: "nms", work: "greedy NMS", size: size, threads: 1, values: ms, unit: "ms",
                                    extra: extra + guardInfo, higherIsBetter: false).text)
        } else {
            Console.out("greedy NMS · \(size): \(fixed(median(ms), 3)) ms (min \(fixed(ms.min()!, 3)), max \(fixed(ms.max()!, 3))), kept \(kept.count)")
        }
    }

    /// The anchors' distributions (nms.py `make_boxes`), drawn from Kestrel's own seeded generator.
    func makeBoxes() -> ([BoxXYXY], [Double]) {
        var rng = SplitMix(seed: seed)
        var out: [BoxXYXY] = []
        out.reserveCapacity(boxes)
        if layout == "random" {
            for _ in 0..<boxes {
                let w = rng.uniform(16, 128), h = rng.uniform(16, 128)
                let x = rng.uniform(0, 1024 - w), y = rng.uniform(0, 1024 - h)
                out.append(BoxXYXY(x1: x, y1: y, x2: x + w, y2: y + h))
            }
        } else {
            let k = max(10, boxes / 100)
            let objects = (0..<k).map { _ -> (Double, Double, Double, Double) in
                let w = rng.uniform(16, 128), h = rng.uniform(16, 128)
                return (rng.uniform(0, 1024 - w), rng.uniform(0, 1024 - h), w, h)
            }
            for _ in 0..<boxes {
                let o = objects[Int(rng.next() % UInt64(k))]
                let w = max(o.2 * (1 + 0.1 * rng.normal()), 2), h = max(o.3 * (1 + 0.1 * rng.normal()), 2)
                let x = o.0 + 0.1 * rng.normal() * o.2, y = o.1 + 0.1 * rng.normal() * o.3
                out.append(BoxXYXY(x1: x, y1: y, x2: x + w, y2: y + h))
            }
        }
        // Distinct scores: a random permutation of 0..<n, plus noise smaller than the gaps.
        var ranks = Array(0..<boxes)
        for i in stride(from: boxes - 1, to: 0, by: -1) { ranks.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let n = Double(boxes)
        return (out, ranks.map { Double($0) / n + rng.uniform(0, 0.5 / n) })
    }

    func readBoxes(_ path: String) throws -> ([BoxXYXY], [Double]) {
        let bytes = try readFile(path)
        guard bytes.count % 20 == 0 else {
            Console.error("error: \(path): \(bytes.count) bytes is not a whole number of 20-byte box records")
            throw ExitCode(1)
        }
        var list: [BoxXYXY] = [], scores: [Double] = []
        for r in stride(from: 0, to: bytes.count, by: 20) {
            let v = (0..<5).map { Double(float32(bytes, at: r + 4 * $0)) }
            list.append(BoxXYXY(x1: v[0], y1: v[1], x2: v[2], y2: v[3]))
            scores.append(v[4])
        }
        return (list, scores)
    }

    func readIndices(_ path: String) throws -> [Int] {
        let bytes = try readFile(path)
        var out: [Int] = []
        for o in stride(from: 0, to: bytes.count - bytes.count % 8, by: 8) {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[o + k]) << (8 * UInt64(k)) }
            out.append(Int(Int64(bitPattern: v)))
        }
        return out
    }

    func readFile(_ path: String) throws -> [UInt8] {
        do throws(ImageError) { return try FileIO.read(path) } catch {
            Console.error("error: \(error.at(path))")
            throw ExitCode(1)
        }
    }

    func float32(_ b: [UInt8], at o: Int) -> Float {
        var bits: UInt32 = 0
        for k in 0..<4 { bits |= UInt32(b[o + k]) << (8 * UInt32(k)) }
        return Float(bitPattern: bits)
    }
}

/// Uniform and normal draws from KestrelData's SplitMix64, for benchmark inputs.
extension SplitMix {
    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) * 0x1p-53
    }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(uniform(0, 1), 1e-300), v = uniform(0, 1)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
