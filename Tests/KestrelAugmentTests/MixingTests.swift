import KestrelAugment
import KestrelGeometry
import KestrelImage
import Testing
import _KestrelTestSupport

@Suite struct MixingTests {
    func flat(
        _ value: UInt8, _ w: Int = 40, _ h: Int = 20, boxes: [BoxXYXY] = [], label: Int, classes: [Double]? = nil,
        maskValue: UInt8? = nil
    ) throws -> Sample {
        try Sample(
            image: try Image(width: w, height: h, channels: 3, fill: value),
            boxes: boxes.map { LabeledBox($0, label: label) },
            mask: try maskValue.map { try Image(width: w, height: h, channels: 1, fill: $0) }, softLabel: classes)
    }

    @Test func mixupBlendsPixelsKeepsBothBoxSetsAndMixesLabels() throws {
        var a = try flat(200, boxes: [BoxXYXY(x1: 1, y1: 1, x2: 5, y2: 5)], label: 1, classes: [1, 0], maskValue: 1)
        // The partner is twice as large: it is resized to 40×20 and its box scaled by ½.
        let b = try flat(
            100, 80, 40, boxes: [BoxXYXY(x1: 10, y1: 10, x2: 30, y2: 20)], label: 2, classes: [0, 1], maskValue: 2)
        try MixUp().apply(MixUp.Parameters(lambda: 0.25, partner: b), to: &a)
        #expect(Set(a.image.pixels) == [125])  // 0.25·200 + 0.75·100
        #expect(a.boxes.map(\.label) == [1, 2])
        #expect(a.boxes[1].box == BoxXYXY(x1: 5, y1: 5, x2: 15, y2: 10))
        #expect(a.softLabel == [0.25, 0.75])
        #expect(Set(a.mask!.pixels) == [2])  // the partner dominates
    }

    @Test func cutmixPastesPixelsMaskAndClippedBoxes() throws {
        var a = try flat(200, boxes: [BoxXYXY(x1: 0, y1: 0, x2: 20, y2: 20)], label: 1, classes: [1, 0], maskValue: 1)
        let b = try flat(
            50, boxes: [BoxXYXY(x1: 15, y1: 5, x2: 25, y2: 15), BoxXYXY(x1: 30, y1: 0, x2: 40, y2: 4)],
            label: 2, classes: [0, 1])
        let rect = PixelRect(x: 10, y: 0, width: 20, height: 10)
        try CutMix().apply(CutMix.Parameters(rect: rect, partner: b), to: &a)
        for y in 0..<20 {
            for x in 0..<40 {
                let inside = x >= 10 && x < 30 && y < 10
                #expect(a.image[x, y, 1] == (inside ? 50 : 200))
                #expect(a.mask![x, y, 0] == (inside ? 255 : 1))  // the partner has no mask: ignore
            }
        }
        // Own box: 100 of 400 px hidden. Partner boxes: the first is clipped to the rectangle (50 of 100 px
        // inside), the second lies outside it (visibility 0, dropped by the policy in a pipeline).
        #expect(a.boxes[0].visibility == 0.75)
        #expect(a.boxes[1].box == BoxXYXY(x1: 15, y1: 5, x2: 25, y2: 10) && a.boxes[1].visibility == 0.5)
        #expect(a.boxes[2].visibility == 0)
        #expect(a.softLabel == [0.75, 0.25])  // 200 of 800 px pasted
    }

    @Test func cutmixDropsInvisiblePartnerBoxesInAPipeline() throws {
        let a = try flat(200, label: 1)
        let b = try flat(50, boxes: [BoxXYXY(x1: 0, y1: 0, x2: 40, y2: 20)], label: 2)
        for seed in 0..<20 as Range<UInt64> {
            let out = try Pipeline([try CutMix()]).augment(a, seed: seed, index: 0, partners: InMemoryPartners([a, b]))
            for box in out.boxes {
                #expect(!box.box.isEmpty && box.visibility > 0)
                #expect(box.label == 2)
            }
        }
    }

    @Test func mosaicTilesFourImagesAroundTheCentre() throws {
        let tiles = try (0..<4).map {
            try flat(
                UInt8(10 * ($0 + 1)), 20, 10, boxes: [BoxXYXY(x1: 0, y1: 0, x2: 20, y2: 10)], label: $0,
                classes: [$0 == 0 ? 1 : 0, $0 == 0 ? 0 : 1], maskValue: UInt8($0))
        }
        var s = tiles[0]
        try Mosaic().apply(
            Mosaic.Parameters(cx: 10, cy: 5, width: 20, height: 10, partners: Array(tiles[1...])), to: &s)
        // Centre in the middle: every tile is scaled by ½ and fills its quadrant.
        #expect(s.width == 20 && s.height == 10)
        let quadrants = [(0, 0), (10, 0), (0, 5), (10, 5)]
        for (k, (qx, qy)) in quadrants.enumerated() {
            #expect(s.image[qx + 3, qy + 2, 0] == UInt8(10 * (k + 1)), "tile \(k)")
            #expect(s.mask![qx + 3, qy + 2, 0] == UInt8(k))
            #expect(s.boxes[k].box == BoxXYXY(x1: Double(qx), y1: Double(qy), x2: Double(qx + 10), y2: Double(qy + 5)))
            #expect(s.boxes[k].label == k)
        }
        #expect(s.softLabel == [0.25, 0.75])
    }

    @Test func mixingNeedsPartners() throws {
        let a = try flat(1, label: 0)
        #expect(throws: AugmentError.self) { try MixUp()(a) }
        do {
            _ = try CutMix()(a)
        } catch {
            #expect(error.description.contains("cutmix needs other samples"))
        }
    }

    @Test func partnerIsNeverTheSampleItself() throws {
        let samples = try (0..<3).map { try flat(UInt8($0 * 100), label: $0) }
        let partners = InMemoryPartners(samples)
        for seed in 0..<30 as Range<UInt64> {
            var context = AugmentContext(
                random: AugmentRandom(seed: seed, index: 1), partners: partners, sampleIndex: 1)
            let p = try MixUp().sampleParameters(for: samples[1], context: &context)
            #expect(p.partner.image.pixels[0] != 100)
        }
    }
}
