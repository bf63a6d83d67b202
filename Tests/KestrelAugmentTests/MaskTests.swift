import KestrelAugment
import KestrelGeometry
import KestrelImage
import Testing
import _KestrelTestSupport

/// Masks move with the pixels: an image whose every channel equals the label mask, transformed with nearest
/// interpolation and the same fill, must still equal its mask everywhere.
@Suite struct MaskTests {
    static func labelled(_ seed: UInt64, width: Int = 45, height: Int = 33) throws -> Sample {
        let mask = try TestImages.labels(width: width, height: height, seed: seed)
        let image = try mask.converted(toChannels: 3)
        return try Sample(image: image, mask: mask)
    }

    static let geometric: [(String, any Augmentation)] = {
        do {
            return [
                ("hflip", HorizontalFlip()), ("vflip", VerticalFlip()), ("rot90", try Rot90()),
                ("rotate", try Rotate(degrees: -180...180, interpolation: .nearest, fill: PixelFill(9), maskFill: 9)),
                ("rotate reflect", try Rotate(interpolation: .nearest, border: .reflect)),
                ("rotate expand", try Rotate(interpolation: .nearest, fill: PixelFill(9), maskFill: 9, expand: true)),
                (
                    "affine",
                    try Affine(
                        degrees: -20...20, translate: (0.2, 0.2), scale: 0.7...1.3, shearX: -15...15,
                        interpolation: .nearest, fill: PixelFill(9), maskFill: 9)
                ),
                ("random crop", try RandomCrop(width: 30, height: 50, fill: PixelFill(9), maskFill: 9)),
                ("random resized crop", try RandomResizedCrop(width: 20, height: 20, interpolation: .nearest)),
                ("resize", try Resize(width: 70, height: 20, interpolation: .nearest)),
                ("pad symmetric", try Pad(top: 5, bottom: 9, left: 40, right: 2, border: .symmetric)),
                ("pad constant", try Pad(fill: PixelFill(9), maskFill: 9)),
                ("cutout", try Cutout(holes: 3...5, fill: .constant(PixelFill(9)), maskFill: 9)),
                ("mosaic", try Mosaic(width: 50, height: 40, interpolation: .nearest)),
            ]
        } catch { return [] }
    }()

    @Test(arguments: [1, 2, 3] as [UInt64])
    func maskStaysAlignedWithPixels(seed: UInt64) throws {
        #expect(Self.geometric.count == 14)
        let partners = InMemoryPartners(try (10..<13).map { try Self.labelled($0, width: 20 + Int($0), height: 31) })
        for (name, t) in Self.geometric {
            let out = try t(try Self.labelled(seed), seed: seed, index: 0, partners: partners)
            let mask = try #require(out.mask, "\(name)")
            #expect(mask.width == out.width && mask.height == out.height, "\(name)")
            #expect(try out.image.converted(toChannels: 1) == mask, "\(name): mask and pixels disagree")
        }
    }

    @Test func newPixelsGetTheMaskFill() throws {
        var s = try Self.labelled(1)
        try Rotate().apply(45, to: &s)  // default mask fill: 255 (ignore)
        #expect(s.mask![0, 0, 0] == 255)
        #expect(s.image[0, 0, 0] == 0)
        var p = try Self.labelled(1)
        try Pad(top: 2, bottom: 0, left: 0, right: 0, maskFill: 7).apply((), to: &p)
        #expect(p.mask![3, 0, 0] == 7 && p.mask![3, 1, 0] == 7)
    }

    @Test func bilinearImagesStillGetNearestMasks() throws {
        var s = try Self.labelled(2)
        try Rotate().apply(17, to: &s)
        let values = Set(s.mask!.pixels)
        #expect(values.isSubset(of: [0, 1, 2, 3, 4, 5, 255]), "a mask was interpolated: \(values)")
        var r = try Self.labelled(2)
        try Resize(width: 91, height: 17, interpolation: .bilinear).apply((), to: &r)
        #expect(Set(r.mask!.pixels).isSubset(of: [0, 1, 2, 3, 4, 5]))
    }

    @Test func erasingWritesTheChosenLabel() throws {
        var s = try Self.labelled(3)
        try RandomErasing(maskFill: 42).apply(
            RandomErasing.Parameters(rect: PixelRect(x: 2, y: 3, width: 4, height: 5)), to: &s)
        for y in 3..<8 { for x in 2..<6 { #expect(s.mask![x, y, 0] == 42) } }
        #expect(s.mask![6, 3, 0] != 42 && s.mask![2, 8, 0] != 42)
    }

    @Test func photometricTransformsLeaveMasksAndBoxesAlone() throws {
        let base = try Sample(
            image: TestImages.photo(width: 30, height: 20, seed: 1),
            boxes: [LabeledBox(BoxXYXY(x1: 1, y1: 2, x2: 3, y2: 4), label: 2)],
            mask: TestImages.labels(width: 30, height: 20, seed: 1))
        let photometric: [any Augmentation] = [
            try Brightness(), try Contrast(), try BrightnessContrast(), try Saturation(), try Hue(),
            try HueSaturation(),
            try Gamma(), Grayscale(), try ColorJitter(), try GaussianNoise(), try GaussianBlur(),
        ]
        for t in photometric {
            let out = try t(base, seed: 3, index: 0)
            #expect(out.mask == base.mask && out.boxes == base.boxes, "\(type(of: t))")
            #expect(out.image != base.image, "\(type(of: t)) did nothing")
        }
    }
}
