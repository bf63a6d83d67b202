import Foundation
import KestrelImage
import KestrelPlot
import Testing
import _KestrelTestSupport

@Suite struct PlotTests {
    @Test func fontCoversPrintableASCII() {
        var seen = Set<[UInt8]>()
        for v in UInt8(33)...UInt8(126) {
            let rows = BitmapFont.rows(Character(Unicode.Scalar(v)))
            #expect(rows.count == 7)
            #expect(rows.allSatisfy { $0 < 0x20 })
            #expect(rows.contains { $0 != 0 }, "glyph \(v) is blank")
            seen.insert(rows)
        }
        #expect(seen.count == 94)  // every visible glyph differs from every other
        #expect(BitmapFont.rows("é") == BitmapFont.rows("?"))
        #expect(BitmapFont.width("AB") == 11 && BitmapFont.width("AB", scale: 2) == 22)
    }

    @Test func textPixelsAreTheGlyphBits() {
        var c = Canvas(width: 20, height: 10)
        c.drawText("L", x: 2, y: 1, .black)
        var lit: [(Int, Int)] = []
        for y in 0..<10 { for x in 0..<20 where c.color(x, y) == .black { lit.append((x, y)) } }
        // "L": a vertical bar of 7 pixels at column 0 and a bottom row of 5.
        #expect(lit.count == 11)
        #expect(lit.allSatisfy { ($0.0 == 2 && (1...7).contains($0.1)) || ($0.1 == 7 && (2...6).contains($0.0)) })
        var v = Canvas(width: 10, height: 20)
        v.drawText("L", x: 1, y: 15, .black, vertical: true)  // rotated: the bar becomes a row
        #expect((0..<10).filter { v.color($0, 14) == .black }.count == 7)
    }

    @Test func linesRectanglesAndClipping() {
        var c = Canvas(width: 10, height: 10, background: .white)
        c.drawLine(from: (0, 0), to: (9, 9), .black)
        #expect((0..<10).allSatisfy { c.color($0, $0) == .black })
        #expect(c.color(1, 0) == .white)
        c.clip = (0, 0, 5, 10)
        c.drawLine(from: (0, 5), to: (9, 5), .black)
        #expect(c.color(4, 5) == .black && c.color(6, 5) == .white && c.color(8, 5) == .white)
        c.clip = (0, 0, 10, 10)
        c.strokeRect(x: -3, y: 8, width: 20, height: 20, .gray)  // partly outside: cut off, no crash
        #expect(c.color(0, 8) == .gray && c.color(9, 9) == .black)
    }

    @Test func niceTicksAndSeriesPlacement() throws {
        var chart = LineChart(title: "t", xLabel: "x", yLabel: "y")
        chart.xRange = 0...1
        chart.yRange = 0...1
        chart.legend = .none
        chart.add(LineChart.Series(name: "diag", points: [(0, 0), (1, 1)], color: Color(255, 0, 0), thickness: 1))
        let canvas = chart.render()
        // Plot area: x from 64 to 640−18, y from 34 to 480−50; the diagonal passes through its middle.
        let midX = 64 + (640 - 18 - 64 - 1) / 2, midY = 34 + (480 - 50 - 34 - 1) / 2
        let nearby = (-2...2).flatMap { dx in (-2...2).map { dy in canvas.color(midX + dx, midY + dy) } }
        #expect(nearby.contains(Color(255, 0, 0)))
        #expect(canvas.color(64 + 5, 34 + 5) != Color(255, 0, 0))  // the top-left corner stays clear
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("chart.png").path
        try chart.writePNG(toFile: path)
        let image = try Image(contentsOfFile: path)
        #expect(image.width == 640 && image.height == 480 && image.pixels == canvas.pixels)
    }

    @Test func autoRangesWidenToTicks() {
        var chart = LineChart()
        chart.add(LineChart.Series(name: "loss", points: [(1, 2.3), (2, 1.1), (3, 0.74), (4, .nan), (5, 0.5)]))
        chart.add(LineChart.Series(name: "", points: []))
        let canvas = chart.render()  // a NaN breaks the line; an empty series is fine
        #expect(canvas.width == 640)
        var flat = LineChart()
        flat.add(LineChart.Series(name: "c", points: [(0, 1), (1, 1)]))  // zero y-span is widened, not divided by
        _ = flat.render()
    }
}

@Suite struct PlotEdgeTests {
    @Test func hugeValuesAreClampedNotCrashing() {
        var chart = LineChart()
        chart.yRange = 0...1
        chart.add(LineChart.Series(name: "wild", points: [(0, 0.5), (1, 1e300), (2, -1e300), (3, 0.5)]))
        let canvas = chart.render()
        #expect(canvas.height == 480)
    }
}
