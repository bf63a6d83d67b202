#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Guarding measurements against a shared machine, as the anchor scripts do (`common.guarded`): before a
/// measurement wait until other processes use less than `quietCores` of CPU; during it, measure how much CPU
/// the rest of the machine used; if that exceeds `quietCores`, measure again (up to `maxAttempts`) and keep
/// the quietest attempt. The figures go into each record's "extra" so a disturbed figure can be spotted.
/// Linux only (reads /proc); elsewhere it just runs the measurement.
struct QuietGuard {
    var quietCores = 0.25
    var maxAttempts = 3
    var maxWaitSeconds = 120.0

    struct Report {
        var othersCPU: Double
        var waitedSeconds: Double
        var attempts: Int

        var extra: [(String, JSON)] {
            [("others_cpu", .double(round6(othersCPU))), ("waited_s", .double((waitedSeconds * 10).rounded() / 10)),
             ("attempts", .int(attempts))]
        }
    }

    func run<T>(_ measure: () throws -> T) rethrows -> (T, Report) {
        var best: (T, Double, Double)? = nil
        var attempt = 0
        while attempt < maxAttempts {
            attempt += 1
            let waited = waitQuiet()
            let probe = Probe()
            let value = try measure()
            let others = probe.others()
            if best == nil || others < best!.1 { best = (value, others, waited) }
            if others < quietCores || !Probe.available { break }
        }
        return (best!.0, Report(othersCPU: best!.1, waitedSeconds: best!.2, attempts: attempt))
    }

    private func waitQuiet() -> Double {
        guard Probe.available else { return 0 }
        let t0 = now()
        while true {
            let p = Probe()
            usleep(500_000)
            if p.others() < quietCores || now() - t0 > maxWaitSeconds { return now() - t0 }
        }
    }

    /// CPU time used by everything but this process since the probe was made, in cores.
    struct Probe {
        static let available = readBusy() != nil
        let busy: Double
        let mine: Double
        let start: Double

        init() {
            busy = Probe.readBusy() ?? 0
            mine = Probe.readSelf()
            start = now()
        }

        func others() -> Double {
            let dt = max(now() - start, 1e-6)
            return max(0, ((Probe.readBusy() ?? busy) - busy - (Probe.readSelf() - mine)) / dt)
        }

        /// Seconds of non-idle CPU time of the whole machine (first line of /proc/stat).
        static func readBusy() -> Double? {
            guard let line = readFirstLine("/proc/stat") else { return nil }
            let v = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            guard v.count == 8 else { return nil }
            return (v.reduce(0, +) - v[3] - v[4]) / ticksPerSecond
        }

        /// Seconds of CPU time used by this process (all threads), from getrusage.
        static func readSelf() -> Double {
            var u = rusage()
            getrusage(RUSAGE_SELF_VALUE, &u)
            return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec)
                + Double(u.ru_stime.tv_usec) * 1e-6
        }

        static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

        static func readFirstLine(_ path: String) -> String? {
            guard let f = fopen(path, "r") else { return nil }
            defer { fclose(f) }
            var buffer = [CChar](repeating: 0, count: 512)
            guard fgets(&buffer, 512, f) != nil else { return nil }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

#if canImport(Glibc)
    private let RUSAGE_SELF_VALUE = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
    private let RUSAGE_SELF_VALUE = RUSAGE_SELF
#endif
