import KestrelGeometry

/// SSD default (prior) boxes: for every cell of every feature map, boxes of a few aspect ratios centred on the
/// cell (Liu et al. 2016, §2.2 "Choosing scales and aspect ratios for default boxes").
///
/// Coordinates are normalised to the input image ([0, 1]), centre form. On feature map k of size f_k×f_k with
/// step s_k (the input pixels between cell centres), cell (i, j) has centre ((j + 0.5)·s_k/S, (i + 0.5)·s_k/S)
/// for input side S. Its boxes, in this order (the Caffe reference's): a square of side min_k/S; a square of
/// side √(min_k·max_k)/S (the "extra" box of scale √(s_k·s_{k+1})); then for each aspect ratio a, a box of
/// width (min_k/S)·√a and height (min_k/S)/√a, and its transpose. Boxes are clipped to [0, 1] when `clip`.
public struct DefaultBoxConfig: Sendable, Equatable, Codable {
    public var imageSize: Int
    public var featureMapSizes: [Int]
    public var steps: [Double]
    /// min_k in input pixels.
    public var minSizes: [Double]
    /// max_k in input pixels (the extra box's second scale).
    public var maxSizes: [Double]
    /// Aspect ratios besides 1 (each adds a and 1/a).
    public var aspectRatios: [[Double]]
    public var clip: Bool

    public init(imageSize: Int, featureMapSizes: [Int], steps: [Double], minSizes: [Double], maxSizes: [Double],
                aspectRatios: [[Double]], clip: Bool = true) {
        self.imageSize = imageSize
        self.featureMapSizes = featureMapSizes
        self.steps = steps
        self.minSizes = minSizes
        self.maxSizes = maxSizes
        self.aspectRatios = aspectRatios
        self.clip = clip
    }

    /// SSD300 as the original Caffe `ssd_pascal.py` builds it: conv4_3 at scale 0.1 (30 px), then the paper's
    /// linear scales s_min = 0.2 … s_max = 0.9 over the remaining five maps (step ⌊(90 − 20)/4⌋ = 17%:
    /// 60, 111, 162, 213, 264 px), each map's max size the next one's min (315 for the last). 8,732 boxes.
    public static let ssd300 = paperScales(imageSize: 300, featureMapSizes: [38, 19, 10, 5, 3, 1],
                                           steps: [8, 16, 32, 64, 100, 300],
                                           aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]])

    /// The paper's scale rule as the Caffe reference implements it (percent ratios from 20 to 90 in integer
    /// steps, the first map at half the smallest ratio).
    public static func paperScales(imageSize: Int, featureMapSizes: [Int], steps: [Double], aspectRatios: [[Double]],
                                   minRatio: Int = 20, maxRatio: Int = 90, clip: Bool = true) -> DefaultBoxConfig {
        let m = featureMapSizes.count
        precondition(m >= 3, "the paper's scales need at least 3 feature maps")
        let step = (maxRatio - minRatio) / (m - 2)
        let s = Double(imageSize)
        var mins: [Double] = [s * Double(minRatio / 2) / 100]
        var maxs: [Double] = [s * Double(minRatio) / 100]
        for r in stride(from: minRatio, to: minRatio + step * (m - 1), by: step) {
            mins.append(s * Double(r) / 100)
            maxs.append(s * Double(r + step) / 100)
        }
        return DefaultBoxConfig(imageSize: imageSize, featureMapSizes: featureMapSizes, steps: steps, minSizes: mins,
                                maxSizes: maxs, aspectRatios: aspectRatios, clip: clip)
    }

    /// Boxes per cell on each feature map: 2 + 2·(number of aspect ratios).
    public var boxesPerCell: [Int] { aspectRatios.map { 2 + 2 * $0.count } }

    /// Total number of default boxes.
    public var count: Int { zip(featureMapSizes, boxesPerCell).reduce(0) { $0 + $1.0 * $1.0 * $1.1 } }

    /// All default boxes: feature map by feature map, cells row by row, the cell's boxes in the order above.
    /// This is the order the heads' outputs are flattened in (`[N, H, W, k·…]` → `[N, H·W·k, …]`).
    public func boxes() -> [BoxCXCYWH] {
        let s = Double(imageSize)
        var out: [BoxCXCYWH] = []
        out.reserveCapacity(count)
        for (k, f) in featureMapSizes.enumerated() {
            let sk = minSizes[k] / s
            let extra = (minSizes[k] * maxSizes[k]).squareRoot() / s
            for i in 0..<f {
                for j in 0..<f {
                    let cx = (Double(j) + 0.5) * steps[k] / s
                    let cy = (Double(i) + 0.5) * steps[k] / s
                    var cell = [BoxCXCYWH(cx: cx, cy: cy, width: sk, height: sk),
                                BoxCXCYWH(cx: cx, cy: cy, width: extra, height: extra)]
                    for a in aspectRatios[k] {
                        let r = a.squareRoot()
                        cell.append(BoxCXCYWH(cx: cx, cy: cy, width: sk * r, height: sk / r))
                        cell.append(BoxCXCYWH(cx: cx, cy: cy, width: sk / r, height: sk * r))
                    }
                    if clip {
                        cell = cell.map {
                            BoxCXCYWH(cx: min(max($0.cx, 0), 1), cy: min(max($0.cy, 0), 1), width: min(max($0.width, 0), 1),
                                      height: min(max($0.height, 0), 1))
                        }
                    }
                    out += cell
                }
            }
        }
        return out
    }
}
