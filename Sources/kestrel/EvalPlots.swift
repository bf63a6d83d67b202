import ArgumentParser
import KestrelImage
import KestrelMetrics
import KestrelPlot

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Precision-recall curves for `kestrel eval --plots DIR`: one PNG per class (`pr_<id>_<name>.png`) and one for
/// the mean over classes (`pr_all.png`).
extension Eval {
    func writePlots(coco r: COCOEvalResult, folder: String) throws {
        try makeFolder(folder)
        let p = r.parameters
        let recall = p.recallThresholds
        let last = p.maxDetections.count - 1
        let all = p.areaRanges.firstIndex { $0.label == "all" } ?? 0
        let t50 = p.iouThresholds.firstIndex(of: 0.5), t75 = p.iouThresholds.firstIndex(of: 0.75)
        /// Precision at each recall level for IoU index t over the given classes (mean of entries > −1).
        func curve(_ t: Int?, _ classes: [Int]) -> [(x: Double, y: Double)] {
            let ts = t.map { [$0] } ?? Array(0..<p.iouThresholds.count)
            return recall.indices.compactMap { ri in
                let v = ts.flatMap { t in classes.map { r.precision(t: t, r: ri, k: $0, a: all, m: last) } }.filter { $0 > -1 }
                return v.isEmpty ? nil : (recall[ri], v.reduce(0, +) / Double(v.count))
            }
        }
        func chart(_ title: String, _ classes: [Int]) -> LineChart {
            var c = LineChart(title: title, xLabel: "recall", yLabel: "precision")
            c.xRange = 0...1
            c.yRange = 0...1.05
            c.legend = .bottomLeft
            c.add(LineChart.Series(name: "IoU 0.50:0.95 (mean)", points: curve(nil, classes)))
            if let t50 { c.add(LineChart.Series(name: "IoU 0.50", points: curve(t50, classes))) }
            if let t75 { c.add(LineChart.Series(name: "IoU 0.75", points: curve(t75, classes))) }
            return c
        }
        var written = 0
        for (k, c) in r.perCategory.enumerated() where c.ap > -1 {
            let title = "\(c.name.isEmpty ? "class \(c.id)" : c.name): AP \(formatFixed(c.ap, 3)), AP50 \(formatFixed(c.ap50, 3))"
            try write(chart(title, [k]), folder, "pr_\(c.id)_\(safe(c.name)).png")
            written += 1
        }
        try write(chart("all classes: AP \(formatFixed(r.stats[0], 3)), AP50 \(formatFixed(r.stats[1], 3))",
                        Array(r.perCategory.indices)), folder, "pr_all.png")
        Console.error("wrote \(written + 1) precision-recall plots to \(folder)")
    }

    func writePlots(voc r: VOCEvalResult, folder: String) throws {
        try makeFolder(folder)
        var written = 0
        for c in r.perClass {
            guard let ap = c.ap else { continue }
            var chart = LineChart(title: "\(c.name): AP \(formatFixed(ap, 4))", xLabel: "recall", yLabel: "precision")
            chart.xRange = 0...1
            chart.yRange = 0...1.05
            chart.legend = .bottomLeft
            chart.add(LineChart.Series(name: "precision", points: zip(c.recall, c.precision).map { ($0, $1) }))
            // The interpolated curve AP integrates: the running maximum of precision from the right.
            var envelope = c.precision
            for i in stride(from: envelope.count - 2, through: 0, by: -1) { envelope[i] = max(envelope[i], envelope[i + 1]) }
            chart.add(LineChart.Series(name: "interpolated", points: zip(c.recall, envelope).map { ($0, $1) }, thickness: 1))
            try write(chart, folder, "pr_\(c.id)_\(safe(c.name)).png")
            written += 1
        }
        Console.error("wrote \(written) precision-recall plots to \(folder)")
    }

    private func write(_ chart: LineChart, _ folder: String, _ name: String) throws {
        let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
        do throws(ImageError) { try chart.writePNG(toFile: path) } catch {
            Console.error("error: \(error.at(path))")
            throw ExitCode(1)
        }
    }

    private func safe(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "_" }.prefix(40))
    }

    private func makeFolder(_ path: String) throws {
        var s = stat()
        if stat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFDIR { return }
        guard mkdir(path, 0o777) == 0 else {
            Console.error("error: \(path): cannot create folder: \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
    }
}
