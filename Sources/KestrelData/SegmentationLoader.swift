import Foundation
import KestrelImage
import KestrelTensor

/// Turns a decoded image and its label map into the model's input pair (augment, resize). It must be
/// deterministic given `seed` and `index` and move the mask with the pixels (KestrelAugment's transforms do), so
/// batches are identical for any number of loader threads. The returned image must have the normalisation's
/// size; the mask may keep another size only for evaluation (see ``SegmentationBatch/masks``).
public typealias SegmentationPreparation =
    @Sendable (_ image: Image, _ mask: Image, _ seed: UInt64, _ index: Int) throws -> (image: Image, mask: Image)

/// A batch of images `[N, C, H, W]` with their label maps.
public struct SegmentationBatch: Sendable {
    public let images: Tensor
    /// The samples' label maps `[h, w, 1]` after preparation (class ids, 255 = ignore): at the input size when
    /// training; evaluation may keep them at the original size and compare upsampled predictions.
    public let masks: [Image]
    /// Indices of the samples in the dataset.
    public let indices: [Int]
    /// Files skipped because they could not be read (only with `skipUnreadable`).
    public let skipped: [DataError]

    /// Per-pixel targets for a loss over logits `[N, classes, H, W]`: the masks' labels, image after image,
    /// row-major (every mask must have the input size).
    public var targets: [Int] {
        var out: [Int] = []
        out.reserveCapacity(masks.reduce(0) { $0 + $1.pixels.count })
        for m in masks { out += m.pixels.lazy.map { Int($0) } }
        return out
    }
}

/// Decodes, prepares and stacks segmentation batches on background threads, a few batches ahead of the
/// consumer (a ``Prefetcher``, as ``BatchLoader`` uses for classification).
///
/// Order: batch k holds samples `order[k·B ..< (k+1)·B]`, where `order` is `0..<n` or, with `shuffle`, a
/// permutation drawn from (seed, epoch). Each sample is prepared with a seed derived from (seed, epoch) and its
/// index, so an epoch's batches are the same for any number of `workers`, on every run, and from any
/// `startBatch`.
public final class SegmentationLoader: Sendable {
    public let dataset: SegmentationDataset
    public let batchSize: Int
    public let order: [Int]
    public let batchCount: Int
    private let prefetcher: Prefetcher<SegmentationBatch>

    public init(
        dataset: SegmentationDataset, batchSize: Int, normalization: ImageNormalization, shuffle: Bool, seed: UInt64,
        epoch: Int, startBatch: Int = 0, workers: Int = 1, prefetch: Int = 2, skipUnreadable: Bool = false,
        prepare: @escaping SegmentationPreparation
    ) {
        precondition(batchSize > 0 && workers > 0 && prefetch > 0)
        self.dataset = dataset
        self.batchSize = batchSize
        var order = Array(0..<dataset.count)
        if shuffle {
            var rng = SplitMix(seed: seed &+ UInt64(epoch) &* 0xA24B_AED4_963E_E407)
            order.shuffle(using: &rng)
        }
        self.order = order
        let batchCount = (dataset.count + batchSize - 1) / batchSize
        self.batchCount = batchCount
        let sampleSeed = seed ^ (UInt64(epoch) &* 0x9FB2_1C65_1E98_DF25)
        prefetcher = Prefetcher(count: batchCount, start: startBatch, workers: workers, prefetch: prefetch) { [order] k in
            SegmentationLoader.build(Array(order[(k * batchSize)..<min((k + 1) * batchSize, order.count)]), dataset: dataset,
                                     normalization: normalization, sampleSeed: sampleSeed, skipUnreadable: skipUnreadable,
                                     prepare: prepare)
        }
    }

    /// Stops the workers (batches being built are finished and dropped).
    public func cancel() { prefetcher.cancel() }

    /// The next batch in order, waiting for it if needed; nil after the last. A sample that cannot be read or
    /// prepared is an error naming its file, unless `skipUnreadable` (then it is left out and reported in
    /// ``SegmentationBatch/skipped``).
    public func nextBatch() throws(DataError) -> SegmentationBatch? { try prefetcher.next() }

    private static func build(_ members: [Int], dataset: SegmentationDataset, normalization: ImageNormalization,
                              sampleSeed: UInt64, skipUnreadable: Bool,
                              prepare: SegmentationPreparation) -> Result<SegmentationBatch, DataError> {
        var images: [Image] = [], masks: [Image] = [], kept: [Int] = [], skipped: [DataError] = []
        for index in members {
            do {
                let (image, mask) = try dataset.load(index, channels: normalization.channels)
                let prepared = try prepare(image, mask, sampleSeed, index)
                guard prepared.image.width == normalization.width, prepared.image.height == normalization.height else {
                    throw DataError("prepared image is \(prepared.image.width)x\(prepared.image.height), the model takes \(normalization.width)x\(normalization.height)")
                }
                images.append(prepared.image)
                masks.append(prepared.mask)
                kept.append(index)
            } catch {
                var e = (error as? DataError) ?? DataError("\(error)")
                if e.path == nil { e.path = dataset.samples[index].image }
                if !skipUnreadable { return .failure(e) }
                skipped.append(e)
            }
        }
        do {
            let tensor = try normalization.batch(images)
            return .success(SegmentationBatch(images: tensor, masks: masks, indices: kept, skipped: skipped))
        } catch {
            return .failure(error)
        }
    }
}
