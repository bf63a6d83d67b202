import CKestrelKernels

// The input gradient of a strided convolution without a column buffer. With stride s, input row iy = s·m + r
// receives dy[oy]·W[ky] exactly when iy + p − ky = s·oy, so each residue r ("phase") of the rows sees a fixed
// subset of the kernel's rows, and within a phase the sum is a stride-1 correlation of dy:
//   dx[s·m + r] = Σ_j W[ky_r(j)] · dy[m + d_r + j],   ky_r(j) = r + p − s·(d_r + j).
// In two dimensions the s_h·s_w phases together use every tap once, so the FLOPs are the convolution's; each
// phase runs on the indirect kernel (the forward convolution's), and the phases are interleaved into dx.

/// One axis of the phase split: for residue r, the kernel indices in the order the phase's correlation uses
/// them, the offset `first` of its window in dy (d_r, possibly negative), and how many input rows it covers.
struct PhaseAxis {
    var taps: [Int]
    var first: Int
    var count: Int

    /// The phases of one axis: input extent `size`, dy extent `outSize`, kernel `kernel`, stride, padding.
    static func phases(size: Int, outSize: Int, kernel: Int, stride s: Int, pad p: Int) -> [PhaseAxis] {
        (0..<s).map { r in
            // Taps with (r + p − k) divisible by s, by increasing offset (r + p − k) / s, i.e. decreasing k.
            let taps = (0..<kernel).reversed().filter { ((r + p - $0) % s + s) % s == 0 }
            let first = taps.first.map { (r + p - $0) / s } ?? 0
            let count = r < size ? (size - 1 - r) / s + 1 : 0
            return PhaseAxis(taps: taps, first: first, count: count)
        }
    }

    /// The zero padding dy needs on each side for every phase's windows to stay inside it.
    static func padding(_ phases: [PhaseAxis], outSize: Int) -> Int {
        phases.filter { !$0.taps.isEmpty && $0.count > 0 }.map { ph in
            max(0, -ph.first, ph.count - 1 + ph.first + ph.taps.count - 1 - (outSize - 1))
        }.max() ?? 0
    }
}

extension FastGEMM {
    /// Whether ``phaseBackwardData(dy:n:cout:oh:ow:weight:c:h:w:geometry:dx:isa:)`` computes this input gradient:
    /// a stride above 1 on either axis, no dilation, and at least 8 input channels per group (the phases' output
    /// channels, for the indirect kernel's panels).
    static func supportsPhaseBackwardData(_ g: ConvGeometry, channelsPerGroup cg: Int) -> Bool {
        (g.strideH > 1 || g.strideW > 1) && g.dilationH == 1 && g.dilationW == 1 && cg >= 8
    }

