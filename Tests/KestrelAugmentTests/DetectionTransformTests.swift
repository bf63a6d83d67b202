import KestrelAugment
import KestrelGeometry
import KestrelImage
import Testing

@Suite struct DetectionTransformTests {
    func sample() throws -> Sample {
        let image = try Image(width: 100, height: 80, channels: 3, fill: 200)
        return try Sample(image: image, boxes: [LabeledBox(BoxXYXY(x1: 10, y1: 10, x2: 40, y2: 30), label: 1),
                                                LabeledBox(BoxXYXY(x1: 60, y1: 40, x2: 95, y2: 75), label: 2)])
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func zoomOutMovesBoxesWithTheImage(seed: UInt64) throws {
        let s = try sample()
        let out = try ZoomOut(ratio: 2...3)(s, seed: seed, index: 0)
        #expect(out.width >= 200 && out.width <= 300)
        // The original pixels sit somewhere on the canvas: find the offset from the first box and check both.
        let dx = out.boxes[0].box.x1 - 10, dy = out.boxes[0].box.y1 - 10
        #expect(out.boxes[1].box == BoxXYXY(x1: 60 + dx, y1: 40 + dy, x2: 95 + dx, y2: 75 + dy))
        #expect(out.image[Int(dx) + 50, Int(dy) + 50, 0] == 200)
        #expect(out.boxes.allSatisfy { $0.visibility == 1 })
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func iouCropKeepsBoxesWhoseCentresAreInside(seed: UInt64) throws {
        let s = try sample()
        let crop = try IoURandomCrop(thresholds: [0.1, 0.3])
        let out = try crop(s, seed: seed, index: 0)
        #expect(!out.boxes.isEmpty)
        #expect(out.width <= 100 && out.height <= 80)
        #expect(Double(out.width) >= 30 - 1 && Double(out.height) >= 24 - 1)
        for b in out.boxes {
            #expect(b.box.x1 >= 0 && b.box.y1 >= 0 && b.box.x2 <= Double(out.width) && b.box.y2 <= Double(out.height))
        }
        // An image without boxes, or a "keep the whole image" threshold, is left alone.
        let empty = try Sample(image: try Image(width: 10, height: 10, channels: 3))
        #expect(try crop(empty, seed: seed, index: 0).image == empty.image)
        #expect(try IoURandomCrop(thresholds: [1])(s, seed: seed, index: 0) == s)
    }
}
