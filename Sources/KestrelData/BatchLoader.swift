import Dispatch
import Foundation
import KestrelImage
import KestrelTensor

/// Turns a decoded image into the model's input image (resize, crop, augment). It must be deterministic given
/// `seed` and `index`, so batches are identical for any number of loader threads.
public typealias ImagePreparation = @Sendable (_ image: Image, _ seed: UInt64, _ index: Int) throws -> Image

/// A batch of images `[N, C, H, W]` with their labels.
public struct Batch: Sendable {
    public let images: Tensor
    public let labels: [Int]
    /// Indices of the samples in the dataset.
    public let indices: [Int]
    /// Files skipped because they could not be read (only with `skipUnreadable`).
    public let skipped: [DataError]
}

/// Decodes and prepares batches on background threads, a few batches ahead of the consumer, so the cores that
/// are not training stay busy reading images.
///
/// Order: batch k holds samples `order[k·B ..< (k+1)·B]`, where `order` is `0..<n` or, with `shuffle`, a
/// permutation drawn from (seed, epoch). Each sample is prepared with a seed derived from (seed, epoch, index).
/// So the batches of an epoch are the same for any number of `workers` and on every run, and an epoch can be
/// resumed from any batch.
public final class BatchLoader: @unchecked Sendable {
    public let dataset: ClassificationDataset
    public let batchSize: Int
    public let order: [Int]
    public let batchCount: Int
    private var prefetcher: Prefetcher<Batch>!

    public init(
        dataset: ClassificationDataset, batchSize: Int, normalization: ImageNormalization, shuffle: Bool, seed: UInt64,
        epoch: Int, startBatch: Int = 0, workers: Int = 1, prefetch: Int = 2, skipUnreadable: Bool = false,
        prepare: @escaping ImagePreparation = { image, _, _ in image }
    ) {
        precondition(batchSize > 0)
        self.dataset = dataset
        self.batchSize = batchSize
        var shuffled = Array(0..<dataset.count)
        if shuffle {
            var rng = SplitMix(seed: seed &+ UInt64(epoch) &* 0xA24B_AED4_963E_E407)
            shuffled.shuffle(using: &rng)
        }
        let order = shuffled
        self.order = order
        self.batchCount = (dataset.count + batchSize - 1) / batchSize
        let sampleSeed = seed ^ (UInt64(epoch) &* 0x9FB2_1C65_1E98_DF25)
        let decode = DecodeOptions(channels: normalization.channels)
        prefetcher = Prefetcher(count: batchCount, start: startBatch, workers: workers, prefetch: prefetch) { k in
            let members = Array(order[(k * batchSize)..<min((k + 1) * batchSize, order.count)])
            var images: [Image] = [], labels: [Int] = [], kept: [Int] = [], skipped: [DataError] = []
            for index in members {
                let file = dataset.samples[index]
                do {
                    let image = try Image(contentsOfFile: file.path, options: decode)
                    images.append(try prepare(image, sampleSeed, index))
                    labels.append(file.label)
                    kept.append(index)
                } catch {
                    let e = DataError((error as? ImageError)?.message ?? "\(error)", path: file.path)
                    if !skipUnreadable { return .failure(e) }
                    skipped.append(e)
                }
            }
            do throws(DataError) {
                return .success(Batch(images: try normalization.batch(images), labels: labels, indices: kept, skipped: skipped))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Stops the workers.
    public func cancel() { prefetcher.cancel() }

    /// The next batch in order, waiting for it if needed; nil after the last one. A file that cannot be read is
    /// an error unless `skipUnreadable` (then it is left out of its batch and reported in ``Batch/skipped``).
    public func nextBatch() throws(DataError) -> Batch? { try prefetcher.next() }
}
