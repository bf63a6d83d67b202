import KestrelModels

/// SegNet (Badrinarayanan, Kendall & Cipolla 2017; the Caffe reference `segnet_train.prototxt`): an encoder of
/// 3×3 convolutions with batch norm and ReLU whose 2×2 max poolings remember where each maximum came from, and a
/// mirrored decoder that **max-unpools** with those indices (each value goes back to the position its maximum
/// had; the rest are zeros) and densifies the sparse map with 3×3 convolutions. No upsampling weights are
/// learnt: the pooling indices carry the boundary positions up.
///
/// Blocks: encoder block b has `blocks[b]` convolutions of width `blocks[b][i]`, then a pooling (ceil mode, so
/// odd sizes keep their last row and column; unpooling restores each pre-pool size exactly). Decoder block b
/// (deepest first) unpools, then has as many convolutions, each of encoder block b's width except the last,
/// which narrows to block b − 1's width; the very last outputs class scores (no batch norm, no ReLU).
/// `vgg16Blocks` is the paper's SegNet (VGG-16's 13 convolutions). Keys follow the reference: `conv1_1`,
/// `conv1_1_bn`, …, decoder `conv5_3_D`, `conv5_3_D_bn`, …, `conv1_1_D`.
///
/// Input `[N, C, H, W]` → logits `[N, classes, H, W]` for any H, W ≥ 1.
public final class SegNet: Module, Segmenter {
    public let classes: Int
    public let blocks: [[Int]]
    var encoder: [[(conv: Conv2D, bn: BatchNorm2D)]] = []
    var decoder: [[(conv: Conv2D, bn: BatchNorm2D?)]] = []

    /// The paper's encoder: VGG-16's convolutions.
    public static let vgg16Blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]

    public init(blocks: [[Int]] = SegNet.vgg16Blocks, classes: Int, inputChannels: Int = 3, rng: inout RandomSource) {
        precondition(!blocks.isEmpty && blocks.allSatisfy { !$0.isEmpty }, "SegNet needs non-empty blocks")
        self.classes = classes
        self.blocks = blocks
        var c = inputChannels
        for widths in blocks {
            var layers: [(conv: Conv2D, bn: BatchNorm2D)] = []
            for w in widths {
                layers.append((Conv2D(c, w, kernel: 3, padding: 1, initializer: .kaimingNormal(fanOut: true), rng: &rng), BatchNorm2D(w)))
                c = w
            }
            encoder.append(layers)
        }
        // Decoder, deepest block first.
        for b in blocks.indices.reversed() {
            var layers: [(conv: Conv2D, bn: BatchNorm2D?)] = []
            let widths = blocks[b]
            for i in widths.indices {
                let last = i == widths.count - 1
                let out = last ? (b == 0 ? classes : blocks[b - 1].last!) : widths[widths.count - 1 - i]
                let isScore = last && b == 0
                layers.append((Conv2D(c, out, kernel: 3, padding: 1, initializer: isScore ? .kaimingNormal() : .kaimingNormal(fanOut: true), rng: &rng),
                               isScore ? nil : BatchNorm2D(out)))
                c = out
            }
            decoder.append(layers)
        }
        super.init()
        for (b, layers) in encoder.enumerated() {
            for (i, l) in layers.enumerated() {
                register("conv\(b + 1)_\(i + 1)", l.conv)
                register("conv\(b + 1)_\(i + 1)_bn", l.bn)
            }
        }
        for (k, layers) in decoder.enumerated() {
            let b = blocks.count - 1 - k
            let n = layers.count
            for (i, l) in layers.enumerated() {
                // The reference numbers decoder layers downwards: conv5_3_D, conv5_2_D, conv5_1_D.
                let name = "conv\(b + 1)_\(n - i)_D"
                register(name, l.conv)
                if let bn = l.bn { register(name + "_bn", bn) }
            }
        }
    }

    public override func forward(_ x: Variable) -> Variable {
        var h = x
        var pools: [(indices: [Int32], size: (h: Int, w: Int))] = []
        for layers in encoder {
            for l in layers { h = l.bn(l.conv(h)).relu() }
            let size = (h: h.shape[2], w: h.shape[3])
            let r = maxPool2d(h, geometry: ConvGeometry(kernel: 2, stride: 2), ceilMode: true, indices: true)
            pools.append((r.indices, size))
            h = r.output
        }
        for (k, layers) in decoder.enumerated() {
            let p = pools[pools.count - 1 - k]
            h = maxUnpool2d(h, indices: p.indices, outputSize: p.size)
            for l in layers {
                h = l.conv(h)
                if let bn = l.bn { h = bn(h).relu() }
            }
        }
        return h
    }
}
