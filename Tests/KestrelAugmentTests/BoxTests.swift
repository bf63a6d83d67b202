import KestrelAugment
import KestrelGeometry
import KestrelImage
import Testing
import _KestrelTestSupport

/// Hand-checked box movements. Boxes are corner form in continuous pixel coordinates.
@Suite struct AugmentBoxTests {
    func sample(_ w: Int, _ h: Int, _ boxes: [BoxXYXY]) throws -> Sample {
        try Sample(
            image: try Image(width: w, height: h, channels: 3),
            boxes: boxes.enumerated().map { LabeledBox($0.element, label: $0.offset + 1, tag: 10 + $0.offset) })
    }

    func close(_ a: BoxXYXY, _ b: BoxXYXY, _ tolerance: Double = 1e-9) -> Bool {
        abs(a.x1 - b.x1) <= tolerance && abs(a.y1 - b.y1) <= tolerance && abs(a.x2 - b.x2) <= tolerance
            && abs(a.y2 - b.y2) <= tolerance
    }

    let box = BoxXYXY(x1: 10, y1: 20, x2: 30, y2: 40)

    @Test func flips() throws {
        var s = try sample(100, 50, [box])
        HorizontalFlip().apply((), to: &s)
        #expect(s.boxes[0].box == BoxXYXY(x1: 70, y1: 20, x2: 90, y2: 40))
        s = try sample(100, 50, [box])
        VerticalFlip().apply((), to: &s)
        #expect(s.boxes[0].box == BoxXYXY(x1: 10, y1: 10, x2: 30, y2: 30))
        #expect(s.boxes[0].label == 1 && s.boxes[0].tag == 10 && s.boxes[0].visibility == 1)
    }

    @Test func quarterTurns() throws {
        let expected: [Int: (BoxXYXY, Int, Int)] = [
            1: (BoxXYXY(x1: 20, y1: 70, x2: 40, y2: 90), 50, 100),  // (x, y) → (y, W − x)
            2: (BoxXYXY(x1: 70, y1: 10, x2: 90, y2: 30), 100, 50),  // (W − x, H − y)
            3: (BoxXYXY(x1: 10, y1: 10, x2: 30, y2: 30), 50, 100),  // (H − y, x)
        ]
        for (k, (b, w, h)) in expected {
            var s = try sample(100, 50, [box])
            try Rot90(turns: [k]).apply(k, to: &s)
            #expect(s.boxes[0].box == b, "k = \(k)")
            #expect(s.width == w && s.height == h, "k = \(k)")
        }
    }

    @Test func rotationBy90MatchesQuarterTurnForPixelsBoxesAndMasks() throws {
        let image = try TestImages.photo(width: 36, height: 36, seed: 4)
        let mask = try TestImages.labels(width: 36, height: 36, seed: 4)
        var a = try Sample(
            image: image, boxes: [LabeledBox(BoxXYXY(x1: 10, y1: 5, x2: 30, y2: 25), label: 1)], mask: mask)
        var b = a
        try Rotate().apply(90, to: &a)
        try Rot90(turns: [1]).apply(1, to: &b)
        #expect(a.image == b.image)
        #expect(a.mask == b.mask)
        #expect(close(a.boxes[0].box, b.boxes[0].box, 1e-9))
    }

    @Test func rotationGivesTheTightBoxAroundTheCorners() throws {
        // A centred 20×20 box turned 45° about the centre of a 100×100 image: half-diagonal 10√2.
        var s = try sample(100, 100, [BoxXYXY(x1: 40, y1: 40, x2: 60, y2: 60)])
        try Rotate().apply(45, to: &s)
        let r = 10 * 2.0.squareRoot()
        #expect(close(s.boxes[0].box, BoxXYXY(x1: 50 - r, y1: 50 - r, x2: 50 + r, y2: 50 + r), 1e-9))
        #expect(abs(s.boxes[0].visibility - 1) < 1e-12)

        // A corner box: its centre (10, 10) moves to (50 − 40√2, 50); the tight box is clipped at x = 0.
        s = try sample(100, 100, [BoxXYXY(x1: 0, y1: 0, x2: 20, y2: 20)])
        try Rotate().apply(45, to: &s)
        let cx = 50 - 40 * 2.0.squareRoot()
        #expect(close(s.boxes[0].box, BoxXYXY(x1: 0, y1: 50 - r, x2: cx + r, y2: 50 + r), 1e-9))
        #expect(abs(s.boxes[0].visibility - (cx + r) / (2 * r)) < 1e-12)
    }

