import ArgumentParser

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Kestrel's speed (build with -c release; compare ratios with ../shared/anchors in one run).",
        subcommands: [BenchDecode.self, BenchEncode.self, BenchGEMM.self, BenchConv.self, BenchInfer.self, BenchTrain.self,
                      BenchNMS.self, BenchEval.self, BenchAugment.self])
}

/// Options shared by every benchmark.
struct BenchOptions: ParsableArguments {
    @Option(help: "Repetitions; the median is reported.")
    var repeats = 5

    @Option(help: "Minimum seconds per repetition (the work is repeated until it lasts this long).")
    var minTime = 0.2

    @Option(help: "A label for the input set, used in the JSON 'size' field (e.g. native, 1920x1080).")
    var label = "files"

    @Flag(help: "Measure at once instead of waiting for a quiet machine (see QuietGuard).")
    var noGuard = false

    @OptionGroup var output: OutputOptions

    /// Runs `measure` on a quiet machine unless --no-guard; returns its figures and the guard's report.
    func guarded<T>(_ measure: () throws -> T) rethrows -> (T, [(String, JSON)]) {
        if noGuard { return (try measure(), []) }
        let (value, report) = try QuietGuard().run(measure)
        return (value, report.extra)
    }

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard minTime >= 0 else { throw ValidationError("--min-time must not be negative") }
    }
}

/// Monotonic wall-clock seconds.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Seconds per call of `body`, one figure per repetition: each repetition calls `body` enough times to last
/// `minTime` (calibrated once after a warm-up call), as the anchor scripts' `time_call` does.
func measure(repeats: Int, minTime: Double, _ body: () throws -> Void) rethrows -> [Double] {
    try body()  // warm-up
    var inner = 1
    while true {
        let t0 = now()
        for _ in 0..<inner { try body() }
        let dt = now() - t0
        if dt >= minTime || inner >= 1 << 20 { break }
        inner = min(1 << 20, max(inner * 2, Int(Double(inner) * minTime / max(dt, 1e-9) * 1.1)))
    }
    var out: [Double] = []
    for _ in 0..<repeats {
        let t0 = now()
        for _ in 0..<inner { try body() }
        out.append((now() - t0) / Double(inner))
    }
    return out
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// One measurement, in the anchor scripts' keys (suite, tool, work, size, threads, median, unit, runs, min, max)
/// so `../shared/anchors/report.py` can put Kestrel beside the tools it is compared with.
func benchRecord(
    suite: String, work: String, size: String, threads: Int, values: [Double], unit: String,
    extra: [(String, JSON)] = [], higherIsBetter: Bool = true
) -> JSON {
    var pairs: [(String, JSON)] = [
        ("suite", .string(suite)), ("tool", .string("kestrel")), ("work", .string(work)), ("size", .string(size)),
        ("threads", .int(threads)), ("median", .double(round6(median(values)))), ("unit", .string(unit)),
        ("runs", .int(values.count)), ("min", .double(round6(values.min() ?? 0))),
        ("max", .double(round6(values.max() ?? 0))), ("higher_is_better", .bool(higherIsBetter)),
    ]
    if !extra.isEmpty { pairs.append(("extra", .object(extra))) }
    return .object(pairs)
}

func round6(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }
