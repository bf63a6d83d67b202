/// 2-D convolution layer (PyTorch's `Conv2d`): `[N, Cin, H, W] → [N, Cout, OH, OW]`.
/// Parameters: `weight [Cout, Cin/groups, kh, kw]`, `bias [Cout]` (optional). Depthwise is `groups == Cin`.
/// Initialised as PyTorch does by default (Kaiming uniform, a = √5; bias U(±1/√fanIn)) unless `initializer`
/// is given.
public final class Conv2D: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let geometry: ConvGeometry

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, bias: Bool = true, initializer: Initializer = .torchDefault, rng: inout RandomSource) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "channels must divide into \(groups) groups")
        geometry = ConvGeometry(kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let shape: Shape = [outChannels, inChannels / groups, kernel, kernel]
        let w = initializer.make(shape, using: &rng)
        let bound = 1 / Float(Initializer.fans(shape).fanIn).squareRoot()
        let b = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, using: &rng) : nil
        self.weight = Parameter(w)
        self.bias = b.map(Parameter.init)
        super.init()
        adopt("weight", weight)
        if let p = self.bias { adopt("bias", p) }
    }

    public override func forward(_ x: Variable) -> Variable {
        conv2d(x, weight: weight.variable, bias: bias?.variable, geometry: geometry)
    }
}

/// Transposed convolution (PyTorch's `ConvTranspose2d`): `[N, Cin, H, W] → [N, Cout, OH, OW]`,
/// `OH = (H − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1`.
/// Parameters: `weight [Cin, Cout/groups, kh, kw]`, `bias [Cout]`.
public final class ConvTranspose2D: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let geometry: ConvGeometry
    public let outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                initializer: Initializer = .torchDefault, rng: inout RandomSource) {
        geometry = ConvGeometry(kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups)
        self.outputPadding = outputPadding
        let shape: Shape = [inChannels, outChannels / groups, kernel, kernel]
        let w = initializer.make(shape, using: &rng)
        let bound = 1 / Float(Initializer.fans(shape).fanIn).squareRoot()
        let b = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, using: &rng) : nil
        self.weight = Parameter(w)
        self.bias = b.map(Parameter.init)
        super.init()
        adopt("weight", weight)
        if let p = self.bias { adopt("bias", p) }
    }

    public override func forward(_ x: Variable) -> Variable {
        convTranspose2d(x, weight: weight.variable, bias: bias?.variable, geometry: geometry,
                        outputPadding: (outputPadding, outputPadding))
    }
}

/// Fully connected layer (PyTorch's `Linear`): `[N, in] → [N, out]`, `weight [out, in]`, `bias [out]`.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .torchDefault,
                rng: inout RandomSource) {
        let w = initializer.make([outFeatures, inFeatures], using: &rng)
        let bound = 1 / Float(inFeatures).squareRoot()
        let b = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, using: &rng) : nil
        self.weight = Parameter(w)
        self.bias = b.map(Parameter.init)
        super.init()
        adopt("weight", weight)
        if let p = self.bias { adopt("bias", p) }
    }

    public override func forward(_ x: Variable) -> Variable {
        linear(x, weight: weight.variable, bias: bias?.variable)
    }
}

extension Module {
    /// Registers an already-created parameter (layers create theirs before `super.init`).
    func adopt(_ name: String, _ p: Parameter) {
        registerExisting(name, p)
    }
}