    @Test func expandKeepsEveryCornerInside() throws {
        var s = try sample(80, 40, [BoxXYXY(x1: 0, y1: 0, x2: 80, y2: 40)])
        try Rotate(expand: true).apply(30, to: &s)
        // |80 cos 30| + |40 sin 30| = 89.28 → 90; |80 sin 30| + |40 cos 30| = 74.64 → 75.
        #expect(s.width == 90 && s.height == 75)
        #expect(abs(s.boxes[0].visibility - 1) < 1e-12)
        let b = s.boxes[0].box
        #expect(abs((b.x1 + b.x2) / 2 - 45) < 1e-9 && abs((b.y1 + b.y2) / 2 - 37.5) < 1e-9)
    }

    @Test func affineMovesBoxesWithTheDocumentedMatrix() throws {
        // Scale 0.5 about the centre (50, 25), then translate by (10, −5).
        var s = try sample(100, 50, [box])
        try Affine().apply(Affine.Parameters(tx: 10, ty: -5, scale: 0.5), to: &s)
        #expect(close(s.boxes[0].box, BoxXYXY(x1: 40, y1: 17.5, x2: 50, y2: 27.5)))
        // A pure shear along x by 45°: x' = x + (y − 25).
        s = try sample(100, 50, [box])
        try Affine().apply(Affine.Parameters(shearX: 45), to: &s)
        #expect(close(s.boxes[0].box, BoxXYXY(x1: 5, y1: 20, x2: 45, y2: 40), 1e-9))
    }

    @Test func cropsClipAndTrackVisibility() throws {
        var s = try sample(100, 100, [BoxXYXY(x1: 10, y1: 10, x2: 50, y2: 50)])
        try Crop(x: 30, y: 0, width: 40, height: 40).apply(PixelRect(x: 30, y: 0, width: 40, height: 40), to: &s)
        #expect(s.boxes[0].box == BoxXYXY(x1: 0, y1: 10, x2: 20, y2: 40))
        #expect(s.boxes[0].visibility == 600.0 / 1600.0)
        // The policy drops it at 0.4 and keeps it at 0.3; a box entirely outside is always dropped.
        var strict = try sample(
            100, 100, [BoxXYXY(x1: 10, y1: 10, x2: 50, y2: 50), BoxXYXY(x1: 80, y1: 80, x2: 90, y2: 90)])
        var loose = strict
        let crop = try Crop(x: 30, y: 0, width: 40, height: 40)
        var context = AugmentContext(random: AugmentRandom(seed: 0, index: 0), boxPolicy: BoxPolicy(minVisibility: 0.4))
        try crop.run(&strict, context: &context)
        #expect(strict.boxes.isEmpty)
        context.boxPolicy = BoxPolicy(minVisibility: 0.3)
        try crop.run(&loose, context: &context)
        #expect(loose.boxes.count == 1 && loose.boxes[0].tag == 10)
    }

    @Test func visibilityAccumulatesOverAPipeline() throws {
        // Two crops that each keep 60% of the box keep 36% of it: dropped by minVisibility 0.5 even though
        // each step alone would pass.
        let s = try sample(100, 100, [BoxXYXY(x1: 0, y1: 0, x2: 50, y2: 10)])
        let pipeline = Pipeline(
            [try Crop(x: 20, y: 0, width: 80, height: 100), try Crop(x: 12, y: 0, width: 68, height: 100)],
            boxPolicy: BoxPolicy(minVisibility: 0.5))
        #expect(try pipeline.augment(s, seed: 0, index: 0).boxes.isEmpty)
        let loose = Pipeline(pipeline.root.steps, boxPolicy: BoxPolicy(minVisibility: 0.3))
        let kept = try loose.augment(s, seed: 0, index: 0).boxes
        #expect(kept.count == 1 && abs(kept[0].visibility - 0.36) < 1e-12)
    }

