import KestrelImage

/// A line chart: several named series of (x, y) points on linear axes, with ticks, grid, title, axis labels and
/// a legend, rendered to a ``Canvas`` or written as PNG. Used for precision-recall curves and meant for training
/// curves (loss, accuracy against epochs) as well.
///
/// ```swift
/// var chart = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss")
/// chart.add(LineChart.Series(name: "train", points: [(1, 0.9), (2, 0.5), (3, 0.4)]))
/// try chart.writePNG(toFile: "loss.png")
/// ```
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        /// Points in data coordinates, drawn in order; non-finite points break the line.
        public var points: [(x: Double, y: Double)]
        /// Nil: the next palette colour.
        public var color: Color?
        /// Line width in pixels.
        public var thickness: Int

        public init(name: String, points: [(x: Double, y: Double)], color: Color? = nil, thickness: Int = 2) {
            self.name = name
            self.points = points
            self.color = color
            self.thickness = thickness
        }
    }

    public enum LegendPosition: Sendable {
        case topLeft, topRight, bottomLeft, bottomRight, none
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    /// Axis ranges; nil: from the data, widened to tick-friendly bounds.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var legend: LegendPosition = .topRight
    public var width = 640
    public var height = 480

    public init(title: String = "", xLabel: String = "", yLabel: String = "") {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    public mutating func add(_ s: Series) { series.append(s) }

    /// Draws the chart.
    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let left = 64, right = 18, top = title.isEmpty ? 14 : 34, bottom = xLabel.isEmpty ? 34 : 50
        let plotW = max(10, width - left - right), plotH = max(10, height - top - bottom)
        let (xr, xTicks) = Self.axis(xRange, series.flatMap { $0.points.map(\.x) })
        let (yr, yTicks) = Self.axis(yRange, series.flatMap { $0.points.map(\.y) })
        /// Data to pixels, clamped to ±100,000 px so far-away points keep their direction and never overflow Int.
        func pixel(_ v: Double) -> Int { Int(max(-100_000, min(100_000, v.rounded()))) }
        func px(_ x: Double) -> Int { left + pixel((x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(plotW - 1)) }
        func py(_ y: Double) -> Int { top + plotH - 1 - pixel((y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * Double(plotH - 1)) }

        // Grid, ticks and tick labels.
        let xDigits = Self.decimals(xTicks), yDigits = Self.decimals(yTicks)
        for t in xTicks {
            let x = px(t)
            canvas.fillRect(x: x, y: top, width: 1, height: plotH, .lightGray)
            canvas.fillRect(x: x, y: top + plotH, width: 1, height: 4, .black)
            let label = Self.label(t, xDigits)
            canvas.drawText(label, x: x - BitmapFont.width(label) / 2, y: top + plotH + 7, .black)
        }
        for t in yTicks {
            let y = py(t)
            canvas.fillRect(x: left, y: y, width: plotW, height: 1, .lightGray)
            canvas.fillRect(x: left - 4, y: y, width: 4, height: 1, .black)
            let label = Self.label(t, yDigits)
            canvas.drawText(label, x: left - 7 - BitmapFont.width(label), y: y - 3, .black)
        }
        canvas.strokeRect(x: left, y: top, width: plotW, height: plotH, .black)

        // Series, clipped to the plot area.
        canvas.clip = (left, top, left + plotW, top + plotH)
        for (i, s) in series.enumerated() {
            let color = s.color ?? Color.palette[i % Color.palette.count]
            var previous: (x: Int, y: Int)?
            for p in s.points {
                guard p.x.isFinite, p.y.isFinite else {
                    previous = nil
                    continue
                }
                let q = (x: px(p.x), y: py(p.y))
                if let a = previous { canvas.drawLine(from: a, to: q, color, thickness: s.thickness) } else {
                    canvas.drawLine(from: q, to: q, color, thickness: s.thickness)
                }
                previous = q
            }
        }
        canvas.clip = (0, 0, width, height)

        // Title and axis labels.
        if !title.isEmpty {
            let w = BitmapFont.width(title, scale: 2)
            canvas.drawText(title, x: max(2, (width - w) / 2), y: 8, .black, scale: w > width - 4 ? 1 : 2)
        }
        if !xLabel.isEmpty {
            canvas.drawText(xLabel, x: left + (plotW - BitmapFont.width(xLabel)) / 2, y: height - 16, .black)
        }
        if !yLabel.isEmpty {
            canvas.drawText(yLabel, x: 6, y: top + (plotH + BitmapFont.width(yLabel)) / 2, .black, vertical: true)
        }

        // Legend.
        let named = series.enumerated().filter { !$0.element.name.isEmpty }
        if legend != .none && !named.isEmpty {
            let rowH = 12, boxW = 26 + (named.map { BitmapFont.width($0.element.name) }.max() ?? 0)
            let boxH = named.count * rowH + 6
            let x = (legend == .topLeft || legend == .bottomLeft) ? left + 8 : left + plotW - boxW - 8
            let y = (legend == .topLeft || legend == .topRight) ? top + 8 : top + plotH - boxH - 8
            canvas.fillRect(x: x, y: y, width: boxW, height: boxH, .white)
            canvas.strokeRect(x: x, y: y, width: boxW, height: boxH, .gray)
            for (row, (i, s)) in named.enumerated() {
                let color = s.color ?? Color.palette[i % Color.palette.count]
                let cy = y + 6 + row * rowH + 3
                canvas.fillRect(x: x + 5, y: cy, width: 14, height: 2, color)
                canvas.drawText(s.name, x: x + 23, y: cy - 3, .black)
            }
        }
        return canvas
    }

    /// Renders and writes a PNG.
    public func writePNG(toFile path: String) throws(ImageError) {
        try render().writePNG(toFile: path)
    }

    /// The axis range (given, or from the data widened to ticks) and about five "nice" ticks (1, 2, 5 × 10^k).
    static func axis(_ given: ClosedRange<Double>?, _ values: [Double]) -> (ClosedRange<Double>, [Double]) {
        var lo: Double, hi: Double
        if let given, given.lowerBound.isFinite, given.upperBound.isFinite, given.upperBound > given.lowerBound {
            (lo, hi) = (given.lowerBound, given.upperBound)
        } else {
            let finite = values.filter(\.isFinite)
            lo = finite.min() ?? 0
            hi = finite.max() ?? 1
            if hi <= lo { (lo, hi) = (lo - 0.5, hi + 0.5) }
        }
        let step = niceStep((hi - lo) / 5)
        if given == nil {
            lo = (lo / step).rounded(.down) * step
            hi = (hi / step).rounded(.up) * step
        }
        var ticks: [Double] = []
        var t = (lo / step).rounded(.up) * step
        while t <= hi + step * 1e-9 && ticks.count < 50 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return (lo...hi, ticks)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        let f = raw / p
        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p
    }

    /// Decimals needed to tell the ticks apart.
    static func decimals(_ ticks: [Double]) -> Int {
        guard ticks.count > 1 else { return 1 }
        let step = abs(ticks[1] - ticks[0])
        var d = 0
        var s = step
        while d < 6 && (s - s.rounded()).magnitude > 1e-9 * max(1, s) {
            s *= 10
            d += 1
        }
        return d
    }

    static func label(_ v: Double, _ decimals: Int) -> String {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let r = (v * p).rounded() / p
        if decimals == 0 { return String(Int(r)) }
        var s = String(r)
        if s.contains("e") { return s }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let frac = parts.count > 1 ? String(parts[1]) : ""
        if frac.count < decimals { s = String(parts[0]) + "." + frac + String(repeating: "0", count: decimals - frac.count) }
        return s
    }
}
