/// Update rules whose per-parameter state can be saved and restored (for exact resumption of training).
/// State tensors are named after PyTorch's optimizer state keys (`momentum_buffer`, `exp_avg`, `exp_avg_sq`,
/// `sum`, `square_avg`).
public protocol PersistentRule: UpdateRule {
    func tensors(of state: State) -> [(name: String, tensor: Tensor)]
    func state(from tensors: [String: Tensor], for parameter: Tensor) throws(CheckpointError) -> State
}

extension SGD: PersistentRule {
    public func tensors(of state: Void) -> [(name: String, tensor: Tensor)] { [] }
    public func state(from tensors: [String: Tensor], for parameter: Tensor) -> Void {}
}

extension Momentum: PersistentRule {
    public func tensors(of state: Tensor?) -> [(name: String, tensor: Tensor)] {
        state.map { [("momentum_buffer", $0)] } ?? []
    }
    public func state(from tensors: [String: Tensor], for parameter: Tensor) throws(CheckpointError) -> Tensor? {
        guard let t = tensors["momentum_buffer"] else { return nil }
        guard t.shape == parameter.shape else { throw CheckpointError("momentum buffer shape \(t.shape) for a \(parameter.shape) parameter") }
        return t
    }
}

extension AdaGrad: PersistentRule {
    public func tensors(of state: Tensor) -> [(name: String, tensor: Tensor)] { [("sum", state)] }
    public func state(from tensors: [String: Tensor], for parameter: Tensor) throws(CheckpointError) -> Tensor {
        try required("sum", tensors, parameter)
    }
}

extension RMSProp: PersistentRule {
    public func tensors(of state: Tensor) -> [(name: String, tensor: Tensor)] { [("square_avg", state)] }
    public func state(from tensors: [String: Tensor], for parameter: Tensor) throws(CheckpointError) -> Tensor {
        try required("square_avg", tensors, parameter)
    }
}

extension Adam: PersistentRule {
    public func tensors(of state: State) -> [(name: String, tensor: Tensor)] { [("exp_avg", state.m), ("exp_avg_sq", state.v)] }
    public func state(from tensors: [String: Tensor], for parameter: Tensor) throws(CheckpointError) -> State {
        State(m: try required("exp_avg", tensors, parameter), v: try required("exp_avg_sq", tensors, parameter))
    }
}

private func required(_ name: String, _ tensors: [String: Tensor], _ parameter: Tensor) throws(CheckpointError) -> Tensor {
    guard let t = tensors[name] else { throw CheckpointError("optimizer state \(name) is missing") }
    guard t.shape == parameter.shape else { throw CheckpointError("optimizer state \(name) has shape \(t.shape), parameter \(parameter.shape)") }
    return t
}

/// What a training loop needs from an optimizer, whatever its rule.
public protocol TrainingOptimizer: AnyObject {
    var learningRate: Float { get set }
    var stepCount: Int { get }
    func step()
    func zeroGrad()
    /// The rule's state as `<parameter name>.<state name>` tensors.
    func stateEntries() -> [Safetensors.Entry]
    /// Restores the state saved by ``stateEntries()`` and the step count.
    func restore(_ entries: [(name: String, tensor: Tensor)], stepCount: Int) throws(CheckpointError)
}

extension Optimizer: TrainingOptimizer where Rule: PersistentRule {
    public func stateEntries() -> [Safetensors.Entry] {
        var out: [Safetensors.Entry] = []
        for (i, (name, _)) in parameters.enumerated() {
            for (s, t) in rule.tensors(of: states[i]) { out.append(Safetensors.Entry("\(name).\(s)", t)) }
        }
        return out
    }

    public func restore(_ entries: [(name: String, tensor: Tensor)], stepCount: Int) throws(CheckpointError) {
        var byParameter: [String: [String: Tensor]] = [:]
        let names = Set(parameters.map(\.name))
        for (key, t) in entries {
            guard let dot = key.lastIndex(of: "."), names.contains(String(key[..<dot])) else {
                throw CheckpointError("optimizer state \(key) names no parameter of this model")
            }
            byParameter[String(key[..<dot]), default: [:]][String(key[key.index(after: dot)...])] = t
        }
        var restored: [Rule.State] = []
        for (name, p) in parameters {
            do { restored.append(try rule.state(from: byParameter[name] ?? [:], for: p.value)) } catch {
                throw CheckpointError("\(name): \(error.message)")
            }
        }
        replaceStates(restored, stepCount: stepCount)
    }
}
