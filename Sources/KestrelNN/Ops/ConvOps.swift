// Convolution and transposed convolution. The arithmetic lives in KestrelTensor's `Convolution` (im2col +
// GEMM); here each op's forward and backward sit side by side:
//   conv:            y = W ⋆ x + b      dx = col2im(Wᵀ·dy)   dW = Σ dy·colsᵀ   db = Σ dy
//   conv-transpose:  y = col2im(Wᵀ·x)   dx = W ⋆ dy          dW = Σ x·cols(dy)ᵀ  db = Σ dy

/// 2-D convolution: x `[N, C, H, W]`, weight `[Cout, C/groups, kh, kw]`, bias `[Cout]` → `[N, Cout, OH, OW]`.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, geometry g: ConvGeometry) -> Variable {
    let (xv, wv) = (x.value, weight.value)
    let y = Convolution.forward(xv, weight: wv, bias: bias?.value, geometry: g)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return record("conv2d", inputs, y) { gy, needs in
        var grads: [Tensor?] = [
            needs[0] ? Convolution.backwardData(gy, weight: wv, inputShape: xv.shape, geometry: g) : nil,
            needs[1] ? Convolution.backwardWeight(gy, input: xv, weightShape: wv.shape, geometry: g) : nil,
        ]
        if inputs.count == 3 { grads.append(needs[2] ? Convolution.backwardBias(gy) : nil) }
        return grads
    }
}

/// Output size of a transposed convolution (PyTorch's ConvTranspose2d):
/// `(in − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1`.
public func convTranspose2dOutputSize(h: Int, w: Int, geometry g: ConvGeometry, outputPadding: (Int, Int)) -> (Int, Int) {
    ((h - 1) * g.strideH - 2 * g.padH + g.dilationH * (g.kernelH - 1) + outputPadding.0 + 1,
     (w - 1) * g.strideW - 2 * g.padW + g.dilationW * (g.kernelW - 1) + outputPadding.1 + 1)
}

/// Transposed convolution (the adjoint of `conv2d` with the same geometry), PyTorch's ConvTranspose2d:
/// x `[N, Cin, H, W]`, weight `[Cin, Cout/groups, kh, kw]`, bias `[Cout]` → `[N, Cout, OH, OW]` with OH from
/// ``convTranspose2dOutputSize(h:w:geometry:outputPadding:)``. `outputPadding` must be smaller than the stride
/// or the dilation.
public func convTranspose2d(_ x: Variable, weight: Variable, bias: Variable?, geometry g: ConvGeometry,
                            outputPadding: (Int, Int) = (0, 0)) -> Variable {
    let (xv, wv) = (x.value, weight.value)
    precondition(xv.rank == 4 && wv.rank == 4 && xv.shape[1] == wv.shape[0],
                 "conv-transpose input \(xv.shape) and weight \(wv.shape) (weight is [Cin, Cout/groups, kh, kw])")
    precondition(outputPadding.0 < max(g.strideH, g.dilationH) && outputPadding.1 < max(g.strideW, g.dilationW),
                 "output padding must be smaller than stride or dilation")
    let (oh, ow) = convTranspose2dOutputSize(h: xv.shape[2], w: xv.shape[3], geometry: g, outputPadding: outputPadding)
    let outShape: Shape = [xv.shape[0], wv.shape[1] * g.groups, oh, ow]
    var y = Convolution.backwardData(xv, weight: wv, inputShape: outShape, geometry: g)
    if let b = bias?.value { y = y + b.reshaped([1, -1, 1, 1]) }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return record("conv_transpose2d", inputs, y) { gy, needs in
        var grads: [Tensor?] = [
            needs[0] ? Convolution.forward(gy, weight: wv, bias: nil, geometry: g) : nil,
            needs[1] ? Convolution.backwardWeight(xv, input: gy, weightShape: wv.shape, geometry: g) : nil,
        ]
        if inputs.count == 3 { grads.append(needs[2] ? Convolution.backwardBias(gy) : nil) }
        return grads
    }
}

/// Fully connected layer, PyTorch's layout: x `[N, in]`, weight `[out, in]`, bias `[out]` → `[N, out]`.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    let (xv, wv) = (x.value, weight.value)
    var y = xv.rank == 2 && xv.shape[0] <= 4 ? fewRowsTimesTransposed(xv, wv) : Tensor.matmul(xv, wv, transposeB: true)
    if let b = bias?.value { y = y + b }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return record("linear", inputs, y) { gy, needs in
        var grads: [Tensor?] = [
            needs[0] ? Tensor.matmul(gy, wv) : nil,  // dx = dy·W
            needs[1] ? Tensor.matmul(gy, xv, transposeA: true) : nil,  // dW = dyᵀ·x
        ]
        if inputs.count == 3 { grads.append(needs[2] ? gy.sum(alongAxis: 0) : nil) }
        return grads
    }
}

