import KestrelGeometry
import KestrelImage

/// Mirrors left–right: pixel column `x` moves to `W − 1 − x`; a box `[x1, x2]` becomes `[W − x2, W − x1]`.
public struct HorizontalFlip: Transform {
    public init() {}

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Void {}

    public func apply(_ parameters: Void, to sample: inout Sample) {
        let w = Double(sample.width)
        sample.image = GeometryKernels.flipHorizontal(sample.image)
        if let mask = sample.mask { sample.mask = GeometryKernels.flipHorizontal(mask) }
        for i in sample.boxes.indices {
            let b = sample.boxes[i].box
            sample.boxes[i].box = BoxXYXY(x1: w - b.x2, y1: b.y1, x2: w - b.x1, y2: b.y2)
        }
    }
}

/// Mirrors top–bottom: row `y` moves to `H − 1 − y`; a box `[y1, y2]` becomes `[H − y2, H − y1]`.
public struct VerticalFlip: Transform {
    public init() {}

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Void {}

    public func apply(_ parameters: Void, to sample: inout Sample) {
        let h = Double(sample.height)
        sample.image = GeometryKernels.flipVertical(sample.image)
        if let mask = sample.mask { sample.mask = GeometryKernels.flipVertical(mask) }
        for i in sample.boxes.indices {
            let b = sample.boxes[i].box
            sample.boxes[i].box = BoxXYXY(x1: b.x1, y1: h - b.y2, x2: b.x2, y2: h - b.y1)
        }
    }
}

/// Quarter turns counter-clockwise, as numpy's `rot90(m, k)`: `k` is drawn uniformly from `turns`.
///
/// For `k = 1` a `W × H` image becomes `H × W` and the point `(x, y)` moves to `(y, W − x)`; `k = 2`:
/// `(W − x, H − y)`; `k = 3`: `(H − y, x)`. Exact for pixels, boxes and masks.
public struct Rot90: Transform {
    /// The quarter-turn counts to choose from, each in 0...3.
    public let turns: [Int]

    /// `turns` defaults to `[0, 1, 2, 3]` (albumentations' RandomRotate90); a single value fixes the turn.
    public init(turns: [Int] = [0, 1, 2, 3]) throws(AugmentError) {
        guard !turns.isEmpty, turns.allSatisfy({ (0...3).contains($0) }) else {
            throw .parameter("rot90 k must be 0, 1, 2 or 3 (or a list of them), got \(turns)")
        }
        self.turns = turns
    }

    public func sampleParameters(for sample: Sample, context: inout AugmentContext) -> Int {
        turns[context.random.integer(in: 0...(turns.count - 1))]
    }

    public func apply(_ k: Int, to sample: inout Sample) {
        let k = ((k % 4) + 4) % 4
        guard k != 0 else { return }
        let w = Double(sample.width)
        let h = Double(sample.height)
        sample.image = GeometryKernels.rotate90(sample.image, k: k)
        if let mask = sample.mask { sample.mask = GeometryKernels.rotate90(mask, k: k) }
        for i in sample.boxes.indices {
            let b = sample.boxes[i].box
            sample.boxes[i].box =
                switch k {
                case 1: BoxXYXY(x1: b.y1, y1: w - b.x2, x2: b.y2, y2: w - b.x1)
                case 2: BoxXYXY(x1: w - b.x2, y1: h - b.y2, x2: w - b.x1, y2: h - b.y1)
                default: BoxXYXY(x1: h - b.y2, y1: b.x1, x2: h - b.y1, y2: b.x2)
                }
        }
    }
}
