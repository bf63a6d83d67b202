@_exported import KestrelNN

/// torchvision's initialisation for convolutions in its model zoo: Kaiming normal, fan-out, ReLU gain.
let convInit = Initializer.kaimingNormal(a: 0, fanOut: true)

/// conv (no bias) → batch norm (→ activation): torchvision's `Conv2dNormActivation`, registered as a
/// Sequential so the state-dict keys are `N.0.weight` (conv) and `N.1.weight/bias/running_*` (norm).
func convBN(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int? = nil, groups: Int = 1,
            activation: Activation.Kind? = .relu, rng: inout RandomSource) -> Sequential {
    let seq = Sequential(
        Conv2D(cin, cout, kernel: kernel, stride: stride, padding: padding ?? (kernel - 1) / 2, groups: groups,
               bias: false, initializer: convInit, rng: &rng),
        BatchNorm2D(cout))
    if let activation { seq.append(Activation(activation)) }
    return seq
}

/// A classifier: images `[N, C, H, W]` → logits `[N, classes]`.
public protocol ImageClassifier: Module {
    var classes: Int { get }
}
