import Foundation
import KestrelData
import KestrelFiles
import KestrelImage
import Testing
import _KestrelTestSupport

/// Image + label-map folders, COCO label maps, checks that name the file at fault, and the loader's determinism.
@Suite struct SegmentationDatasetTests {
    /// A folder pair: images/NAME.png (RGB, value = 40·label + 10, at most 255, in every channel) and masks/NAME.png (palette).
    static func makeFolders(_ dir: URL, samples: [(name: String, labels: [UInt8], width: Int, height: Int)],
                            extraImages: [String] = []) throws -> (images: String, masks: String) {
        let images = dir.appendingPathComponent("images").path, masks = dir.appendingPathComponent("masks").path
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: masks, withIntermediateDirectories: true)
        for s in samples {
            let rgb = s.labels.flatMap { l -> [UInt8] in let v = l == 255 ? 0 : UInt8(min(255, 40 * Int(l) + 10)); return [v, v, v] }
            try Image(width: s.width, height: s.height, channels: 3, pixels: rgb).write(toFile: images + "/\(s.name).png")
            try Image(width: s.width, height: s.height, channels: 1, pixels: s.labels)
                .write(toFile: masks + "/\(s.name).png", options: .png(PNGEncodeOptions(palette: Palette.voc)))
        }
        for name in extraImages {
            try Image(width: 4, height: 4, channels: 3, fill: 0).write(toFile: images + "/\(name).jpg")
        }
        return (images, masks)
    }

    static func labels(_ w: Int, _ h: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return (0..<(w * h)).map { _ in UInt8(rng.next() % 3) }
    }

    @Test func foldersPairByStem() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.makeFolders(dir, samples: [("b", Self.labels(5, 3, seed: 1), 5, 3), ("a", Self.labels(5, 3, seed: 2), 5, 3)],
                                                   extraImages: ["c", "d"])
        let (d, unpaired) = try SegmentationDataset.folders(images: images, masks: masks, classes: ["bg", "x", "y"])
        #expect(d.samples.map { ($0.image as NSString).lastPathComponent } == ["a.png", "b.png"])
        #expect(unpaired == 2)
        let (image, mask) = try d.load(1)
        #expect(image.width == 5 && image.height == 3 && image.channels == 3)
        #expect(mask.pixels == Self.labels(5, 3, seed: 1))
        let survey = try d.survey(workers: 2)
        let all = Self.labels(5, 3, seed: 1) + Self.labels(5, 3, seed: 2)
        #expect(survey.pixels[0] == all.filter { $0 == 0 }.count && survey.pixels[2] == all.filter { $0 == 2 }.count)
        #expect(survey.maxLabel == 2)
    }

    @Test func aMaskWithoutItsImageIsAnErrorNamingTheMask() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (images, masks) = try Self.makeFolders(dir, samples: [("a", Self.labels(4, 4, seed: 1), 4, 4)])
        try Image(width: 4, height: 4, channels: 1, fill: 0).write(toFile: masks + "/orphan.png")
        #expect {
            try SegmentationDataset.folders(images: images, masks: masks)
        } throws: { ($0 as? DataError)?.path?.hasSuffix("masks/orphan.png") == true }
        // Two images with one stem are ambiguous.
        try Image(width: 4, height: 4, channels: 3, fill: 0).write(toFile: images + "/a.jpg")
        #expect { try SegmentationDataset.files(byStemIn: images, extensions: ["png", "jpg"]) } throws: {
            ($0 as? DataError)?.message.contains("two files with the stem 'a'") == true
        }
    }

    @Test func aMaskOfAnotherSizeOrWithAnUnknownLabelNamesTheFile() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bad = Self.labels(4, 4, seed: 3)
        bad[5] = 7
        var ignored = Self.labels(4, 4, seed: 4)
        ignored[0] = 255
        let (images, masks) = try Self.makeFolders(dir, samples: [("ok", ignored, 4, 4), ("label", bad, 4, 4)])
        // A mask whose image has another size.
        try Image(width: 6, height: 4, channels: 3, fill: 0).write(toFile: images + "/size.png")
        try Image(width: 4, height: 4, channels: 1, fill: 0).write(toFile: masks + "/size.png")
        let d = try SegmentationDataset.folders(images: images, masks: masks, classes: ["a", "b", "c"]).dataset
        #expect(try d.load(1).mask.pixels[0] == 255)  // "ok": 255 is allowed
        #expect { try d.load(0) } throws: {
            let e = $0 as? DataError
            return e?.path?.hasSuffix("masks/label.png") == true && e?.message.contains("label 7") == true
        }
        #expect { try d.load(2) } throws: {
            let e = $0 as? DataError
            return e?.path?.hasSuffix("masks/size.png") == true && e?.message.contains("6x4") == true
        }
        #expect { try d.survey(workers: 2) } throws: { ($0 as? DataError)?.path?.hasSuffix("masks/label.png") == true }
    }

    @Test func medianFrequencyWeights() {
        // Class 0: 60 of 100 pixels (in both images); class 1: 30 of the 50 pixels of the one image it is in;
        // class 2: 10 of 100. Frequencies 0.6, 0.6, 0.1: median 0.6 → weights 1, 1, 6; class 3 absent → 0.
        var pixels = [Int](repeating: 0, count: 256), imagePixels = [Int](repeating: 0, count: 256)
        (pixels[0], pixels[1], pixels[2]) = (60, 30, 10)
        (imagePixels[0], imagePixels[1], imagePixels[2]) = (100, 50, 100)
        let w = SegmentationDataset.LabelSurvey(pixels: pixels, imagePixels: imagePixels).medianFrequencyWeights(classes: 4)
        #expect(w == [1, 1, 6, 0])
    }

    @Test func cocoLabelMapsPaintInOrderWithCrowdIgnored() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Image(width: 20, height: 10, channels: 3, fill: 0).write(toFile: dir.path + "/a.png")
        let json = """
            {"images": [{"id": 7, "file_name": "a.png"}],
             "categories": [{"id": 9, "name": "dog"}, {"id": 3, "name": "cat"}],
             "annotations": [
               {"id": 1, "image_id": 7, "category_id": 9, "bbox": [0, 0, 10, 10], "iscrowd": 0,
                "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
               {"id": 2, "image_id": 7, "category_id": 3, "bbox": [5, 0, 10, 10], "iscrowd": 0,
                "segmentation": {"size": [10, 20], "counts": [100, 50, 50]}},
               {"id": 3, "image_id": 7, "category_id": 3, "bbox": [15, 0, 5, 10], "iscrowd": 1,
                "segmentation": {"size": [10, 20], "counts": [170, 10, 20]}}]}
            """
        try json.write(toFile: dir.path + "/coco.json", atomically: true, encoding: .utf8)
        let d = try SegmentationDataset.coco(annotations: dir.path + "/coco.json", images: dir.path)
        #expect(d.classes == ["background", "cat", "dog"])  // categories by id: cat (3) = 1, dog (9) = 2
        let mask = try d.load(0).mask
        #expect(mask.width == 20 && mask.height == 10)
        // Column-major RLE: annotation 2 covers columns 10...14 (pixels 100..<150), crowd 3 covers column 17.
        for x in 0..<20 {
            let expected: UInt8 = x == 17 ? 255 : (10...14).contains(x) ? 1 : x < 10 ? 2 : 0
            for y in 0..<10 where mask.pixels[y * 20 + x] != expected {
                Issue.record("pixel (\(x), \(y)) is \(mask.pixels[y * 20 + x]), expected \(expected)")
            }
        }
        // A broken segmentation names the annotation.
        try json.replacingOccurrences(of: "[100, 50, 50]", with: "[100, 50]").write(toFile: dir.path + "/bad.json", atomically: true, encoding: .utf8)
        #expect { try SegmentationDataset.coco(annotations: dir.path + "/bad.json", images: dir.path) } throws: {
            ($0 as? DataError)?.message.contains("annotation 2") == true
        }
    }

    @Test func loaderBatchesAreTheSameForAnyWorkerCountAndFromAnyBatch() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = (0..<7).map { (name: "s\($0)", labels: Self.labels(6, 5, seed: UInt64($0)), width: 6, height: 5) }
        let (images, masks) = try Self.makeFolders(dir, samples: samples)
        let d = try SegmentationDataset.folders(images: images, masks: masks, classes: ["a", "b", "c"]).dataset
        let norm = ImageNormalization(channels: 3, height: 5, width: 6, mean: [0, 0, 0], std: [1, 1, 1])
        // A preparation that depends on (seed, index): it flips the pair when a hash says so.
        let prepare: SegmentationPreparation = { image, mask, seed, index in
            (seed &+ UInt64(index)) % 2 == 0 ? (image.oriented(2), mask.oriented(2)) : (image, mask)
        }
        func all(workers: Int, start: Int = 0) throws -> [SegmentationBatch] {
            let loader = SegmentationLoader(dataset: d, batchSize: 3, normalization: norm, shuffle: true, seed: 11, epoch: 2,
                                            startBatch: start, workers: workers, prepare: prepare)
            var out: [SegmentationBatch] = []
            while let b = try loader.nextBatch() { out.append(b) }
            return out
        }
        let one = try all(workers: 1), three = try all(workers: 3), resumed = try all(workers: 2, start: 1)
        #expect(one.count == 3 && one.map(\.indices.count) == [3, 3, 1])
        #expect(one.map(\.indices) == three.map(\.indices))
        #expect(one.map(\.images.scalars) == three.map(\.images.scalars) && one.map(\.masks) == three.map(\.masks))
        #expect(Array(one.dropFirst()).map(\.images.scalars) == resumed.map(\.images.scalars))
        #expect(Set(one.flatMap(\.indices)) == Set(0..<7))
        // Masks stay aligned with their images: pixel value 40·label + 10 in channel 0 (scaled by 1/255).
        for b in one {
            let targets = b.targets
            #expect(targets.count == b.indices.count * 30)
            for (k, t) in targets.enumerated() {
                let n = k / 30, p = k % 30
                let v = b.images[n, 0, p / 6, p % 6] * 255
                #expect(abs(v - Float(40 * t + 10)) < 0.01)
            }
        }
    }
}
