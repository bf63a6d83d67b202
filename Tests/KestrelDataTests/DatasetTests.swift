import Foundation
import KestrelData
import KestrelImage
import KestrelFiles
import Testing
import _KestrelTestSupport

@Suite struct DatasetTests {
    @Test func digitsImageFolder() throws {
        let d = try ClassificationDataset.load(Fixtures.dataset("digits"))
        #expect(d.classes == (0...9).map(String.init))
        #expect(d.count == 1797)
        #expect(d.classCounts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    }

    @Test func splitIsStratifiedDeterministicAndDisjoint() throws {
        let d = try ClassificationDataset.load(Fixtures.dataset("digits"))
        let (a, b) = d.split(validationFraction: 0.2, seed: 7)
        let (a2, b2) = d.split(validationFraction: 0.2, seed: 7)
        let (_, b3) = d.split(validationFraction: 0.2, seed: 8)
        #expect(a == a2 && b == b2)
        #expect(b != b3)
        #expect(a.count + b.count == d.count)
        #expect(Set(a.samples).isDisjoint(with: Set(b.samples)))
        for (counts, total) in zip(b.classCounts, d.classCounts) { #expect(counts == Int((0.2 * Double(total)).rounded())) }
    }

    @Test func badFoldersAreClearErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // One class only.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("cat"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.path("images/png_rgb8.png"), toPath: dir.path + "/cat/a.png")
        #expect(throws: DataError.self) { try ClassificationDataset.load(dir.path) }
        // An empty class folder is named.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("dog"), withIntermediateDirectories: true)
        do {
            _ = try ClassificationDataset.load(dir.path)
            Issue.record("empty class accepted")
        } catch {
            #expect(error.path == dir.path + "/dog")
        }
        #expect(throws: DataError.self) { try ClassificationDataset.load("/nonexistent-kestrel") }
    }

    @Test func csvManifest() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("list.csv").path
        try Files.writeAtomically(text: "path,label\nimgs/a.png,cat\n\"imgs/b, with comma.png\",dog\nimgs/c.png,cat\n", to: csv)
        let d = try ClassificationDataset.load(csv)
        #expect(d.classes == ["cat", "dog"])
        #expect(d.samples.map(\.label) == [0, 1, 0])
        #expect(d.samples[1].path == dir.path + "/imgs/b, with comma.png")
        try Files.writeAtomically(text: "a.png,cat,extra\n", to: csv)
        do {
            _ = try ClassificationDataset.load(csv)
            Issue.record("bad line accepted")
        } catch {
            #expect(error.description.contains("line 1"))
        }
    }
}

@Suite struct LoaderTests {
    func loader(workers: Int, seed: UInt64 = 1, epoch: Int = 0, start: Int = 0) throws -> BatchLoader {
        let d = try ClassificationDataset.load(Fixtures.dataset("digits"))
        let small = ClassificationDataset(classes: d.classes, samples: Array(d.samples.prefix(200)))
        return BatchLoader(dataset: small, batchSize: 32, normalization: .centered(channels: 1, size: 8), shuffle: true,
                           seed: seed, epoch: epoch, startBatch: start, workers: workers,
                           prepare: { image, seed, index in
                               // A deterministic "augmentation": flip when (seed, index) says so.
                               (seed &+ UInt64(index)) % 2 == 0 ? image.oriented(2) : image
                           })
    }

    func all(_ l: BatchLoader) throws -> [Batch] {
        var out: [Batch] = []
        while let b = try l.nextBatch() { out.append(b) }
        return out
    }

    @Test func batchesAreIdenticalForAnyNumberOfWorkers() throws {
        let one = try all(loader(workers: 1)), three = try all(loader(workers: 3))
        #expect(one.count == 7)
        #expect(one.last!.labels.count == 200 - 6 * 32)
        for (a, b) in zip(one, three) {
            #expect(a.indices == b.indices)
            #expect(a.images.isIdentical(to: b.images))
        }
        #expect(Set(one.flatMap(\.indices)) == Set(0..<200))
    }

    @Test func epochsShuffleDifferentlyAndResumeMidEpoch() throws {
        let e0 = try all(loader(workers: 2, epoch: 0)), e1 = try all(loader(workers: 2, epoch: 1))
        #expect(e0.map(\.indices) != e1.map(\.indices))
        let resumed = try all(loader(workers: 2, epoch: 1, start: 4))
        #expect(resumed.map(\.indices) == e1.dropFirst(4).map(\.indices))
    }

    @Test func normalizationByHand() throws {
        let image = try Image(width: 2, height: 1, channels: 3, pixels: [0, 255, 51, 255, 0, 102])
        let n = ImageNormalization(channels: 3, height: 1, width: 2, mean: [0, 0.5, 0.2], std: [1, 0.5, 0.1])
        let t = try n.batch([image])
        #expect(t.shape == [1, 3, 1, 2])
        // channel-major: R (0, 1), G ((1−0.5)/0.5, (0−0.5)/0.5), B ((0.2−0.2)/0.1, (0.4−0.2)/0.1)
        let expected: [Double] = [0, 1, 1, -1, 0, 2]
        #expect(closeness(t.scalars, expected, atol: 1e-6, rtol: 1e-6).ok)
        #expect(throws: DataError.self) { try n.batch([try Image(width: 3, height: 1, channels: 3)]) }
    }

    @Test func unreadableFilesFailOrAreSkipped() throws {
        let bad = ClassificationDataset(classes: ["a", "b"], samples: [
            LabeledFile(path: Fixtures.dataset("digits/0/0000.png"), label: 0),
            LabeledFile(path: Fixtures.path("images/bad_truncated.png"), label: 1),
        ])
        let strict = BatchLoader(dataset: bad, batchSize: 2, normalization: .centered(channels: 1, size: 8), shuffle: false,
                                 seed: 0, epoch: 0)
        do {
            _ = try strict.nextBatch()
            Issue.record("a truncated file was accepted")
        } catch {
            #expect(error.path == Fixtures.path("images/bad_truncated.png"))
        }
        let lenient = BatchLoader(dataset: bad, batchSize: 2, normalization: .centered(channels: 1, size: 8), shuffle: false,
                                  seed: 0, epoch: 0, skipUnreadable: true)
        let b = try #require(try lenient.nextBatch())
        #expect(b.labels == [0])
        #expect(b.skipped.count == 1)
    }
}
