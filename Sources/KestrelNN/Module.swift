/// A trainable tensor: a leaf ``Variable`` that requires gradients.
public final class Parameter {
    public let variable: Variable

    public init(_ value: Tensor) { variable = Variable(value, requiresGrad: true) }

    public var value: Tensor {
        get { variable.value }
        set { variable.value = newValue }
    }

    public var grad: Tensor? {
        get { variable.grad }
        set { variable.grad = newValue }
    }

    public var shape: Shape { variable.shape }

    /// Frozen parameters get no gradient and are skipped by optimizers.
    public var isFrozen: Bool {
        get { !variable.requiresGrad }
        set {
            variable.requiresGrad = !newValue
            if newValue { variable.grad = nil }
        }
    }
}

/// A non-trainable tensor that belongs to a module's state (BatchNorm's running statistics). `isInteger` marks
/// counters that checkpoints store as int64, as PyTorch does (`num_batches_tracked`).
public final class Buffer {
    public var value: Tensor
    public let isInteger: Bool

    public init(_ value: Tensor, isInteger: Bool = false) {
        self.value = value
        self.isInteger = isInteger
    }
}

/// The base of every layer and model: owns parameters, buffers and child modules registered explicitly under
/// names, so that ``namedParameters()`` yields PyTorch's dotted state-dict keys (`layer1.0.conv1.weight`,
/// `bn1.running_mean`). One visitor serves the optimizer, checkpoints, freezing and zeroing.
open class Module {
    public private(set) var ownParameters: [(name: String, parameter: Parameter)] = []
    public private(set) var ownBuffers: [(name: String, buffer: Buffer)] = []
    public private(set) var children: [(name: String, module: Module)] = []
    /// Training mode (dropout active, batch norm uses batch statistics). Set with ``train(_:)`` / ``eval()``.
    public private(set) var isTraining = true

    public init() {}

    /// Registers a child module under `name` and returns it.
    @discardableResult
    public func register<M: Module>(_ name: String, _ module: M) -> M {
        precondition(!children.contains { $0.name == name }, "module \(name) registered twice")
        children.append((name, module))
        module.setTraining(isTraining)
        return module
    }

    /// Registers a parameter under `name` and returns it.
    @discardableResult
    public func register(parameter name: String, _ value: Tensor) -> Parameter {
        precondition(!ownParameters.contains { $0.name == name }, "parameter \(name) registered twice")
        let p = Parameter(value)
        ownParameters.append((name, p))
        return p
    }

    /// Registers an existing parameter under `name`.
    public func registerExisting(_ name: String, _ p: Parameter) {
        precondition(!ownParameters.contains { $0.name == name }, "parameter \(name) registered twice")
        ownParameters.append((name, p))
    }

    /// Registers a buffer under `name` and returns it.
    @discardableResult
    public func register(buffer name: String, _ value: Tensor, isInteger: Bool = false) -> Buffer {
        precondition(!ownBuffers.contains { $0.name == name }, "buffer \(name) registered twice")
        let b = Buffer(value, isInteger: isInteger)
        ownBuffers.append((name, b))
        return b
    }

    /// Registers an existing buffer under `name`.
    public func registerExisting(buffer name: String, _ b: Buffer) {
        precondition(!ownBuffers.contains { $0.name == name }, "buffer \(name) registered twice")
        ownBuffers.append((name, b))
    }

    /// Visits every module depth-first in registration order with its dotted path ("" for self).
    public func visit(prefix: String = "", _ body: (String, Module) -> Void) {
        body(prefix, self)
        for (name, child) in children { child.visit(prefix: prefix.isEmpty ? name : prefix + "." + name, body) }
    }

    /// All parameters with dotted names, in registration order.
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var out: [(String, Parameter)] = []
        visit { path, m in
            for (n, p) in m.ownParameters { out.append((path.isEmpty ? n : path + "." + n, p)) }
        }
        return out
    }

    /// All buffers with dotted names, in registration order.
    public func namedBuffers() -> [(name: String, buffer: Buffer)] {
        var out: [(String, Buffer)] = []
        visit { path, m in
            for (n, b) in m.ownBuffers { out.append((path.isEmpty ? n : path + "." + n, b)) }
        }
        return out
    }

    /// All parameters.
    public var parameters: [Parameter] { namedParameters().map(\.parameter) }

    /// Number of scalar parameters (trainable and frozen).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.shape.count } }

    /// Training mode on or off, recursively.
    public func train(_ on: Bool = true) { setTraining(on) }

    /// Evaluation mode, recursively.
    public func eval() { setTraining(false) }

    private func setTraining(_ on: Bool) {
        isTraining = on
        for (_, c) in children { c.setTraining(on) }
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for p in parameters { p.grad = nil }
    }

    /// The computation. Subclasses with one input and one output override this.
    open func forward(_ x: Variable) -> Variable {
        preconditionFailure("\(type(of: self)) does not implement forward(_:)")
    }

    public func callAsFunction(_ x: Variable) -> Variable { forward(x) }
}

/// Modules applied in order, registered as "0", "1", … like `torch.nn.Sequential`.
public final class Sequential: Module {
    public private(set) var layers: [Module] = []

    public init(_ layers: [Module]) {
        super.init()
        for (i, l) in layers.enumerated() { append(l, name: String(i)) }
    }

    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Adds a layer under `name` (default: its index).
    public func append(_ layer: Module, name: String? = nil) {
        register(name ?? String(layers.count), layer)
        layers.append(layer)
    }

    /// The layers in turn; a convolution followed by a batch norm and/or a ReLU / ReLU6 runs as one
    /// ``convBatchNorm(_:_:_:activation:residual:)`` or ``convActivation(_:_:activation:)``, which fold them into
    /// the convolution in inference.
    public override func forward(_ x: Variable) -> Variable { forward(x, residual: nil) }

    /// `forward(x) + residual` (the output's shape). When the sequence ends in a convolution and a batch norm
    /// (no activation after them: MobileNet V2's inverted residuals), the sum is folded into that convolution in
    /// inference.
    public func forward(_ x: Variable, residual: Variable?) -> Variable {
        func fusable(_ i: Int) -> Activation.Kind? {
            guard i < layers.count, let kind = (layers[i] as? Activation)?.kind else { return nil }
            switch kind {
            case .relu, .relu6: return kind
            default: return nil
            }
        }
        var h = x, i = 0
        while i < layers.count {
            if let conv = layers[i] as? Conv2D {
                if i + 1 < layers.count, let bn = layers[i + 1] as? BatchNorm2D {
                    let act = fusable(i + 2), next = i + (act == nil ? 2 : 3)
                    if next == layers.count, act == nil, let residual {
                        return convBatchNorm(h, conv, bn, residual: residual)
                    }
                    h = convBatchNorm(h, conv, bn, activation: act)
                    i = next
                    continue
                }
                if let act = fusable(i + 1) {
                    h = convActivation(h, conv, activation: act)
                    i += 2
                    continue
                }
            }
            h = layers[i](h)
            i += 1
        }
        return residual.map { h + $0 } ?? h
    }
}
