@_exported import KestrelTensor

/// A tensor in a define-by-run computation graph.
///
/// Every differentiable op (see `Ops/`) computes its forward on tensors and, when gradients are being
/// recorded (``GradMode``) and an input needs one, returns a Variable that remembers its inputs and a backward
/// closure written next to the forward. ``backward(gradient:)`` visits the graph in reverse topological order,
/// so branches (residual adds), concatenations, several heads on one backbone and skip connections all work:
/// a variable used twice receives the sum of both gradients.
public final class Variable {
    /// The forward value.
    public var value: Tensor
    /// The accumulated gradient of the last `backward` (leaves that require gradients, and variables marked with
    /// ``retainGradient()``); nil until then.
    public var grad: Tensor?
    /// True for leaves whose gradient is wanted (parameters, inputs under a gradient check). Setting it to false
    /// on a parameter freezes it: no gradient is computed for it.
    public var requiresGrad: Bool
    /// The op that produced this variable; nil for leaves and for values computed without recording.
    let creator: Node?
    private(set) var retainsGrad = false

    /// A leaf.
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.creator = nil
    }

    init(value: Tensor, creator: Node) {
        self.value = value
        self.requiresGrad = false
        self.creator = creator
    }

    public var shape: Shape { value.shape }

    /// True when a gradient flows to or through this variable.
    public var needsGrad: Bool { requiresGrad || creator != nil }

    /// Keep this intermediate variable's gradient in ``grad`` after backward (leaves always keep theirs).
    public func retainGradient() { retainsGrad = true }

    /// Clears the gradient.
    public func zeroGrad() { grad = nil }

    /// Back-propagates from this variable. `gradient` is dL/d(self); it defaults to ones, i.e. self is the loss
    /// (or the loss is the sum of self's elements). Gradients accumulate into the leaves' ``grad``. The graph
    /// behind this variable is released afterwards (its saved tensors freed).
    public func backward(gradient: Tensor? = nil) {
        let seed = gradient ?? Tensor.ones(value.shape)
        precondition(seed.shape == value.shape, "gradient \(seed.shape) for a variable of shape \(value.shape)")
        if creator == nil {
            if requiresGrad { accumulate(seed, into: self) }
            return
        }
        let order = Variable.topologicalOrder(from: self)
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        for v in order.reversed() {
            guard let node = v.creator, let gy = grads.removeValue(forKey: ObjectIdentifier(v)) else { continue }
            if v.retainsGrad { accumulate(gy, into: v) }
            guard let backward = node.backward else {
                preconditionFailure("backward through a graph that was already released (op \(node.name))")
            }
            let gxs = OpProfile.backward(node.name) { backward(gy) }
            precondition(gxs.count == node.inputs.count, "op \(node.name) returned \(gxs.count) gradients")
            for (input, gx) in zip(node.inputs, gxs) {
                guard let gx, input.needsGrad else { continue }
                precondition(gx.shape == input.shape,
                             "op \(node.name) gave a gradient of shape \(gx.shape) for an input of shape \(input.shape)")
                if input.creator == nil {
                    accumulate(gx, into: input)
                } else if var existing = grads.removeValue(forKey: ObjectIdentifier(input)) {
                    OpProfile.backward("grad accumulate") { existing += gx }
                    grads[ObjectIdentifier(input)] = existing
                } else {
                    grads[ObjectIdentifier(input)] = gx
                }
            }
        }
        for v in order { v.creator?.release() }
    }

    private func accumulate(_ g: Tensor, into v: Variable) {
        if var existing = v.grad {
            v.grad = nil
            existing += g
            v.grad = existing
        } else {
            v.grad = g
        }
    }

    /// Variables with a creator reachable from `root`, inputs before the variables computed from them.
    static func topologicalOrder(from root: Variable) -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(root, false)]
        while let (v, expanded) = stack.popLast() {
            if expanded {
                order.append(v)
                continue
            }
            guard visited.insert(ObjectIdentifier(v)).inserted else { continue }
            stack.append((v, true))
            for input in v.creator?.inputs ?? [] where input.creator != nil && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}

/// One recorded op: its inputs and the closure that maps the output's gradient to the inputs' gradients.
final class Node {
    let name: String
    private(set) var inputs: [Variable]
    private(set) var backward: ((Tensor) -> [Tensor?])?

    init(name: String, inputs: [Variable], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    func release() {
        inputs = []
        backward = nil
    }
}

/// Whether ops record the graph. Recording is on by default; ``GradMode/withoutGradients(_:)`` turns it off for
/// inference (no graph, no saved tensors). Task-local, so concurrent tasks do not affect each other.
public enum GradMode {
    @TaskLocal static var disabled = false

    public static var isEnabled: Bool { !disabled }

    /// Runs `body` without recording gradients.
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        try $disabled.withValue(true, operation: body)
    }
}

/// Records a differentiable op defined outside KestrelNN (detection and segmentation losses): the same as the
/// internal `record`, for modules that write their own forward and backward side by side.
public func recordOp(
    _ name: String, _ inputs: [Variable], _ output: Tensor,
    backward: @escaping (_ gy: Tensor, _ needs: [Bool]) -> [Tensor?]
) -> Variable {
    record(name, inputs, output, backward: backward)
}

/// Records an op: returns `output` as a graph node when gradients are on and an input needs one, else as a
/// plain value. `backward` receives the output's gradient and returns one gradient per input (nil where the
/// input needs none; `needs[i]` says which are wanted, so expensive unwanted ones can be skipped).
func record(
    _ name: String, _ inputs: [Variable], _ output: Tensor,
    backward: @escaping (_ gy: Tensor, _ needs: [Bool]) -> [Tensor?]
) -> Variable {
    if OpProfile.isOn { OpProfile.forward(name) }
    let needs = inputs.map(\.needsGrad)
    guard GradMode.isEnabled && needs.contains(true) else { return Variable(output) }
    return Variable(value: output, creator: Node(name: name, inputs: inputs) { gy in backward(gy, needs) })
}
