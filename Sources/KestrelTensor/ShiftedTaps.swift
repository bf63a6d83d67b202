/// The taps of a stride-1 "same" convolution (one whose output plane is its input's: padding p on both axes with
/// (k − 1)·d = 2p) as shifts within a plane. Output position q = r·w + col reads, for kernel tap (ki, kj), the
/// input at q + `(ki·dh − p)·w + (kj·dw − p)`, unless that position lies outside the image (then the zero
/// padding). Kernels that vectorise over 16 consecutive positions read each tap's shifted plane in place, with
/// the lanes that leave the image masked off; this holds the shifts and those masks.
struct ShiftedTaps: Sendable {
    /// Per kernel tap (ki·kw + kj), its offset within a plane (negative above or left of the centre).
    let shifts: [Int]
    /// `[⌈h·w/16⌉][kh·kw]`: bit i of row s, tap t is set when position 16s + i exists and its shifted read lies
    /// in the image.
    let lanes: [UInt16]
    /// `[⌈h·w/16⌉]`: bit i of row s is set when position 16s + i exists (< h·w).
    let valid: [UInt16]

    /// Whether the convolution is a stride-1 "same" one (any kernel size and dilation, one group or several).
    static func applies(_ g: ConvGeometry) -> Bool {
        g.strideH == 1 && g.strideW == 1 && g.padH == g.padW
            && (g.kernelH - 1) * g.dilationH == 2 * g.padH && (g.kernelW - 1) * g.dilationW == 2 * g.padW
    }

    /// The taps of `g` over `h × w` planes; nil unless ``applies(_:)``.
    init?(_ g: ConvGeometry, h: Int, w: Int) {
        guard ShiftedTaps.applies(g) else { return nil }
        let kk = g.kernelH * g.kernelW, l = h * w, p = g.padH
        shifts = (0..<kk).map { t in (t / g.kernelW * g.dilationH - p) * w + (t % g.kernelW * g.dilationW - p) }
        var lanes = [UInt16](repeating: 0, count: (l + 15) / 16 * kk)
        var valid = [UInt16](repeating: 0, count: (l + 15) / 16)
        for q in 0..<l {
            let (r, col) = (q / w, q % w), bit = UInt16(1) << (q % 16)
            valid[q / 16] |= bit
            for t in 0..<kk {
                let (rr, cc) = (r + t / g.kernelW * g.dilationH - p, col + t % g.kernelW * g.dilationW - p)
                if rr >= 0 && rr < h && cc >= 0 && cc < w { lanes[q / 16 * kk + t] |= bit }
            }
        }
        self.lanes = lanes
        self.valid = valid
    }
}
