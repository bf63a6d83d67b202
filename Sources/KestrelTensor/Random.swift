/// A seeded random number generator (xoshiro256**, seeded through SplitMix64): the same seed gives the same
/// stream on every platform and run. Not for cryptography.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Double? = nil

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix()
        s1 = splitmix()
        s2 = splitmix()
        s3 = splitmix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal deviate (Box–Muller; the second value of each pair is kept for the next call).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u = nextUnit()
        while u == 0 { u = nextUnit() }
        let v = nextUnit()
        let r = (-2 * _log(u)).squareRoot()
        spareNormal = r * _sin(2 * Double.pi * v)
        return r * _cos(2 * Double.pi * v)
    }
}

extension Tensor {
    /// Elements uniform in `[low, high)`.
    public static func uniform(_ shape: Shape, low: Float = 0, high: Float = 1, using rng: inout RandomSource) -> Tensor {
        Tensor(shape: shape) { dst in
            for i in 0..<dst.count { dst[i] = low + (high - low) * Float(rng.nextUnit()) }
        }
    }

    /// Elements normal with the given mean and standard deviation.
    public static func normal(_ shape: Shape, mean: Float = 0, std: Float = 1, using rng: inout RandomSource) -> Tensor {
        Tensor(shape: shape) { dst in
            for i in 0..<dst.count { dst[i] = mean + std * Float(rng.nextNormal()) }
        }
    }
}

#if canImport(Glibc)
    import Glibc
    @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
    @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
    import Darwin
    @inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
    @inline(__always) func _sin(_ x: Double) -> Double { Darwin.sin(x) }
    @inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
