import Foundation
import KestrelAnnotations
import KestrelData
import KestrelDetection
import KestrelGeometry
import KestrelNN
import KestrelTraining
import Testing
import _KestrelTestSupport

/// Post-processing against a slow, literal reading of SSD's inference rule.
@Suite struct PostprocessTests {
    /// Per class: softmax probabilities above the threshold, best `topK`, then greedy NMS by explicit pairwise
    /// IoU (suppress when IoU > threshold); all classes merged by score and cut to `keep`.
    func reference(scores: [Float], offsets: [Float], defaults: [BoxCXCYWH], classes c: Int, width: Double, height: Double,
                   options: PostprocessOptions) -> [DetectedObject] {
        let p = defaults.count
        var all: [DetectedObject] = []
        for cls in 1..<c {
            var cands: [(score: Double, box: BoxXYXY, index: Int)] = []
            for j in 0..<p {
                let row = (0..<c).map { Double(scores[j * c + $0]) }
                let denominator = row.map { Foundation.exp($0 - row.max()!) }.reduce(0, +)
                let prob = Foundation.exp(row[cls] - row.max()!) / denominator
                guard prob > options.scoreThreshold else { continue }
                let d = defaults[j]
                let (tx, ty, tw, th) = (Double(offsets[j * 4]), Double(offsets[j * 4 + 1]), Double(offsets[j * 4 + 2]),
                                        Double(offsets[j * 4 + 3]))
                let cx = d.cx + tx * 0.1 * d.width, cy = d.cy + ty * 0.1 * d.height
                let w = d.width * Foundation.exp(tw * 0.2), h = d.height * Foundation.exp(th * 0.2)
                let box = BoxXYXY(x1: max(0, (cx - w / 2) * width), y1: max(0, (cy - h / 2) * height),
                                  x2: min(width, (cx + w / 2) * width), y2: min(height, (cy + h / 2) * height))
                cands.append((prob, box, j))
            }
            cands.sort { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
            cands = Array(cands.prefix(options.topK))
            var kept: [(score: Double, box: BoxXYXY, index: Int)] = []
            for cand in cands {
                let overlaps = kept.contains { k in
                    let iw = max(0, min(k.box.x2, cand.box.x2) - max(k.box.x1, cand.box.x1))
                    let ih = max(0, min(k.box.y2, cand.box.y2) - max(k.box.y1, cand.box.y1))
                    let inter = iw * ih
                    let union = k.box.area + cand.box.area - inter
                    return union > 0 && inter / union > options.nmsThreshold
                }
                if !overlaps { kept.append(cand) }
            }
            all += kept.map { DetectedObject(box: $0.box, label: cls, score: $0.score) }
        }
        all.sort { $0.score > $1.score }
        return Array(all.prefix(options.keep))
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func matchesTheReference(seed: UInt64) throws {
        let ssd = try DetectorZoo.make("ssd_mobilenet", classes: 3, inputSize: 64, width: 0.25)
        let p = ssd.defaultBoxes.count, c = 4
        // Sparse confident logits and small offsets, so the threshold, top-k, NMS and keep all bite.
        var rng = SplitMix(seed: seed)
        var scores = [Float](repeating: 0, count: 2 * p * c), offsets = [Float](repeating: 0, count: 2 * p * 4)
        for i in scores.indices { scores[i] = Float(rng.uniform() * 2 - 1) + (rng.uniform() < 0.08 ? 4 : 0) }
        for i in offsets.indices { offsets[i] = Float(rng.uniform() * 4 - 2) }
        let options = PostprocessOptions(scoreThreshold: 0.3, topK: 12, nmsThreshold: 0.45, keep: 20)
        let sizes = [(width: 64, height: 64), (width: 90, height: 50)]
        let got = ssd.postprocess(scores: Tensor(shape: [2, p, c], scalars: scores),
                                  offsets: Tensor(shape: [2, p, 4], scalars: offsets), sizes: sizes, options: options)
        for img in 0..<2 {
            let want = reference(scores: Array(scores[(img * p * c)..<((img + 1) * p * c)]),
                                 offsets: Array(offsets[(img * p * 4)..<((img + 1) * p * 4)]), defaults: ssd.defaultBoxes,
                                 classes: c, width: Double(sizes[img].width), height: Double(sizes[img].height), options: options)
            #expect(got[img].count == want.count)
            #expect(want.count > 3 && want.count <= 20)
            for (g, w) in zip(got[img], want) {
                #expect(g.label == w.label)
                #expect(abs(g.score - w.score) < 1e-12)
                for (a, b) in [(g.box.x1, w.box.x1), (g.box.y1, w.box.y1), (g.box.x2, w.box.x2), (g.box.y2, w.box.y2)] {
                    #expect(abs(a - b) < 1e-9)
                }
            }
        }
    }

    @Test func classifierStartsAtTheBackgroundPrior() throws {
        let ssd = try DetectorZoo.make("ssd_mobilenet", classes: 4, inputSize: 64, width: 0.25)
        let biases = ssd.namedParameters().filter { $0.name.hasPrefix("head.classification_head") && $0.name.hasSuffix(".bias") }
        #expect(biases.count == 5)
        let expected = Float(Foundation.log(4.0 * 0.99 / 0.01))  // p(background) = 0.99 against 4 classes at 0
        for (_, b) in biases {
            for (i, v) in b.value.scalars.enumerated() { #expect(v == (i % 5 == 0 ? expected : 0)) }
        }
    }
}

/// The loader's SSD targets, read back: every positive default box decodes to a ground-truth box of its class.
@Suite struct DetectionLoaderTests {
    @Test func targetsDecodeToTheGroundTruth() throws {
        let root = Fixtures.dataset("shapes/train")
        var dataset = try COCO.readDataset(contentsOfFile: root + "/annotations.json").value
        dataset.images = Array(dataset.images.prefix(6))
        let ids = Set(dataset.images.map(\.id))
        dataset.annotations = dataset.annotations.filter { ids.contains($0.imageID) }
        let data = try DetectionData.load(dataset, imagesRoot: root + "/images").data
        let ssd = try DetectorZoo.make("ssd_mobilenet", classes: 4, inputSize: 64, width: 0.25)
        let norm = ImageNormalization(channels: 3, height: 64, width: 64, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        let loader = DetectionLoader(data: data, ssd: ssd, normalization: norm, batchSize: 4, shuffle: false, seed: 0,
                                     epoch: 0, augmentation: nil)
        var seen = 0
        while let batch = try loader.next() {
            #expect(batch.images.shape == [batch.items.count, 3, 64, 64])
            let p = ssd.defaultBoxes.count
            for (slot, index) in batch.items.enumerated() {
                let item = data.items[index]
                // Ground truth normalised by the image size (the resize to 64x64 keeps normalised coordinates).
                let truth = zip(item.boxes, item.labels).map { ($0.normalized(width: Double(item.width), height: Double(item.height)), $1) }
                var matchedTruth = Set<Int>()
                for j in 0..<p where batch.targets.labels[slot * p + j] > 0 {
                    let o = (slot * p + j) * 4
                    let t = batch.targets.offsets
                    let box = BoxCoder().decode((Double(t[o]), Double(t[o + 1]), Double(t[o + 2]), Double(t[o + 3])),
                                                relativeTo: ssd.defaultBoxes[j]).xyxy
                    let label = batch.targets.labels[slot * p + j]
                    let k = truth.firstIndex { (g: BoxXYXY, l: Int) -> Bool in
                        let dx = max(abs(g.x1 - box.x1), abs(g.x2 - box.x2))
                        let dy = max(abs(g.y1 - box.y1), abs(g.y2 - box.y2))
                        return l == label && dx < 1e-5 && dy < 1e-5
                    }
                    #expect(k != nil, "default box \(j) of image \(item.imageID) decodes to \(box), no ground truth of class \(label)")
                    if let k { matchedTruth.insert(k) }
                }
                // Every object got at least its forced match.
                #expect(matchedTruth.count == truth.count)
                seen += 1
            }
        }
        #expect(seen == 6)
    }
}

/// Annotations that cannot be trained on: each reported with its image file, or skipped with a warning.
@Suite struct DetectionDataTests {
    func dataset() throws -> (DetectionDataset, String) {
        let root = Fixtures.dataset("shapes/train/images")
        let json = """
            {"images": [{"id": 1, "file_name": "000000.jpg", "width": 128, "height": 128},
                        {"id": 2, "file_name": "missing.jpg", "width": 128, "height": 128},
                        {"id": 3, "file_name": "000001.jpg"}],
             "categories": [{"id": 7, "name": "a"}, {"id": 3, "name": "b"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 10, 20, 20]},
                             {"id": 2, "image_id": 1, "category_id": 3, "bbox": [100, 100, 50, 50]},
                             {"id": 3, "image_id": 3, "category_id": 3, "bbox": [5, 5, 0, 10]},
                             {"id": 4, "image_id": 3, "category_id": 9, "bbox": [5, 5, 10, 10]},
                             {"id": 5, "image_id": 3, "category_id": 7, "bbox": [200, 200, 10, 10]},
                             {"id": 6, "image_id": 3, "category_id": 7, "bbox": [1, 2, 3, 4]}]}
            """
        return (try COCO.readDataset(Array(json.utf8), file: "bad.json").value, root)
    }

    @Test func stopNamesTheFirstProblem() throws {
        let (ds, root) = try dataset()
        #expect {
            _ = try DetectionData.load(ds, imagesRoot: root, policy: .stop)
        } throws: { error in
            let e = error as? DataError
            return e?.path == root + "/missing.jpg" && e?.message.contains("image 2") == true
                && e?.message.contains("--bad-annotations skip") == true
        }
    }

    @Test func skipLeavesOutWhatCannotBeUsed() throws {
        let (ds, root) = try dataset()
        let (data, warnings) = try DetectionData.load(ds, imagesRoot: root, policy: .skip)
        // Classes in category-id order: 3 → label 1 ("b"), 7 → label 2 ("a").
        #expect(data.classes == ["b", "a"] && data.categoryIDs == [3, 7])
        #expect(data.items.map(\.imageID) == [1, 3])
        #expect(data.items[0].labels == [2, 1])
        #expect(data.items[0].boxes[1] == BoxXYXY(x1: 100, y1: 100, x2: 128, y2: 128))  // clipped
        #expect(data.items[1].width == 128 && data.items[1].height == 128)  // read from the file
        #expect(data.items[1].labels == [2] && data.items[1].boxes == [BoxXYXY(x1: 1, y1: 2, x2: 4, y2: 6)])
        let text = warnings.joined(separator: "\n")
        for fragment in ["missing.jpg", "annotation 3", "annotation 4", "category 9", "annotation 5", "outside", "clipped"] {
            #expect(text.contains(fragment), "warnings lack \(fragment): \(text)")
        }
        // The ground truth used for evaluation holds the kept images only.
        #expect(data.groundTruth.images.map(\.id) == [1, 3])
        let split = data.split(validationFraction: 0.5, seed: 1)
        #expect(split.train.count == 1 && split.validation.count == 1)
        #expect(Set(split.train.items.map(\.imageID) + split.validation.items.map(\.imageID)) == [1, 3])
    }
}
