import KestrelGeometry
import Testing
import _KestrelTestSupport

@Suite struct BoxTests {
    @Test func conversionsByHand() {
        let b = BoxXYXY(x1: 10, y1: 20, x2: 40, y2: 80)
        #expect(b.xywh == BoxXYWH(x: 10, y: 20, width: 30, height: 60))
        #expect(b.cxcywh == BoxCXCYWH(cx: 25, cy: 50, width: 30, height: 60))
        #expect(BoxXYXY(b.xywh) == b)
        #expect(BoxXYXY(b.cxcywh) == b)
        #expect(b.area == 1800)
        #expect(b.normalized(width: 100, height: 200) == BoxXYXY(x1: 0.1, y1: 0.1, x2: 0.4, y2: 0.4))
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func roundTripsAreExactForDyadicCoordinates(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<200 {
            // Multiples of 1/4 keep every sum, difference and halving exact in Double.
            let x1 = Double(Int.random(in: -400...400, using: &rng)) / 4
            let y1 = Double(Int.random(in: -400...400, using: &rng)) / 4
            let b = BoxXYXY(x1: x1, y1: y1, x2: x1 + Double(Int.random(in: 0...400, using: &rng)) / 4,
                            y2: y1 + Double(Int.random(in: 0...400, using: &rng)) / 4)
            #expect(BoxXYXY(b.xywh) == b)
            #expect(BoxXYXY(b.cxcywh) == b)
        }
    }

    @Test func iouByHand() {
        let a = BoxXYXY(x1: 0, y1: 0, x2: 10, y2: 10)
        #expect(a.iou(a) == 1)
        #expect(a.iou(BoxXYXY(x1: 5, y1: 0, x2: 15, y2: 10)) == 50.0 / 150.0)
        #expect(a.iou(BoxXYXY(x1: 10, y1: 0, x2: 20, y2: 10)) == 0)  // touching edges share no area
        let empty = BoxXYXY(x1: 3, y1: 3, x2: 3, y2: 3)
        #expect(empty.iou(empty) == 0)  // zero union is defined as 0, not NaN
        #expect(empty.isEmpty && empty.area == 0)
        #expect(BoxXYXY(x1: 5, y1: 5, x2: 1, y2: 1).area == 0)  // reversed boxes have no area
    }

    @Test func clippingAndEnclosing() {
        let b = BoxXYXY(x1: -5, y1: 2, x2: 120, y2: 50).clipped(width: 100, height: 40)
        #expect(b == BoxXYXY(x1: 0, y1: 2, x2: 100, y2: 40))
        let outside = BoxXYXY(x1: 150, y1: 0, x2: 160, y2: 10).clipped(width: 100, height: 40)
        #expect(outside.isEmpty)
        #expect(BoxXYXY.enclosing([(x: 3.0, y: 4.0), (x: -1.0, y: 9.0), (x: 2.0, y: -2.0)]) == BoxXYXY(x1: -1, y1: -2, x2: 3, y2: 9))
        #expect(BoxXYXY.enclosing([]) == nil)
    }
}