    @Test func minAreaDropsSmallBoxes() throws {
        let s = try sample(100, 100, [BoxXYXY(x1: 0, y1: 0, x2: 4, y2: 4), BoxXYXY(x1: 0, y1: 0, x2: 5, y2: 5)])
        let kept = try Pipeline([try Resize(width: 100, height: 100)], boxPolicy: BoxPolicy(minArea: 20))
            .augment(s, seed: 0, index: 0).boxes
        #expect(kept.map(\.tag) == [11])
    }

    @Test func cutoutHidesBoxesCountingOverlapsOnce() throws {
        var s = try sample(100, 100, [BoxXYXY(x1: 10, y1: 10, x2: 50, y2: 50)])
        let holes = [PixelRect(x: 20, y: 20, width: 20, height: 20), PixelRect(x: 30, y: 30, width: 20, height: 20)]
        try Cutout().apply(Cutout.Parameters(rects: holes, key: 0), to: &s)
        // Union inside the box: 400 + 400 − 100 = 700 of 1600.
        #expect(abs(s.boxes[0].visibility - 900.0 / 1600.0) < 1e-12)
        #expect(s.boxes[0].box == BoxXYXY(x1: 10, y1: 10, x2: 50, y2: 50))  // the box itself stays
        #expect(s.image[25, 25, 0] == 0)
    }

    @Test func resizeAndPadMoveBoxes() throws {
        var s = try sample(100, 50, [box])
        try Resize(width: 50, height: 100).apply((), to: &s)
        #expect(s.boxes[0].box == BoxXYXY(x1: 5, y1: 40, x2: 15, y2: 80))
        s = try sample(100, 50, [box])
        try Pad(top: 3, bottom: 0, left: 7, right: 1).apply((), to: &s)
        #expect(s.boxes[0].box == BoxXYXY(x1: 17, y1: 23, x2: 37, y2: 43))
        #expect(s.width == 108 && s.height == 53)
    }

    @Test func randomResizedCropFollowsTorchvision() throws {
        // With scale and ratio pinned the crop is the whole image, resized.
        var s = try sample(80, 60, [box])
        let t = try RandomResizedCrop(width: 40, height: 30, scale: 1...1, ratio: (4.0 / 3)...(4.0 / 3))
        var context = AugmentContext(random: AugmentRandom(seed: 1, index: 0))
        let rect = t.sampleParameters(for: s, context: &context)
        #expect(rect == PixelRect(x: 0, y: 0, width: 80, height: 60))
        t.apply(rect, to: &s)
        #expect(s.boxes[0].box == BoxXYXY(x1: 5, y1: 10, x2: 15, y2: 20))
        // An impossible ratio falls back to the centred crop with the ratio clamped: 60 · 0.5 = 30 wide.
        let narrow = try RandomResizedCrop(width: 10, height: 10, scale: 1...1, ratio: 0.5...0.5)
        let big = try sample(80, 60, [])
        #expect(narrow.sampleParameters(for: big, context: &context) == PixelRect(x: 25, y: 0, width: 30, height: 60))
    }

    @Test(arguments: BoxEncoding.Form.allCases)
    func encodingsRoundTrip(form: BoxEncoding.Form) throws {
        for normalized in [false, true] {
            let encoding = BoxEncoding(form, normalized: normalized)
            let values = encoding.encode(box, width: 100, height: 50)
            let back = encoding.decode(values, width: 100, height: 50)
            #expect(close(back, box, 1e-12), "\(form) normalized \(normalized)")
        }
        // YOLO: centre (0.2, 0.6), size (0.2, 0.4) of a 100×50 image.
        let yolo = BoxEncoding.yolo.encode(box, width: 100, height: 50)
        #expect(
            abs(yolo.0 - 0.2) < 1e-12 && abs(yolo.1 - 0.6) < 1e-12 && abs(yolo.2 - 0.2) < 1e-12
                && abs(yolo.3 - 0.4) < 1e-12)
        let coco = BoxEncoding.coco.encode(box, width: 100, height: 50)
        #expect(coco.0 == 10 && coco.1 == 20 && coco.2 == 20 && coco.3 == 20)
    }
}
