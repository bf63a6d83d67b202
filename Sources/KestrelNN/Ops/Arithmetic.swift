// Arithmetic, shape and reduction ops. Each function computes the forward and records the backward right
// beside it. Broadcasting ops sum their gradient back to each operand's shape.

public func + (a: Variable, b: Variable) -> Variable {
    let (sa, sb) = (a.shape, b.shape)
    return record("add", [a, b], a.value + b.value) { gy, needs in
        [needs[0] ? gy.summed(toShape: sa) : nil, needs[1] ? gy.summed(toShape: sb) : nil]
    }
}

public func - (a: Variable, b: Variable) -> Variable {
    let (sa, sb) = (a.shape, b.shape)
    return record("sub", [a, b], a.value - b.value) { gy, needs in
        [needs[0] ? gy.summed(toShape: sa) : nil, needs[1] ? (-gy).summed(toShape: sb) : nil]
    }
}

public func * (a: Variable, b: Variable) -> Variable {
    let (va, vb) = (a.value, b.value)
    return record("mul", [a, b], va * vb) { gy, needs in
        [needs[0] ? (gy * vb).summed(toShape: va.shape) : nil, needs[1] ? (gy * va).summed(toShape: vb.shape) : nil]
    }
}

public func / (a: Variable, b: Variable) -> Variable {
    let (va, vb) = (a.value, b.value)
    return record("div", [a, b], va / vb) { gy, needs in
        [needs[0] ? (gy / vb).summed(toShape: va.shape) : nil,
         needs[1] ? (-(gy * va) / (vb * vb)).summed(toShape: vb.shape) : nil]
    }
}

public func + (a: Variable, s: Float) -> Variable { record("add_scalar", [a], a.value + s) { gy, _ in [gy] } }
public func - (a: Variable, s: Float) -> Variable { record("sub_scalar", [a], a.value - s) { gy, _ in [gy] } }
public func * (a: Variable, s: Float) -> Variable { record("mul_scalar", [a], a.value * s) { gy, _ in [gy * s] } }
public func * (s: Float, a: Variable) -> Variable { a * s }
public func / (a: Variable, s: Float) -> Variable { a * (1 / s) }
public prefix func - (a: Variable) -> Variable { record("neg", [a], -a.value) { gy, _ in [-gy] } }

/// Matrix product `[m, k] · [k, n] → [m, n]`.
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
    let (va, vb) = (a.value, b.value)
    return record("matmul", [a, b], Tensor.matmul(va, vb)) { gy, needs in
        [needs[0] ? Tensor.matmul(gy, vb, transposeB: true) : nil,  // dA = dY · Bᵀ
         needs[1] ? Tensor.matmul(va, gy, transposeA: true) : nil]  // dB = Aᵀ · dY
    }
}

extension Variable {
    /// Sum of all elements, shape `[]`.
    public func sum() -> Variable {
        let shape = self.shape
        return record("sum", [self], Tensor(value.sum())) { gy, _ in [Tensor(shape: shape, repeating: gy.item)] }
    }

    /// Mean of all elements, shape `[]` (0 for an empty tensor).
    public func mean() -> Variable {
        let shape = self.shape
        let n = Float(Swift.max(shape.count, 1))
        return record("mean", [self], Tensor(value.mean())) { gy, _ in [Tensor(shape: shape, repeating: gy.item / n)] }
    }

    /// Sum along `axis`.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        let shape = self.shape
        var kept = shape.dims
        kept[axis] = 1
        return record("sum_axis", [self], value.sum(alongAxis: axis, keepingDimension: keepingDimension)) { gy, _ in
            [Tensor.zeros(shape) + gy.reshaped(kept)]
        }
    }

    /// Mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Float(Swift.max(shape[axis], 1)))
    }

    /// The same elements with another shape (one dimension may be -1).
    public func reshaped(_ dims: [Int]) -> Variable {
        let shape = self.shape
        return record("reshape", [self], value.reshaped(dims)) { gy, _ in [gy.reshaped(shape)] }
    }

    /// `[N, d1, d2, …] → [N, d1·d2·…]`.
    public func flattened() -> Variable { reshaped([shape[0], -1]) }

    /// Axes reordered (result axis i is input axis `axes[i]`).
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return record("permute", [self], value.permuted(axes)) { gy, _ in [gy.permuted(inverse)] }
    }

    /// Elements `range` along `axis`.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Variable {
        let shape = self.shape
        return record("slice", [self], value.slice(alongAxis: axis, range)) { gy, _ in
            var g = Tensor.zeros(shape)
            g.addSlice(gy, alongAxis: axis, at: range.lowerBound)
            return [g]
        }
    }

    public func exp() -> Variable {
        let y = value.exp()
        return record("exp", [self], y) { gy, _ in [gy * y] }
    }

    public func log() -> Variable {
        let x = value
        return record("log", [self], x.log()) { gy, _ in [gy / x] }
    }

    public func squared() -> Variable {
        let x = value
        return record("square", [self], x.squared()) { gy, _ in [gy * x * 2] }
    }

    public func sqrt() -> Variable {
        let y = value.sqrt()
        return record("sqrt", [self], y) { gy, _ in [gy / (y * 2)] }
    }

    public func pow(_ p: Float) -> Variable {
        let x = value
        return record("pow", [self], x.pow(p)) { gy, _ in [gy * x.pow(p - 1) * p] }
    }
}

/// Tensors joined along `axis` (channel concatenation in DenseNet and FCN is `axis: 1`).
public func concatenate(_ xs: [Variable], alongAxis axis: Int) -> Variable {
    let sizes = xs.map { $0.shape[axis] }
    return record("concat", xs, Tensor.concatenated(xs.map(\.value), alongAxis: axis)) { gy, needs in
        var start = 0
        return sizes.enumerated().map { i, size in
            defer { start += size }
            return needs[i] ? gy.slice(alongAxis: axis, start..<(start + size)) : nil
        }
    }
}
