import ArgumentParser
import Dispatch
import KestrelAnnotations
import KestrelImage
import KestrelMetrics

struct BenchEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "COCO bbox evaluation speed, files to the 12 stats, in seconds per evaluation.",
        discussion: """
            Times the whole job `kestrel eval` does: read and parse the ground-truth and results files, evaluate,
            accumulate, summarize (the 'files to stats' record), and also parsing alone and evaluation alone. Use
            the files ../shared/anchors/map_eval.py writes (--data) so the figures sit beside pycocotools' and
            faster-coco-eval's from the same run: tools/bench_eval.sh does exactly that.
            """)

    @Option(help: "Ground-truth COCO JSON.")
    var gt: String

    @Option(help: "Results COCO JSON.")
    var dets: String

    @Option(help: "Threads: 1, or 0 for every core.")
    var threads = 0

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard threads == 0 || threads == 1 else { throw ValidationError("--threads must be 0 (all cores) or 1") }
    }

    func run() throws {
        let (truth, detections) = try loadBoth(gt: gt, dets: dets, format: .coco)
        let parallel = threads != 1
        let cores = parallel ? activeCores() : 1
        var params = COCOEvalParameters()
        params.threads = parallel ? nil : 1
        let first = try orExit { () throws(AnnotationError) in
            try COCOEvaluator.evaluate(groundTruth: truth, detections: detections, parameters: params)
        }
        let nCrowd = truth.annotations.filter(\.isCrowd).count
        let size = "\(truth.images.count) images, \(truth.annotations.count) GT (\(nCrowd) crowd), \(detections.count) dets, "
            + "\(truth.categories.count) cats"
        let statsJSON = JSON.array(first.stats.map { .double(round6($0)) })

        func once(_ body: () throws -> Void) throws -> [Double] {
            try options.guarded {
                try measure(repeats: options.repeats, minTime: 0) { try body() }
            }.0
        }
        var figures: [(String, [Double])] = []
        figures.append(("COCOeval bbox evaluate+accumulate+summarize", try once {
            // Files to stats: what `kestrel eval` does, including reading and parsing both files.
            let (t, d) = try loadPair(parallel: parallel)
            _ = try orExit { () throws(AnnotationError) in try COCOEvaluator.evaluate(groundTruth: t, detections: d, parameters: params) }
        }))
        figures.append(("parse GT + results JSON (files to memory)", try once { _ = try loadPair(parallel: parallel) }))
        figures.append(("parse results JSON only (file to memory)", try once {
            _ = try orExit { () throws(AnnotationError) in try COCO.readResults(contentsOfFile: dets, twoThreads: parallel) }
        }))
        figures.append(("evaluate+accumulate+summarize only (loaded)", try once {
            _ = try orExit { () throws(AnnotationError) in
                try COCOEvaluator.evaluate(groundTruth: truth, detections: detections, parameters: params)
            }
        }))
        for (work, seconds) in figures {
            let extra: [(String, JSON)] = [("includes_file_loading", .bool(!work.hasPrefix("evaluate+"))), ("stats", statsJSON)]
            if options.output.json {
                Console.out(benchRecord(suite: "map_eval", work: work, size: size, threads: cores, values: seconds, unit: "s",
                                        extra: extra, higherIsBetter: false).text)
            } else {
                Console.out("\(work) · \(size) · \(cores) thread(s): \(fixed(median(seconds), 3)) s (min \(fixed(seconds.min()!, 3)), max \(fixed(seconds.max()!, 3)))")
            }
        }
    }

    /// Reads and parses both files, on two threads unless `parallel` is false.
    func loadPair(parallel: Bool) throws -> (DetectionDataset, [Detection]) {
        if parallel { return try loadBoth(gt: gt, dets: dets, format: .coco) }
        let t = try orExit { () throws(AnnotationError) in try COCO.readDataset(contentsOfFile: gt) }
        let d = try orExit { () throws(AnnotationError) in try COCO.readResults(contentsOfFile: dets, twoThreads: false) }
        return (t.value, d)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Cores this process may use.
func activeCores() -> Int {
    #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    #else
        return 1
    #endif
}
