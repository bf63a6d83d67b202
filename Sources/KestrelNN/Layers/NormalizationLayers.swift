/// Batch normalisation (PyTorch's `BatchNorm2d`, also for `[N, C]`). Training mode normalises with the
/// batch's statistics and updates the running ones: `running = (1 − momentum)·running + momentum·batch`, with
/// the unbiased batch variance (×n/(n−1)), as PyTorch does. Evaluation mode uses the running statistics.
/// Parameters `weight` (γ, init 1) and `bias` (β, init 0), `[C]`; buffers `running_mean`, `running_var`,
/// `num_batches_tracked`.
public final class BatchNorm2D: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVar: Buffer
    public let batchesTracked: Buffer
    public let eps: Float
    public let momentum: Float

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor.ones([channels]))
        bias = Parameter(Tensor.zeros([channels]))
        runningMean = Buffer(Tensor.zeros([channels]))
        runningVar = Buffer(Tensor.ones([channels]))
        batchesTracked = Buffer(Tensor(0), isInteger: true)
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
        adoptBuffer("running_mean", runningMean)
        adoptBuffer("running_var", runningVar)
        adoptBuffer("num_batches_tracked", batchesTracked)
    }

    public override func forward(_ x: Variable) -> Variable { forward(x, relu: false) }

    /// `relu(bn(x) + residual)` (without `relu`, no ReLU; without a residual, no sum): in training, one op
    /// (``batchNormTraining(_:gamma:beta:eps:relu:residual:)``); in evaluation, the batch norm then the rest.
    public func forward(_ x: Variable, relu: Bool, residual: Variable? = nil) -> Variable {
        guard isTraining else {
            let y = batchNormInference(x, gamma: weight.variable, beta: bias.variable, runningMean: runningMean.value,
                                       runningVariance: runningVar.value, eps: eps)
            if let residual { return relu ? addReLU(y, residual) : y + residual }
            return relu ? y.relu() : y
        }
        let (y, stats) = batchNormTraining(x, gamma: weight.variable, beta: bias.variable, eps: eps, relu: relu,
                                           residual: residual)
        let unbias = stats.count > 1 ? Float(stats.count) / Float(stats.count - 1) : 1
        runningMean.value = runningMean.value * (1 - momentum) + stats.mean * momentum
        runningVar.value = runningVar.value * (1 - momentum) + stats.variance * (momentum * unbias)
        batchesTracked.value = Tensor(batchesTracked.value.item + 1)
        return y
    }
}

/// Layer normalisation over the trailing `normalizedShape` dimensions, with elementwise affine parameters of
/// that shape (PyTorch's `LayerNorm`).
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ normalizedShape: Shape, eps: Float = 1e-5) {
        self.eps = eps
        weight = Parameter(Tensor.ones(normalizedShape))
        bias = Parameter(Tensor.zeros(normalizedShape))
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
    }

    public override func forward(_ x: Variable) -> Variable {
        layerNorm(x, gamma: weight.variable, beta: bias.variable, eps: eps)
    }
}

/// Group normalisation (PyTorch's `GroupNorm`) of `[N, C, H, W]`: statistics per sample over groups of C/groups
/// channels; per-channel affine `[C]`. `InstanceNorm2D` is the case groups = C.
public final class GroupNorm: Module {
    public let groups: Int
    public let weight: Parameter?
    public let bias: Parameter?
    public let eps: Float

    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(channels % groups == 0, "\(channels) channels in \(groups) groups")
        self.groups = groups
        self.eps = eps
        weight = affine ? Parameter(Tensor.ones([channels])) : nil
        bias = affine ? Parameter(Tensor.zeros([channels])) : nil
        super.init()
        if let weight, let bias {
            adopt("weight", weight)
            adopt("bias", bias)
        }
    }

    public override func forward(_ x: Variable) -> Variable {
        groupNorm(x, groups: groups, gamma: weight?.variable, beta: bias?.variable, eps: eps)
    }
}

/// Instance normalisation (PyTorch's `InstanceNorm2d`, default `affine: false`, no running statistics).
public func InstanceNorm2D(_ channels: Int, eps: Float = 1e-5, affine: Bool = false) -> GroupNorm {
    GroupNorm(groups: channels, channels: channels, eps: eps, affine: affine)
}

extension Module {
    func adoptBuffer(_ name: String, _ b: Buffer) { registerExisting(buffer: name, b) }
}
