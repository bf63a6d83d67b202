/// Anything that augments a sample: a single ``Transform`` or a container (``Compose``, ``OneOf``, ``SomeOf``,
/// ``RandomApply``).
public protocol Augmentation: Sendable {
    /// Augments `sample` in place, drawing randomness only from `context.random`, and drops boxes that fail
    /// `context.boxPolicy` after every transform.
    func run(_ sample: inout Sample, context: inout AugmentContext) throws(AugmentError)
}

/// An augmentation that samples its random parameters once, then applies them to image, boxes and mask alike.
///
/// All randomness is in ``sampleParameters(for:context:)``; ``apply(_:to:)`` is deterministic, so the targets
/// of a sample stay aligned by construction and `apply` can be tested without randomness. `apply` must accept
/// any sample (it clamps parameters that no longer fit, e.g. a crop larger than the image).
public protocol Transform: Augmentation {
    /// Everything `apply` needs that was chosen at random (angle, crop rectangle, partner sample, …).
    associatedtype Parameters: Sendable

    /// Draws the parameters for `sample` from `context.random` (and loads partner samples for mixing).
    func sampleParameters(for sample: Sample, context: inout AugmentContext) throws(AugmentError) -> Parameters

    /// Applies fixed parameters to every target of `sample`: image, boxes (updating their visibility), mask and
    /// soft label.
    func apply(_ parameters: Parameters, to sample: inout Sample)
}

extension Transform {
    /// Samples parameters, then applies them, then drops boxes that fail `context.boxPolicy`.
    public func run(_ sample: inout Sample, context: inout AugmentContext) throws(AugmentError) {
        let parameters = try sampleParameters(for: sample, context: &context)
        apply(parameters, to: &sample)
        context.boxPolicy.filter(&sample.boxes)
    }
}

extension Augmentation {
    /// The transformed sample, with the random stream of sample `index` under `seed`.
    public func callAsFunction(
        _ sample: Sample, seed: UInt64 = 0, index: Int = 0, partners: (any PartnerSource)? = nil,
        boxPolicy: BoxPolicy = BoxPolicy()
    ) throws(AugmentError) -> Sample {
        var out = sample
        var context = AugmentContext(
            random: AugmentRandom(seed: seed, index: UInt64(bitPattern: Int64(index))), partners: partners,
            boxPolicy: boxPolicy, sampleIndex: index)
        try run(&out, context: &context)
        return out
    }
}

/// Where mixing transforms (mixup, cutmix, mosaic) get their other samples: usually the rest of the dataset.
///
/// Implementations must be thread-safe and deterministic: `sample(at: i)` returns the same sample every time.
public protocol PartnerSource: Sendable {
    /// How many samples there are; partners are chosen uniformly from `0..<count`.
    var count: Int { get }
    /// Sample `index`, as given to the pipeline (not augmented).
    func sample(at index: Int) throws(AugmentError) -> Sample
}

/// A ``PartnerSource`` over samples held in memory.
public struct InMemoryPartners: PartnerSource {
    public let samples: [Sample]
    public init(_ samples: [Sample]) { self.samples = samples }
    public var count: Int { samples.count }
    public func sample(at index: Int) throws(AugmentError) -> Sample {
        guard samples.indices.contains(index) else {
            throw AugmentError(.partner("partner index \(index) is out of range 0..<\(samples.count)"))
        }
        return samples[index]
    }
}

/// Which boxes survive a transform: checked after every transform of a pipeline.
///
/// A box is dropped when it is empty (no area left inside the image), when its ``LabeledBox/visibility``
/// (fraction of its original area still visible, accumulated over the pipeline) is below `minVisibility`, or
/// when its area in pixels is below `minArea`.
public struct BoxPolicy: Sendable, Equatable {
    public var minVisibility: Double
    public var minArea: Double

    public init(minVisibility: Double = 0, minArea: Double = 0) {
        self.minVisibility = minVisibility
        self.minArea = minArea
    }

    public func keeps(_ box: LabeledBox) -> Bool {
        !box.box.isEmpty && box.visibility >= minVisibility && box.visibility > 0 && box.box.area >= minArea
    }

    public func filter(_ boxes: inout [LabeledBox]) {
        if boxes.contains(where: { !keeps($0) }) { boxes.removeAll { !keeps($0) } }
    }
}

/// What a transform sees besides the sample: its random stream, partner samples and the box policy.
public struct AugmentContext: Sendable {
    /// This transform's own random stream (a child of its container's; see ``AugmentRandom``).
    public var random: AugmentRandom
    /// Other samples, for mixing transforms; nil when there are none.
    public var partners: (any PartnerSource)?
    public var boxPolicy: BoxPolicy
    /// The index of the sample being augmented (mixing transforms avoid choosing it as its own partner).
    public var sampleIndex: Int

    public init(
        random: AugmentRandom, partners: (any PartnerSource)? = nil, boxPolicy: BoxPolicy = BoxPolicy(),
        sampleIndex: Int = 0
    ) {
        self.random = random
        self.partners = partners
        self.boxPolicy = boxPolicy
        self.sampleIndex = sampleIndex
    }

    /// The context for child `k` of a container: same partners and policy, child random stream.
    public func child(_ k: Int) -> AugmentContext {
        var c = self
        c.random = random.child(k)
        return c
    }

    /// Loads a uniformly chosen partner sample (another index than the current one when there is a choice).
    mutating func partner(for transform: String) throws(AugmentError) -> Sample {
        guard let partners, partners.count > 0 else {
            throw AugmentError(.partner("\(transform) needs other samples to mix with, and none were given"))
        }
        let n = partners.count
        var index: Int
        if n > 1 && (0..<n).contains(sampleIndex) {
            index = random.integer(in: 0...(n - 2))
            if index >= sampleIndex { index += 1 }
        } else {
            index = random.integer(in: 0...(n - 1))
        }
        return try partners.sample(at: index)
    }
}