/// x `[m, k]` · wᵀ (w `[n, k]`) for a few rows m (inference on single images): one dot product per output, the
/// weights streamed once. A GEMM would first pack all of wᵀ into panels — a copy of the whole matrix for a
/// handful of outputs (0.8 ms of MobileNet's 10 at batch 1).
func fewRowsTimesTransposed(_ x: Tensor, _ w: Tensor) -> Tensor {
    precondition(w.rank == 2 && x.shape[1] == w.shape[1], "linear of \(x.shape) and weight \(w.shape)")
    let (m, k, n) = (x.shape[0], x.shape[1], w.shape[0])
    return x.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
            let xs = SendablePointer(px.baseAddress!), ws = SendablePointer(pw.baseAddress!)
            return Tensor(shape: [m, n]) { py in
                let ys = SendablePointer(py.baseAddress!)
                Compute.parallelFor(n, grain: Swift.max(1, 65536 / Swift.max(k, 1))) { r in
                    for o in r {
                        for i in 0..<m {
                            ys[i * n + o] = VectorReductions.sumAndDot(ws.base + o * k, xs.base + i * k, count: k).dot
                        }
                    }
                }
            }
        }
    }
}

/// `activation(bn(conv(x)) + residual)` (no residual: `activation(bn(conv(x)))`). With the batch norm in
/// evaluation mode and no gradient wanted (inference), one convolution whose epilogue applies the batch norm's
/// running statistics, the residual (a ResNet block's shortcut, the output's shape) and the ReLU / ReLU6 as it
/// stores each output — the output is written once instead of three or four times. Otherwise (training,
/// gradients, other activations) the ops in turn; the two agree to rounding.
public func convBatchNorm(_ x: Variable, _ conv: Conv2D, _ bn: BatchNorm2D, activation: Activation.Kind? = nil,
                          residual: Variable? = nil) -> Variable {
    fusedConv(x, conv, bn, activation, residual: residual)
}

/// `activation(conv(x))` (ReLU or ReLU6, as VGG's layers): with no gradient wanted, one convolution that applies
/// the bias and the activation as it stores each output; otherwise the two ops in turn.
public func convActivation(_ x: Variable, _ conv: Conv2D, activation: Activation.Kind) -> Variable {
    fusedConv(x, conv, nil, activation)
}

func fusedConv(_ x: Variable, _ conv: Conv2D, _ bn: BatchNorm2D?, _ activation: Activation.Kind?,
               residual: Variable? = nil) -> Variable {
    let fusedActivation: ConvEpilogue.Activation?
    switch activation {
    case nil, .identity?: fusedActivation = ConvEpilogue.Activation.none
    case .relu?: fusedActivation = .relu
    case .relu6?: fusedActivation = .relu6
    default: fusedActivation = nil
    }
    let parameters = [conv.weight.variable] + (bn.map { [$0.weight.variable, $0.bias.variable] } ?? [])
        + (conv.bias.map { [$0.variable] } ?? [])
    let wantsGradient = GradMode.isEnabled
        && (x.needsGrad || (residual?.needsGrad ?? false) || parameters.contains { $0.needsGrad })
    guard let fusedActivation, !(bn?.isTraining ?? false), !wantsGradient else {
        let z = conv(x)
        if let residual {
            switch (bn, activation) {
            case (let bn?, .relu?): return bn.forward(z, relu: true, residual: residual)
            case (let bn?, nil): return bn.forward(z, relu: false, residual: residual)
            default:
                let y = bn.map { $0(z) } ?? z
                if case .relu? = activation { return addReLU(y, residual) }
                return activation.map { Activation($0)(y + residual) } ?? y + residual
            }
        }
        if let bn, case .relu? = activation { return bn.forward(z, relu: true) }
        let y = bn.map { $0(z) } ?? z
        return activation.map { Activation($0)(y) } ?? y
    }
    var epilogue = ConvEpilogue(activation: fusedActivation, residual: residual?.value)
    if let bn {
        (epilogue.scale, epilogue.shift) = batchNormAffine(gamma: bn.weight.value, beta: bn.bias.value,
                                                           runningMean: bn.runningMean.value,
                                                           runningVariance: bn.runningVar.value, eps: bn.eps)
    }
    let y = Convolution.forward(x.value, weight: conv.weight.value, bias: conv.bias?.value, geometry: conv.geometry,
                                epilogue: epilogue)
    let name = (bn == nil ? "conv2d_act" : "conv2d_bn") + (residual == nil ? "" : "_add")
    return record(name, [x] + parameters + (residual.map { [$0] } ?? []), y) { _, _ in
        preconditionFailure("fused convolutions are recorded only when no gradient is wanted")
    }
}
