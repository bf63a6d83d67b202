import KestrelNN

/// Checks a differentiable op against a Double-precision reference:
/// 1. forward: our Float32 output equals `reference` evaluated in Double on the same input values, within
///    `forwardTolerance` (atol, rtol);
/// 2. backward: with a random upstream gradient g (seeded), the gradient our backward puts on each checked input
///    equals the central finite difference `(L(x + h) − L(x − h)) / 2h` of `L = Σ g ⊙ reference(x)` computed in
///    Double (h = 1e-6), within `atol + rtol·|expected|`.
/// Inputs not in `checking` (default: all) are passed without requiring gradients. At most `maxElements`
/// elements per input are perturbed (a seeded sample). Returns the failures as messages (empty = pass).
public func gradientCheck(
    _ inputs: [Tensor], checking: Set<Int>? = nil, seed: UInt64 = 1,
    atol: Double = 1e-4, rtol: Double = 1e-3, forwardTolerance: (Double, Double) = (1e-5, 1e-4),
    maxElements: Int = 48, _ op: ([Variable]) -> Variable, reference: ([RefTensor]) -> RefTensor
) -> [String] {
    let checked = checking ?? Set(inputs.indices)
    let vars = inputs.enumerated().map { Variable($0.element, requiresGrad: checked.contains($0.offset)) }
    let y = op(vars)
    var failures: [String] = []
    let refs = inputs.map(RefTensor.init)
    let yRef = reference(refs)
    if y.shape.dims != yRef.shape && !(y.shape.dims.isEmpty && yRef.count == 1) {
        return ["forward shape \(y.shape) vs reference \(yRef.shape)"]
    }
    let fwd = closeness(y.value.scalars, yRef.data, atol: forwardTolerance.0, rtol: forwardTolerance.1)
    if !fwd.ok { failures.append("forward: \(fwd.message)") }
    var rng = RandomSource(seed: seed &+ 0x9E37)
    let g = Tensor.uniform(y.shape, low: -1, high: 1, using: &rng)
    y.backward(gradient: g)
    let gd = g.scalars.map(Double.init)
    func loss(_ xs: [RefTensor]) -> Double {
        let out = reference(xs)
        var acc = 0.0
        for (a, b) in zip(out.data, gd) { acc += a * b }
        return acc
    }
    let h = 1e-6
    for i in checked.sorted() {
        guard let grad = vars[i].grad?.scalars else {
            failures.append("input \(i): no gradient")
            continue
        }
        var positions = Array(0..<inputs[i].count)
        if positions.count > maxElements {
            positions.shuffle(using: &rng)
            positions = Array(positions.prefix(maxElements)).sorted()
        }
        var expected: [Double] = []
        var actual: [Float] = []
        for j in positions {
            var plus = refs, minus = refs
            plus[i].data[j] += h
            minus[i].data[j] -= h
            expected.append((loss(plus) - loss(minus)) / (2 * h))
            actual.append(grad[j])
        }
        let c = closeness(actual, expected, atol: atol, rtol: rtol)
        if !c.ok { failures.append("input \(i) gradient: \(c.message) (element \(positions[c.index]))") }
    }
    return failures
}
