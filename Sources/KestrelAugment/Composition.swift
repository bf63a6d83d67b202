/// Runs augmentations one after the other. Step `k` draws from child stream `k` of the Compose's stream, so
/// adding, removing or re-parameterising one step does not change what the others draw.
public struct Compose: Augmentation {
    public let steps: [any Augmentation]

    public init(_ steps: [any Augmentation]) {
        self.steps = steps
    }

    public func run(_ sample: inout Sample, context: inout AugmentContext) throws(AugmentError) {
        for (k, step) in steps.enumerated() {
            var child = context.child(k)
            try step.run(&sample, context: &child)
        }
    }
}

/// Runs its augmentation with probability `p`. The coin is the first draw of its stream (always drawn); the
/// augmentation runs on child stream 0.
public struct RandomApply: Augmentation {
    public let p: Double
    public let augmentation: any Augmentation

    /// `p` must be in [0, 1].
    public init(_ augmentation: any Augmentation, p: Double) throws(AugmentError) {
        guard (0...1).contains(p) else { throw .parameter("p must be in [0, 1], got \(p)") }
        self.p = p
        self.augmentation = augmentation
    }

    public func run(_ sample: inout Sample, context: inout AugmentContext) throws(AugmentError) {
        var random = context.random
        guard random.bernoulli(p) else { return }
        var child = context.child(0)
        try augmentation.run(&sample, context: &child)
    }
}

/// Runs exactly one of its augmentations, chosen with probability proportional to `weights` (one draw);
/// branch `k` runs on child stream `k`.
public struct OneOf: Augmentation {
    public let choices: [any Augmentation]
    public let weights: [Double]

    /// `weights` defaults to equal; must be non-negative with a positive sum, one per choice.
    public init(_ choices: [any Augmentation], weights: [Double]? = nil) throws(AugmentError) {
        guard !choices.isEmpty else { throw .parameter("one_of needs at least one transform") }
        let w = weights ?? [Double](repeating: 1, count: choices.count)
        guard w.count == choices.count else {
            throw .parameter("one_of has \(choices.count) transforms but \(w.count) weights")
        }
        guard w.allSatisfy({ $0 >= 0 && $0.isFinite }), w.reduce(0, +) > 0 else {
            throw .parameter("one_of weights must be non-negative with a positive sum")
        }
        self.choices = choices
        self.weights = w
    }

    public func run(_ sample: inout Sample, context: inout AugmentContext) throws(AugmentError) {
        var random = context.random
        let total = weights.reduce(0, +)
        let u = random.unit() * total
        var acc = 0.0
        var pick = choices.count - 1
        for (k, w) in weights.enumerated() {
            acc += w
            if u < acc {
                pick = k
                break
            }
        }
        var child = context.child(pick)
        try choices[pick].run(&sample, context: &child)
    }
}

/// Runs `n` of its augmentations, `n` uniform in `count`, chosen without replacement and run in the order they
/// are listed; choice `k` runs on child stream `k`.
public struct SomeOf: Augmentation {
    public let choices: [any Augmentation]
    public let count: ClosedRange<Int>

    public init(_ choices: [any Augmentation], count: ClosedRange<Int>) throws(AugmentError) {
        guard !choices.isEmpty else { throw .parameter("some_of needs at least one transform") }
        guard count.lowerBound >= 0, count.upperBound <= choices.count else {
            throw .parameter("some_of n must be within 0...\(choices.count), got \(count)")
        }
        self.choices = choices
        self.count = count
    }

    public func run(_ sample: inout Sample, context: inout AugmentContext) throws(AugmentError) {
        var random = context.random
        let n = random.integer(in: count)
        var order = Array(choices.indices)
        for i in 0..<n {  // partial Fisher–Yates
            let j = random.integer(in: i...(order.count - 1))
            order.swapAt(i, j)
        }
        for k in order.prefix(n).sorted() {
            var child = context.child(k)
            try choices[k].run(&sample, context: &child)
        }
    }
}

/// A complete augmentation recipe: the steps, run as a ``Compose``, and the rule for which boxes survive.
///
/// `augment(_:seed:index:)` is a pure function of its arguments: the same sample, seed and index give the
/// same bytes whatever thread runs it.
public struct Pipeline: Sendable {
    public let root: Compose
    public let boxPolicy: BoxPolicy

    public init(_ steps: [any Augmentation], boxPolicy: BoxPolicy = BoxPolicy()) {
        self.root = Compose(steps)
        self.boxPolicy = boxPolicy
    }

    /// Augments `sample`, the `index`-th sample of a run with `seed`; `copy` numbers the augmented copies of
    /// one sample. The random stream is child `copy` of the stream of (`seed`, `index`) (see ``AugmentRandom``).
    /// `partners` supplies other samples to mixing transforms (and `index` is never chosen as its own partner
    /// when there are others).
    public func augment(
        _ sample: Sample, seed: UInt64, index: Int, copy: Int = 0, partners: (any PartnerSource)? = nil
    ) throws(AugmentError) -> Sample {
        var out = sample
        var context = AugmentContext(
            random: AugmentRandom(seed: seed, index: UInt64(bitPattern: Int64(index))).child(copy),
            partners: partners, boxPolicy: boxPolicy, sampleIndex: index)
        boxPolicy.filter(&out.boxes)
        try root.run(&out, context: &context)
        return out
    }
}
