#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A learning-rate schedule: the rate for an epoch (or step) index counted from 0, given the base rate.
/// Definitions follow PyTorch's closed forms (`StepLR`, `MultiStepLR`, `CosineAnnealingLR`, `LinearLR`).
public enum LearningRateSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// base·γ^⌊t / stepSize⌋.
    case step(stepSize: Int, gamma: Float)
    /// base·γ^(number of milestones ≤ t).
    case multiStep(milestones: [Int], gamma: Float)
    /// η_min + (base − η_min)·(1 + cos(π·t / T))/2. Past T the cosine continues (rising again), exactly as
    /// PyTorch's `CosineAnnealingLR`; set T to the length of training.
    case cosine(period: Int, minimum: Float)
    /// Linear warm-up over `steps` from base·startFactor to base, then `then` (with t counted after warm-up).
    indirect case warmup(steps: Int, startFactor: Float, then: LearningRateSchedule)

    public func rate(at t: Int, base: Float) -> Float {
        switch self {
        case .constant: return base
        case .step(let size, let gamma): return base * powf(gamma, Float(t / size))
        case .multiStep(let milestones, let gamma): return base * powf(gamma, Float(milestones.filter { $0 <= t }.count))
        case .cosine(let period, let minimum):
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * Double(t) / Double(period))) / 2)
        case .warmup(let steps, let start, let next):
            if t < steps { return base * (start + (1 - start) * Float(t) / Float(steps)) }
            return next.rate(at: t - steps, base: base)
        }
    }

    /// The rate at a fractional position `t` (e.g. epoch + batch / batches), for schedules applied every batch:
    /// warm-up and cosine are continuous in t, step and multi-step change at their (integer) boundaries. Equals
    /// ``rate(at:base:)`` wherever t is a whole number.
    public func rate(atFraction t: Double, base: Float) -> Float {
        switch self {
        case .constant: return base
        case .step(let size, let gamma): return base * powf(gamma, Float((t / Double(size)).rounded(.down)))
        case .multiStep(let milestones, let gamma):
            return base * powf(gamma, Float(milestones.filter { Double($0) <= t }.count))
        case .cosine(let period, let minimum):
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * t / Double(period))) / 2)
        case .warmup(let steps, let start, let next):
            if t < Double(steps) { return base * (start + (1 - start) * Float(t / Double(steps))) }
            return next.rate(atFraction: t - Double(steps), base: base)
        }
    }

    /// Rejects impossible settings (step size ≤ 0, unsorted milestones, negative factors).
    public func validate() throws(OptimizerError) {
        switch self {
        case .constant: break
        case .step(let size, let gamma):
            guard size > 0, gamma > 0 else { throw OptimizerError("step schedule needs stepSize > 0 and gamma > 0") }
        case .multiStep(let milestones, let gamma):
            guard milestones == milestones.sorted(), gamma > 0 else { throw OptimizerError("milestones must be sorted, gamma > 0") }
        case .cosine(let period, let minimum):
            guard period > 0, minimum >= 0 else { throw OptimizerError("cosine schedule needs period > 0, minimum ≥ 0") }
        case .warmup(let steps, let start, let next):
            guard steps >= 0, start > 0, start <= 1 else { throw OptimizerError("warm-up needs steps ≥ 0 and 0 < startFactor ≤ 1") }
            try next.validate()
        }
    }
}
