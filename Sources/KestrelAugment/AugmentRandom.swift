#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The random numbers of an augmentation: a counter-based generator, so every value depends only on
/// `(seed, sample index, position in the pipeline, draw number)` — never on thread scheduling or on what
/// other samples drew.
///
/// The scheme (fixed; changing it changes every augmented dataset):
/// - `mix(z)` is SplitMix64's finaliser (Stafford's variant 13):
///   `z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31`.
/// - The key of sample `i` under seed `s` is `mix(mix(s + γ) ^ i)`, with γ = 0x9E3779B97F4A7C15.
/// - Child `k` of a stream (the k-th step of a Compose, the branch of a OneOf, …) has key
///   `mix(key ^ mix(k + 0x632BE59BD9B4E019))`. Children are derived, not drawn: they do not advance the parent.
/// - Draw `n` (n = 1, 2, …) of a stream is `mix(key + n·γ)` — SplitMix64 run from the key, i.e. a counter
///   hashed, so a stream can be re-created anywhere.
///
/// Conversions: a uniform Double in [0, 1) is `(u >> 11) · 2⁻⁵³`; integers in a range use Lemire's
/// multiply-and-reject (unbiased); normal variates use Box–Muller on two uniforms; Beta(a, b) uses
/// Marsaglia–Tsang gamma variates. These use `log`, `sqrt`, `cos`, `pow` from the C library, so outputs are
/// byte-identical across runs and thread counts on one platform (and across platforms whose libm agree).
public struct AugmentRandom: RandomNumberGenerator, Sendable, Equatable {
    /// The stream's key; see the type's documentation.
    public let key: UInt64
    /// How many values have been drawn.
    public private(set) var counter: UInt64 = 0

    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The stream of sample `index` under `seed`.
    public init(seed: UInt64, index: UInt64) {
        key = Self.mix(Self.mix(seed &+ Self.gamma) ^ index)
    }

    /// A stream with an explicit key.
    public init(key: UInt64) {
        self.key = key
    }

    /// The independent stream for child `k` (e.g. the k-th step of a Compose).
    public func child(_ k: Int) -> AugmentRandom {
        AugmentRandom(key: Self.mix(key ^ Self.mix(UInt64(bitPattern: Int64(k)) &+ 0x632B_E59B_D9B4_E019)))
    }

    /// SplitMix64's output function.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        counter &+= 1
        return Self.mix(key &+ counter &* Self.gamma)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in [low, high) (returns `low` when the range is a single value).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Uniform in the closed range (the end is reached only through rounding; kept for readability).
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        uniform(range.lowerBound, range.upperBound)
    }

    /// Uniform integer in the closed range, unbiased (Lemire's method).
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }  // the whole Int range
        var m = next().multipliedFullWidth(by: span)
        if m.low < span {
            let threshold = (0 &- span) % span
            while m.low < threshold { m = next().multipliedFullWidth(by: span) }
        }
        return range.lowerBound &+ Int(truncatingIfNeeded: m.high)
    }

    /// True with probability `p` (one draw, always made, so the stream does not depend on `p`).
    public mutating func bernoulli(_ p: Double) -> Bool {
        unit() < p
    }

    /// A standard normal variate (Box–Muller, two draws).
    public mutating func normal() -> Double {
        let u1 = 1 - unit()  // (0, 1]
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) variate, shape > 0 (Marsaglia and Tsang 2000; shape < 1 by the u^(1/shape) boost).
    public mutating func gammaVariate(shape: Double) -> Double {
        if shape < 1 {
            let u = 1 - unit()
            return gammaVariate(shape: shape + 1) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = 1 - unit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(a, b) variate in [0, 1], a, b > 0.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gammaVariate(shape: a)
        let y = gammaVariate(shape: b)
        return x + y > 0 ? x / (x + y) : 0.5
    }
}
