#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A bad optimizer or schedule setting, reported when it is created.
public struct OptimizerError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An update rule applied to one parameter at a time with its own explicit state (PyTorch's definitions; see
/// each rule). `step` counts from 1.
public protocol UpdateRule: Sendable {
    associatedtype State
    func makeState(for parameter: Tensor) -> State
    func update(_ parameter: inout Tensor, gradient: Tensor, state: inout State, learningRate: Float, step: Int)
}

/// A transformation of the gradients applied before the rule (PyTorch's `weight_decay`, gradient clipping).
public enum GradientTransform: Sendable, Equatable {
    /// L2 regularisation: g ← g + λ·p (PyTorch's `weight_decay` argument of SGD/Adam).
    case weightDecay(Float)
    /// L1 regularisation: g ← g + λ·sign(p).
    case l1(Float)
    /// Each component clamped to [−c, c] (`clip_grad_value_`).
    case clipValue(Float)
    /// All gradients scaled by min(1, c / (‖g‖₂ + 1e-6)), the norm taken over every parameter together
    /// (`clip_grad_norm_`).
    case clipGlobalNorm(Float)
}

/// Applies gradient transforms, then an update rule, to every unfrozen parameter that has a gradient.
public final class Optimizer<Rule: UpdateRule> {
    public let rule: Rule
    public var learningRate: Float
    public let transforms: [GradientTransform]
    public private(set) var parameters: [(name: String, parameter: Parameter)]
    public private(set) var states: [Rule.State]
    /// Steps taken so far.
    public private(set) var stepCount = 0

    public init(_ parameters: [(name: String, parameter: Parameter)], rule: Rule, learningRate: Float,
                transforms: [GradientTransform] = []) throws(OptimizerError) {
        guard learningRate >= 0, learningRate.isFinite else { throw OptimizerError("learning rate must be ≥ 0, got \(learningRate)") }
        for t in transforms {
            switch t {
            case .weightDecay(let v), .l1(let v):
                guard v >= 0 else { throw OptimizerError("regularisation strength must be ≥ 0, got \(v)") }
            case .clipValue(let v), .clipGlobalNorm(let v):
                guard v > 0 else { throw OptimizerError("clipping threshold must be > 0, got \(v)") }
            }
        }
        self.rule = rule
        self.learningRate = learningRate
        self.transforms = transforms
        self.parameters = parameters
        self.states = parameters.map { rule.makeState(for: $0.parameter.value) }
    }

    /// The transformed gradients of the parameters that will be updated (nil for frozen or gradient-less ones).
    func transformedGradients() -> [Tensor?] {
        var grads: [Tensor?] = parameters.map { $0.parameter.isFrozen ? nil : $0.parameter.grad }
        for t in transforms {
            switch t {
            case .weightDecay(let l):
                for i in grads.indices where grads[i] != nil { grads[i] = grads[i]! + parameters[i].parameter.value * l }
            case .l1(let l):
                for i in grads.indices where grads[i] != nil {
                    grads[i] = grads[i]! + parameters[i].parameter.value.map { $0 > 0 ? l : ($0 < 0 ? -l : 0) }
                }
            case .clipValue(let c):
                for i in grads.indices where grads[i] != nil { grads[i] = grads[i]!.clamped(min: -c, max: c) }
            case .clipGlobalNorm(let c):
                var total = 0.0
                for g in grads { if let g { total += Double((g * g).sum()) } }
                let norm = total.squareRoot()
                let scale = Float(Double(c) / (norm + 1e-6))
                if scale < 1 { for i in grads.indices where grads[i] != nil { grads[i] = grads[i]! * scale } }
            }
        }
        return grads
    }

    func replaceStates(_ newStates: [Rule.State], stepCount: Int) {
        states = newStates
        self.stepCount = stepCount
    }

    /// One update of every parameter from its current gradient.
    public func step() {
        stepCount += 1
        let grads = transformedGradients()
        for i in parameters.indices {
            guard let g = grads[i] else { continue }
            // In place: the variable's storage is uniquely referenced once the graph is released.
            rule.update(&parameters[i].parameter.variable.value, gradient: g, state: &states[i],
                        learningRate: learningRate, step: stepCount)
        }
    }

    /// Clears the gradients of the optimised parameters.
    public func zeroGrad() {
        for (_, p) in parameters { p.grad = nil }
    }
}

/// Plain gradient descent: p ← p − lr·g.
public struct SGD: UpdateRule {
    public init() {}
    public func makeState(for parameter: Tensor) {}
    public func update(_ p: inout Tensor, gradient g: Tensor, state: inout Void, learningRate lr: Float, step: Int) {
        inPlace(&p, g) { p, g, i in p[i] -= lr * g[i] }
    }
}

/// SGD with momentum, PyTorch's form: b ← μ·b + g (b = g on the first step); p ← p − lr·b, or with Nesterov
/// p ← p − lr·(g + μ·b). (The curriculum's v ← μ·v − lr·g; p ← p + v is the same update for a constant lr.)
public struct Momentum: UpdateRule {
    public let momentum: Float
    public let nesterov: Bool

    public init(momentum: Float = 0.9, nesterov: Bool = false) throws(OptimizerError) {
        guard momentum >= 0 && momentum < 1 else { throw OptimizerError("momentum must be in [0, 1), got \(momentum)") }
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public func makeState(for parameter: Tensor) -> Tensor? { nil }
    public func update(_ p: inout Tensor, gradient g: Tensor, state b: inout Tensor?, learningRate lr: Float, step: Int) {
        let mu = momentum, nesterov = self.nesterov
        if b == nil {
            b = g
            b!.withUnsafeMutableBufferPointer { _ in }  // own a copy, not the gradient's storage
        } else {
            inPlace(&b!, g) { b, g, i in b[i] = mu * b[i] + g[i] }
        }
        let buf = b!
        inPlace(&p, g, buf) { p, g, b, i in p[i] -= lr * (nesterov ? g[i] + mu * b[i] : b[i]) }
    }
}

/// AdaGrad (PyTorch, no lr decay): s ← s + g²; p ← p − lr·g / (√s + ε).
public struct AdaGrad: UpdateRule {
    public let eps: Float
    public init(eps: Float = 1e-10) throws(OptimizerError) {
        guard eps > 0 else { throw OptimizerError("eps must be > 0") }
        self.eps = eps
    }
    public func makeState(for parameter: Tensor) -> Tensor { Tensor.zeros(parameter.shape) }
    public func update(_ p: inout Tensor, gradient g: Tensor, state s: inout Tensor, learningRate lr: Float, step: Int) {
        let eps = self.eps
        inPlace(&s, g) { s, g, i in s[i] += g[i] * g[i] }
        inPlace(&p, g, s) { p, g, s, i in p[i] -= lr * g[i] / (s[i].squareRoot() + eps) }
    }
}

/// RMSProp (PyTorch, not centred, no momentum): v ← α·v + (1 − α)·g²; p ← p − lr·g / (√v + ε).
public struct RMSProp: UpdateRule {
    public let alpha: Float, eps: Float
    public init(alpha: Float = 0.99, eps: Float = 1e-8) throws(OptimizerError) {
        guard alpha >= 0 && alpha < 1 else { throw OptimizerError("alpha must be in [0, 1), got \(alpha)") }
        guard eps > 0 else { throw OptimizerError("eps must be > 0") }
        self.alpha = alpha
        self.eps = eps
    }
    public func makeState(for parameter: Tensor) -> Tensor { Tensor.zeros(parameter.shape) }
    public func update(_ p: inout Tensor, gradient g: Tensor, state v: inout Tensor, learningRate lr: Float, step: Int) {
        let (alpha, eps) = (self.alpha, self.eps)
        inPlace(&v, g) { v, g, i in v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i] }
        inPlace(&p, g, v) { p, g, v, i in p[i] -= lr * g[i] / (v[i].squareRoot() + eps) }
    }
}

/// Adam (PyTorch): m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
/// p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε). With `decoupledWeightDecay` λ > 0 this is AdamW:
/// p ← p·(1 − lr·λ) first.
public struct Adam: UpdateRule {
    public let beta1: Float, beta2: Float, eps: Float, decoupledWeightDecay: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, decoupledWeightDecay: Float = 0) throws(OptimizerError) {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw OptimizerError("betas must be in [0, 1)") }
        guard eps > 0 else { throw OptimizerError("eps must be > 0") }
        guard decoupledWeightDecay >= 0 else { throw OptimizerError("weight decay must be ≥ 0") }
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) throws(OptimizerError) -> Adam {
        try Adam(beta1: beta1, beta2: beta2, eps: eps, decoupledWeightDecay: weightDecay)
    }

    public struct State {
        public var m: Tensor
        public var v: Tensor
    }

    public func makeState(for parameter: Tensor) -> State { State(m: Tensor.zeros(parameter.shape), v: Tensor.zeros(parameter.shape)) }

    public func update(_ p: inout Tensor, gradient g: Tensor, state: inout State, learningRate lr: Float, step: Int) {
        let (b1, b2, eps) = (beta1, beta2, self.eps)
        let decay = 1 - lr * decoupledWeightDecay
        let bc1 = 1 - powf(b1, Float(step)), bc2 = 1 - powf(b2, Float(step))
        let stepSize = lr / bc1
        let bc2Sqrt = bc2.squareRoot()
        inPlace(&state.m, g) { m, g, i in m[i] = b1 * m[i] + (1 - b1) * g[i] }
        inPlace(&state.v, g) { v, g, i in v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i] }
        let (m, v) = (state.m, state.v)
        inPlace(&p, m, v) { p, m, v, i in
            p[i] = p[i] * decay - stepSize * (m[i] / (v[i].squareRoot() / bc2Sqrt + eps))
        }
    }
}

/// Runs `body(target, source, i)` for every element, in place on `target`, split across threads.
func inPlace(_ target: inout Tensor, _ a: Tensor,
             _ body: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void) {
    precondition(target.shape == a.shape)
    let n = target.count
    a.withUnsafeBufferPointer { pa in
        let sa = SendablePointer(pa.baseAddress!)
        target.withUnsafeMutableBufferPointer { pt in
            let st = SendablePointer(pt.baseAddress!)
            Compute.parallelFor(n, grain: 1 << 15) { r in for i in r { body(st.base, sa.base, i) } }
        }
    }
}

/// Runs `body(target, a, b, i)` for every element, in place on `target`.
func inPlace(_ target: inout Tensor, _ a: Tensor, _ b: Tensor,
             _ body: @Sendable (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void) {
    precondition(target.shape == a.shape && target.shape == b.shape)
    let n = target.count
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            let sa = SendablePointer(pa.baseAddress!), sb = SendablePointer(pb.baseAddress!)
            target.withUnsafeMutableBufferPointer { pt in
                let st = SendablePointer(pt.baseAddress!)
                Compute.parallelFor(n, grain: 1 << 15) { r in for i in r { body(st.base, sa.base, sb.base, i) } }
            }
        }
    }
}

