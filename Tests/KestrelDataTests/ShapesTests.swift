import Foundation
import KestrelData
import KestrelImage
import Testing
import _KestrelTestSupport

@Suite struct ShapesTests {
    func options() throws -> Shapes.Options {
        var o = Shapes.Options()
        o.photos = [try Image(contentsOfFile: Fixtures.dataset("photos/coffee.png"))]
        return o
    }

    @Test func scenesAreAPureFunctionOfSeedAndIndex() throws {
        let o = try options()
        let a = Shapes.scene(seed: 1, index: 5, options: o)
        let b = Shapes.scene(seed: 1, index: 5, options: o)
        let c = Shapes.scene(seed: 1, index: 6, options: o)
        #expect(a == b)
        #expect(a.image != c.image)
        if let dir = ProcessInfo.processInfo.environment["KESTREL_SHAPES_PREVIEW"] {
            for i in 0..<8 {
                let s = Shapes.scene(seed: 1, index: i, options: o)
                try s.image.write(toFile: "\(dir)/\(i).png")
                try s.mask.write(toFile: "\(dir)/\(i)_mask.png", options: .png(PNGEncodeOptions(palette: Palette.voc)))
            }
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func labelsBoxesAndAreasAgree(seed: UInt64) throws {
        let o = try options()
        for index in 0..<20 {
            let s = Shapes.scene(seed: seed, index: index, options: o)
            #expect((1...4).contains(s.instances.count))
            let labelled = s.mask.pixels.filter { $0 != 0 }.count
            #expect(labelled == s.instances.reduce(0) { $0 + $1.area })
            for inst in s.instances {
                #expect((1...4).contains(inst.classID))
                #expect(inst.area >= 15)
                // Every pixel inside the box that carries the class is accounted for, and the box is tight.
                let b = inst.box
                #expect(b.x1 >= 0 && b.y1 >= 0 && b.x2 <= 128 && b.y2 <= 128 && !b.isEmpty)
                #expect(inst.area <= Int(b.area))
            }
            #expect(s.mask.pixels.allSatisfy { $0 <= 4 })
        }
    }
}
