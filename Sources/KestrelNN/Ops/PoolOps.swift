// Pooling, unpooling and upsampling on `[N, C, H, W]`.
// Max pooling pads with −∞ and routes the gradient to the first maximum of each window in row-major scan order
// (PyTorch's CPU rule); its indices are flat offsets `h·W + w` inside each input plane, as PyTorch returns.

/// Max pooling result: the pooled variable and, per output element, the flat index of the chosen input element
/// within its `H·W` plane.
public struct MaxPoolResult {
    public let output: Variable
    public let indices: [Int32]
}

/// With `ceilMode` (PyTorch's `ceil_mode`), the output size rounds up, so a last partial window at the
/// bottom/right edge is kept (it must start inside the input or its left padding): SSD's VGG turns 75×75 into
/// 38×38 this way.
///
/// The indices are computed when `x` needs a gradient or `indices` is true (for unpooling); otherwise
/// ``MaxPoolResult/indices`` is empty, which saves a second pass in inference.
public func maxPool2d(_ x: Variable, geometry g: ConvGeometry, ceilMode: Bool = false, indices wantIndicesArgument: Bool = false) -> MaxPoolResult {
    let wantIndices = wantIndicesArgument || (x.needsGrad && GradMode.isEnabled)
    let xv = x.value
    let (n, c, h, w) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
    var (ohv, owv) = g.outputSize(h: h, w: w)
    if ceilMode {
        func ceilSize(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> Int {
            var out = (size + 2 * p - d * (k - 1) - 1 + (s - 1)) / s + 1
            if (out - 1) * s >= size + p { out -= 1 }
            return out
        }
        ohv = ceilSize(h, g.kernelH, g.strideH, g.padH, g.dilationH)
        owv = ceilSize(w, g.kernelW, g.strideW, g.padW, g.dilationW)
    }
    let (oh, ow) = (ohv, owv)
    precondition(oh > 0 && ow > 0, "pool window larger than the padded input \(h)x\(w)")
    precondition(g.padH * 2 <= g.kernelH && g.padW * 2 <= g.kernelW, "pool padding must be at most half the kernel")
    // Valid kernel taps per output row and column (every window holds at least one: the padding is at most half
    // the kernel), computed once, so the inner loops need no bounds checks.
    func tapRange(_ o: Int, _ stride: Int, _ pad: Int, _ dil: Int, _ k: Int, _ size: Int) -> Range<Int> {
        let start = o * stride - pad
        var lo = 0, hi = k
        while lo < k && start + lo * dil < 0 { lo += 1 }
        while hi > lo && start + (hi - 1) * dil >= size { hi -= 1 }
        return lo..<hi
    }
    // Valid taps as flat [lo, hi) pairs per output row and column, in plain buffers for the inner loop.
    var bounds = [Int](repeating: 0, count: 2 * (oh + ow))
    for p in 0..<oh {
        let r = tapRange(p, g.strideH, g.padH, g.dilationH, g.kernelH, h)
        bounds[2 * p] = r.lowerBound
        bounds[2 * p + 1] = r.upperBound
    }
    for q in 0..<ow {
        let r = tapRange(q, g.strideW, g.padW, g.dilationW, g.kernelW, w)
        bounds[2 * (oh + q)] = r.lowerBound
        bounds[2 * (oh + q) + 1] = r.upperBound
    }
    let (sh, sw, ph, pw, dh, dw) = (g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW)
    var indices = [Int32](repeating: 0, count: wantIndices ? n * c * oh * ow : 1)
    let y = bounds.withUnsafeBufferPointer { pb in
        let bd = SendablePointer(pb.baseAddress!)
        return indices.withUnsafeMutableBufferPointer { pi in
            let idx = SendablePointer(pi.baseAddress!)
            return xv.withUnsafeBufferPointer { px in
                let s = SendablePointer(px.baseAddress!)
                return Tensor.byPlanes([n, c, oh, ow], planes: n * c, planeSize: oh * ow) { plane, out in
                    let src = s.base + plane * h * w
                    let ix = idx.base + plane * oh * ow
                    let b = bd.base
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { columns in
                    let colMax = columns.baseAddress!
                    for p in 0..<oh {
                        let (rlo, rhi) = (b[2 * p], b[2 * p + 1])
                        let rowStart = p * sh - ph
                        // The maximum, separably and branch-free (data-dependent branches mispredict on real
                        // features): down the window's rows for every column (a vector loop), then across each
                        // window's columns. NaNs are skipped, as before.
                        colMax.update(repeating: -Float.infinity, count: w)
                        for i in rlo..<rhi {
                            let line = src + (rowStart + i * dh) * w
                            for t in 0..<w {
                                let v = line[t], m = colMax[t]
                                colMax[t] = v > m ? v : m
                            }
                        }
                        for q in 0..<ow {
                            let (clo, chi) = (b[2 * (oh + q)], b[2 * (oh + q) + 1])
                            let colStart = q * sw - pw
                            var best = -Float.infinity
                            for j in clo..<chi {
                                let v = colMax[colStart + j * dw]
                                best = v > best ? v : best
                            }
                            out[p * ow + q] = best
                            // Only when indices are wanted: the first tap in scan order that holds the maximum
                            // (ties go to the first).
                            guard wantIndices else { continue }
                            var arg = -1
                            search: for i in rlo..<rhi {
                                let lineOffset = (rowStart + i * dh) * w + colStart
                                for j in clo..<chi where src[lineOffset + j * dw] == best {
                                    arg = lineOffset + j * dw
                                    break search
                                }
                            }
                            ix[p * ow + q] = Int32(arg)
                        }
                    }
                    }
                }
            }
        }
    }
    let saved = indices
    let output = record("max_pool2d", [x], y) { gy, _ in
        [scatterPlanes(gy, saved, into: xv.shape)]
    }
    return MaxPoolResult(output: output, indices: wantIndices ? indices : [])
}

/// Adds `src[n, c, k]` into `plane (n, c)` at flat offset `indices[n, c, k]` of a zero tensor of `shape`.
func scatterPlanes(_ src: Tensor, _ indices: [Int32], into shape: Shape) -> Tensor {
    let planes = shape[0] * shape[1]
    let planeIn = src.count / planes
    let planeOut = shape[2] * shape[3]
    return indices.withUnsafeBufferPointer { pi in
        let idx = SendablePointer(pi.baseAddress!)
        return src.withUnsafeBufferPointer { ps in
            let s = SendablePointer(ps.baseAddress!)
            return Tensor.byPlanes(shape, planes: planes, planeSize: planeOut) { plane, out in
                out.update(repeating: 0, count: planeOut)
                for k in 0..<planeIn {
                    let i = Int(idx[plane * planeIn + k])
                    out[i] += s[plane * planeIn + k]
                }
            }
        }
    }
}

/// Max unpooling (SegNet): places each input element at the position `indices` recorded by ``maxPool2d(_:geometry:)``
/// in a zero tensor `[N, C, outH, outW]`.
public func maxUnpool2d(_ x: Variable, indices: [Int32], outputSize: (h: Int, w: Int)) -> Variable {
    let xv = x.value
    precondition(indices.count == xv.count, "\(indices.count) indices for \(xv.count) elements")
    let outShape: Shape = [xv.shape[0], xv.shape[1], outputSize.h, outputSize.w]
    precondition(indices.allSatisfy { $0 >= 0 && Int($0) < outputSize.h * outputSize.w }, "unpool index out of range")
    let y = scatterPlanes(xv, indices, into: outShape)
    return record("max_unpool2d", [x], y) { gy, _ in
        let planes = outShape[0] * outShape[1]
        let planeIn = xv.count / planes, planeOut = outputSize.h * outputSize.w
        let g = indices.withUnsafeBufferPointer { pi in
            gy.withUnsafeBufferPointer { pg in
                Tensor(shape: xv.shape) { d in
                    for p in 0..<planes {
                        for k in 0..<planeIn { d[p * planeIn + k] = pg[p * planeOut + Int(pi[p * planeIn + k])] }
                    }
                }
            }
        }
        return [g]
    }
}

/// Average pooling. With `countIncludePad` (PyTorch's default) padded zeros count in the divisor (always
/// kernelH·kernelW); without, the divisor is the number of real input elements in the window.
public func avgPool2d(_ x: Variable, geometry g: ConvGeometry, countIncludePad: Bool = true) -> Variable {
    let xv = x.value
    let (n, c, h, w) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
    let (oh, ow) = g.outputSize(h: h, w: w)
    precondition(oh > 0 && ow > 0, "pool window larger than the padded input \(h)x\(w)")
    // Divisor per output position (the same for every plane).
    var divisors = [Float](repeating: 0, count: oh * ow)
    for p in 0..<oh {
        for q in 0..<ow {
            var count = 0
            for i in 0..<g.kernelH {
                for j in 0..<g.kernelW {
                    let ih = p * g.strideH - g.padH + i * g.dilationH, iw = q * g.strideW - g.padW + j * g.dilationW
                    if countIncludePad || (ih >= 0 && ih < h && iw >= 0 && iw < w) { count += 1 }
                }
            }
            divisors[p * ow + q] = Float(Swift.max(count, 1))
        }
    }
    let div = divisors
    let y = div.withUnsafeBufferPointer { pd in
        let dv = SendablePointer(pd.baseAddress!)
        return xv.withUnsafeBufferPointer { px in
            let s = SendablePointer(px.baseAddress!)
            return Tensor.byPlanes([n, c, oh, ow], planes: n * c, planeSize: oh * ow) { plane, out in
                let src = s.base + plane * h * w
                for p in 0..<oh {
                    for q in 0..<ow {
                        var acc: Float = 0
                        for i in 0..<g.kernelH {
                            let ih = p * g.strideH - g.padH + i * g.dilationH
                            if ih < 0 || ih >= h { continue }
                            for j in 0..<g.kernelW {
                                let iw = q * g.strideW - g.padW + j * g.dilationW
                                if iw >= 0 && iw < w { acc += src[ih * w + iw] }
                            }
                        }
                        out[p * ow + q] = acc / dv[p * ow + q]
                    }
                }
            }
        }
    }
    return record("avg_pool2d", [x], y) { gy, _ in
        let g2 = div.withUnsafeBufferPointer { pd in
            let dv = SendablePointer(pd.baseAddress!)
            return gy.withUnsafeBufferPointer { pg in
                let gs = SendablePointer(pg.baseAddress!)
                return Tensor.byPlanes(xv.shape, planes: n * c, planeSize: h * w) { plane, out in
                    out.update(repeating: 0, count: h * w)
                    let src = gs.base + plane * oh * ow
                    for p in 0..<oh {
                        for q in 0..<ow {
                            let v = src[p * ow + q] / dv[p * ow + q]
                            for i in 0..<g.kernelH {
                                let ih = p * g.strideH - g.padH + i * g.dilationH
                                if ih < 0 || ih >= h { continue }
                                for j in 0..<g.kernelW {
                                    let iw = q * g.strideW - g.padW + j * g.dilationW
                                    if iw >= 0 && iw < w { out[ih * w + iw] += v }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [g2]
    }
}

/// Global average pooling: `[N, C, H, W]` → `[N, C, 1, 1]` (torchvision's `AdaptiveAvgPool2d((1, 1))`).
public func globalAvgPool2d(_ x: Variable) -> Variable {
    let xv = x.value
    let (n, c, h, w) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
    let l = h * w
    let y = xv.withUnsafeBufferPointer { px in
        let s = SendablePointer(px.baseAddress!)
        return Tensor.byPlanes([n, c, 1, 1], planes: n * c, planeSize: 1) { plane, out in
            var acc: Float = 0
            for i in 0..<l { acc += s[plane * l + i] }
            out[0] = acc / Float(l)
        }
    }
    return record("global_avg_pool2d", [x], y) { gy, _ in
        [gy.withUnsafeBufferPointer { pg in
            let gs = SendablePointer(pg.baseAddress!)
            return Tensor.byPlanes(xv.shape, planes: n * c, planeSize: l) { plane, out in
                out.update(repeating: gs[plane] / Float(l), count: l)
            }
        }]
    }
}

/// Upsampling modes for ``upsample2d(_:height:width:mode:)``.
public enum UpsampleMode: Sendable, Equatable {
    /// PyTorch's `nearest`: output pixel (p, q) copies input `(⌊p·H/OH⌋, ⌊q·W/OW⌋)`.
    case nearest
    /// Bilinear. `alignCorners: true` maps the corner pixels' centres onto each other
    /// (`src = dst·(in − 1)/(out − 1)`); `false` (PyTorch's default) maps pixel areas
    /// (`src = (dst + 0.5)·in/out − 0.5`, clamped at 0).
    case bilinear(alignCorners: Bool)
}

/// Resizes `[N, C, H, W]` to `[N, C, height, width]`.
public func upsample2d(_ x: Variable, height oh: Int, width ow: Int, mode: UpsampleMode) -> Variable {
    let xv = x.value
    let (n, c, h, w) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
    precondition(oh > 0 && ow > 0)
    // Each output pixel is Σ weight·input over at most 4 taps: (offset, weight) pairs shared by all planes.
    var taps: [(Int, Float)] = []
    var tapsPerPixel = 1
    switch mode {
    case .nearest:
        for p in 0..<oh {
            for q in 0..<ow { taps.append((Swift.min(p * h / oh, h - 1) * w + Swift.min(q * w / ow, w - 1), 1)) }
        }
    case .bilinear(let alignCorners):
        tapsPerPixel = 4
        func source(_ d: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Float) {
            var s: Float
            if alignCorners {
                s = outSize > 1 ? Float(d) * Float(inSize - 1) / Float(outSize - 1) : 0
            } else {
                s = Swift.max((Float(d) + 0.5) * Float(inSize) / Float(outSize) - 0.5, 0)
            }
            let i0 = Swift.min(Int(s), inSize - 1)
            let i1 = Swift.min(i0 + 1, inSize - 1)
            return (i0, i1, s - Float(i0))
        }
        for p in 0..<oh {
            let (y0, y1, fy) = source(p, h, oh)
            for q in 0..<ow {
                let (x0, x1, fx) = source(q, w, ow)
                taps.append((y0 * w + x0, (1 - fy) * (1 - fx)))
                taps.append((y0 * w + x1, (1 - fy) * fx))
                taps.append((y1 * w + x0, fy * (1 - fx)))
                taps.append((y1 * w + x1, fy * fx))
            }
        }
    }
    let k = tapsPerPixel
    let offsets = taps.map { $0.0 }, weights = taps.map { $0.1 }
    let y = offsets.withUnsafeBufferPointer { po in
        weights.withUnsafeBufferPointer { pw in
            let off = SendablePointer(po.baseAddress!), wt = SendablePointer(pw.baseAddress!)
            return xv.withUnsafeBufferPointer { px in
                let s = SendablePointer(px.baseAddress!)
                return Tensor.byPlanes([n, c, oh, ow], planes: n * c, planeSize: oh * ow) { plane, out in
                    let src = s.base + plane * h * w
                    for o in 0..<(oh * ow) {
                        var acc: Float = 0
                        for t in 0..<k { acc += wt[o * k + t] * src[off[o * k + t]] }
                        out[o] = acc
                    }
                }
            }
        }
    }
    return record("upsample2d", [x], y) { gy, _ in
        [offsets.withUnsafeBufferPointer { po in
            weights.withUnsafeBufferPointer { pw in
                let off = SendablePointer(po.baseAddress!), wt = SendablePointer(pw.baseAddress!)
                return gy.withUnsafeBufferPointer { pg in
                    let gs = SendablePointer(pg.baseAddress!)
                    return Tensor.byPlanes(xv.shape, planes: n * c, planeSize: h * w) { plane, out in
                        out.update(repeating: 0, count: h * w)
                        let src = gs.base + plane * oh * ow
                        for o in 0..<(oh * ow) {
                            for t in 0..<k { out[off[o * k + t]] += wt[o * k + t] * src[o] }
                        }
                    }
                }
            }
        }]
    }
}

/// Adaptive average pooling to `[N, C, outH, outW]` (PyTorch's `AdaptiveAvgPool2d`): output cell (p, q) averages
/// input rows ⌊p·H/outH⌋ ..< ⌈(p+1)·H/outH⌉ and the matching columns. Cells may overlap when the output is
/// larger than the input (then inputs are replicated).
public func adaptiveAvgPool2d(_ x: Variable, outputSize: (h: Int, w: Int)) -> Variable {
    let xv = x.value
    let (n, c, h, w) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
    let (oh, ow) = outputSize
    precondition(oh > 0 && ow > 0, "adaptive pooling to \(oh)x\(ow)")
    if oh == 1 && ow == 1 { return globalAvgPool2d(x) }
    let rows = (0..<oh).map { p in (p * h / oh)..<(((p + 1) * h + oh - 1) / oh) }
    let cols = (0..<ow).map { q in (q * w / ow)..<(((q + 1) * w + ow - 1) / ow) }
    let y = xv.withUnsafeBufferPointer { px in
        let s = SendablePointer(px.baseAddress!)
        return Tensor.byPlanes([n, c, oh, ow], planes: n * c, planeSize: oh * ow) { plane, out in
            let src = s.base + plane * h * w
            for p in 0..<oh {
                for q in 0..<ow {
                    var acc: Float = 0
                    for i in rows[p] { for j in cols[q] { acc += src[i * w + j] } }
                    out[p * ow + q] = acc / Float(rows[p].count * cols[q].count)
                }
            }
        }
    }
    return record("adaptive_avg_pool2d", [x], y) { gy, _ in
        [gy.withUnsafeBufferPointer { pg in
            let gs = SendablePointer(pg.baseAddress!)
            return Tensor.byPlanes(xv.shape, planes: n * c, planeSize: h * w) { plane, out in
                out.update(repeating: 0, count: h * w)
                let src = gs.base + plane * oh * ow
                for p in 0..<oh {
                    for q in 0..<ow {
                        let v = src[p * ow + q] / Float(rows[p].count * cols[q].count)
                        for i in rows[p] { for j in cols[q] { out[i * w + j] += v } }
                    }
                }
            }
        }]
    }
}

/// ResNet's parameter-free "option A" shortcut (He et al. 2016, CIFAR): keeps every `stride`-th row and column
/// and adds `before` and `after` zero channels: `[N, C, H, W] → [N, before + C + after, ⌈H/s⌉, ⌈W/s⌉]`.
public func subsampleAndPadChannels(_ x: Variable, stride s: Int, before: Int, after: Int) -> Variable {
    let xv = x.value
    let (n, c, h, w) = (xv.shape[0], xv.shape[1], xv.shape[2], xv.shape[3])
    let (oh, ow) = ((h + s - 1) / s, (w + s - 1) / s)
    let co = before + c + after
    let y = xv.withUnsafeBufferPointer { px in
        let src = SendablePointer(px.baseAddress!)
        return Tensor.byPlanes([n, co, oh, ow], planes: n * co, planeSize: oh * ow) { plane, out in
            let (img, ch) = (plane / co, plane % co - before)
            guard ch >= 0 && ch < c else {
                out.update(repeating: 0, count: oh * ow)
                return
            }
            let base = src.base + (img * c + ch) * h * w
            for i in 0..<oh { for j in 0..<ow { out[i * ow + j] = base[i * s * w + j * s] } }
        }
    }
    return record("subsample_pad_channels", [x], y) { gy, _ in
        [gy.withUnsafeBufferPointer { pg in
            let g = SendablePointer(pg.baseAddress!)
            return Tensor.byPlanes(xv.shape, planes: n * c, planeSize: h * w) { plane, out in
                out.update(repeating: 0, count: h * w)
                let (img, ch) = (plane / c, plane % c)
                let base = g.base + (img * co + ch + before) * oh * ow
                for i in 0..<oh { for j in 0..<ow { out[i * s * w + j * s] = base[i * ow + j] } }
            }
        }]
    }
}