    /// dx `[n, c, h, w]` of a strided convolution from dy `[n, cout, oh, ow]` and its weights `[cout, c/groups, kh,
    /// kw]`: dy is zero-padded once, each of the strideH·strideW phases is a stride-1 convolution of it on the
    /// indirect kernel (weights: the phase's taps, input and output channels swapped) into a buffer, and the
    /// phases are interleaved into dx (zeros where a phase has no taps). Every dx element is one FMA chain over
    /// its phase's taps, so results do not depend on the thread count.
    func phaseBackwardData(dy: UnsafePointer<Float>, n: Int, cout: Int, oh: Int, ow: Int, weight: UnsafePointer<Float>,
                           c: Int, h: Int, w: Int, geometry g: ConvGeometry, dx: UnsafeMutablePointer<Float>, isa: ISA) {
        let (sh, sw) = (g.strideH, g.strideW)
        let rows = PhaseAxis.phases(size: h, outSize: oh, kernel: g.kernelH, stride: sh, pad: g.padH)
        let cols = PhaseAxis.phases(size: w, outSize: ow, kernel: g.kernelW, stride: sw, pad: g.padW)
        let (padH, padW) = (PhaseAxis.padding(rows, outSize: oh), PhaseAxis.padding(cols, outSize: ow))
        let (hp, wp) = (oh + 2 * padH, ow + 2 * padW)
        let cg = c / g.groups, coutg = cout / g.groups, kk = g.kernelH * g.kernelW
        // Each phase's output in turn, at its offset in one buffer of dx's size.
        var offsets: [Int] = []
        var total = 0
        for ry in rows { for rx in cols { offsets.append(total); total += n * c * ry.count * rx.count } }
        Workspace.shared.withBuffer(count: n * cout * hp * wp + total) { scratch in
            let dyPad = scratch, phased = scratch + n * cout * hp * wp
            let src = SendablePointer(dy), padded = SendablePointer(dyPad)
            Compute.parallelFor(n * cout, grain: max(1, 16384 / max(hp * wp, 1))) { r in
                kk_pad_planes(src.base + r.lowerBound * oh * ow, r.count, oh, ow, padH, padW,
                              padded.base + r.lowerBound * hp * wp)
            }
            for (py, ry) in rows.enumerated() {
                for (px, rx) in cols.enumerated() where ry.count > 0 && rx.count > 0 && !ry.taps.isEmpty && !rx.taps.isEmpty {
                    let (nty, ntx) = (ry.taps.count, rx.taps.count), k = coutg * nty * ntx, l = ry.count * rx.count
                    // The phase's weights per group: [cg, coutg, nty, ntx], input and output channels swapped.
                    let phaseWeights = UnsafeMutablePointer<Float>.allocate(capacity: g.groups * cg * k)
                    defer { phaseWeights.deallocate() }
                    for grp in 0..<g.groups {
                        for ci in 0..<cg {
                            for co in 0..<coutg {
                                let from = weight + ((grp * coutg + co) * cg + ci) * kk
                                let to = phaseWeights + ((grp * cg + ci) * coutg + co) * nty * ntx
                                for (jy, ky) in ry.taps.enumerated() {
                                    for (jx, kx) in rx.taps.enumerated() { to[jy * ntx + jx] = from[ky * g.kernelW + kx] }
                                }
                            }
                        }
                    }
                    let y = phased + offsets[py * cols.count + px]
                    for grp in 0..<g.groups {
                        var tileRows = 0
                        let nr = kk_indirect_shape(isa.c, n * l, cg, rx.count, 1, &tileRows)
                        let mr = tileRows
                        let panels = (cg + nr - 1) / nr
                        let panelFloats = panels * nr * k <= 1 << 20 ? panels * nr * k : nr * k
                        let problem = IndirectBox(KKIndirectConv(
                            xpad: dyPad + grp * coutg * hp * wp + (padH + ry.first) * wp + (padW + rx.first), hp: hp,
                            wp: wp, xpadImageStride: cout * hp * wp, channels: coutg, kh: nty, kw: ntx, sh: 1, sw: 1,
                            dh: 1, dw: 1, oh: ry.count, ow: rx.count, weights: phaseWeights + grp * cg * k, packed: nil,
                            cout: cg, tileRows: mr, panelCapacity: panelFloats,
                            epilogue: KKEpilogue(scale: nil, shift: nil, activation: KK_ACT_NONE),
                            y: y + grp * cg * l, yImageStride: c * l))
                        runIndirect(problem, isa: isa, positions: n * l, channels: cg, mr: mr, nr: nr, depth: k,
                                    panelFloats: panelFloats)
                    }
                }
            }
            // Interleave: plane q of dx takes row s·m + r, column s·m' + r' from phase (r, r').
            let out = SendablePointer(dx), phases = SendablePointer(phased)
            let plan = rows.enumerated().flatMap { py, ry in
                cols.enumerated().map { px, rx in (ry, rx, offsets[py * cols.count + px], py, px) }
            }
            Compute.parallelFor(n * c, grain: max(1, 8192 / max(h * w, 1))) { r in
                for q in r {
                    let plane = out.base + q * h * w
                    for (ry, rx, offset, py, px) in plan where ry.count > 0 && rx.count > 0 {
                        let l = ry.count * rx.count
                        let from = phases.base + offset + q * l
                        let empty = ry.taps.isEmpty || rx.taps.isEmpty
                        for m in 0..<ry.count {
                            let row = plane + (sh * m + py) * w + px
                            for m2 in 0..<rx.count { row[sw * m2] = empty ? 0 : from[m * rx.count + m2] }
                        }
                    }
                }
            }
        }
    }
}
