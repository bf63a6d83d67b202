import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-line progress display on stderr when it is a terminal (rewritten in place with rate and ETA); silent
/// otherwise, so pipes and logs only get the results.
struct ProgressLine {
    let enabled = Console.stderrIsTerminal
    private var lastDraw = 0.0

    mutating func update(_ text: String, force: Bool = false) {
        guard enabled else { return }
        let t = now()
        guard force || t - lastDraw > 0.1 else { return }
        lastDraw = t
        Console.errorRaw("\r\u{1B}[2K" + text)
    }

    mutating func clear() {
        guard enabled else { return }
        Console.errorRaw("\r\u{1B}[2K")
    }

    /// "1:02:03" / "4:05".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3600, (s % 3600) / 60, s % 60)
        let mm = m < 10 && h > 0 ? "0\(m)" : "\(m)"
        let ss = r < 10 ? "0\(r)" : "\(r)"
        return h > 0 ? "\(h):\(mm):\(ss)" : "\(mm):\(ss)"
    }
}

/// Set by SIGINT; long commands check it between units of work, save their state and exit.
let interruptRequested = Atomic<Bool>(false)

/// Routes Ctrl-C to ``interruptRequested`` (a second Ctrl-C exits at once, status 130).
func installInterruptHandler() {
    signal(SIGINT) { _ in
        if interruptRequested.load(ordering: .relaxed) { _exit(130) }
        interruptRequested.store(true, ordering: .relaxed)
    }
}

extension Console {
    static func errorRaw(_ text: String) {
        var t = text
        t.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
    }
}
