import KestrelGeometry

// How transforms move boxes. Every function keeps ``LabeledBox/visibility`` up to date: the fraction of the
// (transformed) box that is still inside the canvas or not hidden, multiplied into what was visible before.

extension LabeledBox {
    /// Clips `moved` (the box after a geometric map, before clipping) to the `width × height` canvas, and
    /// multiplies the visibility by the fraction of `moved`'s area that survives.
    mutating func place(_ moved: BoxXYXY, width: Int, height: Int) {
        let clipped = moved.clipped(width: Double(width), height: Double(height))
        let before = moved.area
        visibility *= before > 0 ? clipped.area / before : 0
        box = clipped
    }

    /// The tight box around the four mapped corners, clipped to the canvas.
    mutating func map(_ m: AffineMatrix, width: Int, height: Int) {
        let corners = box.corners.map { m.apply($0.x, $0.y) }
        place(BoxXYXY.enclosing(corners)!, width: width, height: height)
    }

    /// Multiplies the visibility by the fraction of the box not covered by `holes` (overlaps counted once).
    mutating func hide(under holes: [BoxXYXY]) {
        let area = box.area
        guard area > 0 else { return }
        let covered = coveredArea(of: box, by: holes)
        visibility *= max(0, 1 - covered / area)
    }
}

/// The area of `box` covered by the union of `rects`, exactly (coordinate compression over the rectangles'
/// edges; fine for the handful of holes an augmentation makes).
func coveredArea(of box: BoxXYXY, by rects: [BoxXYXY]) -> Double {
    let parts = rects.map { $0.intersection(box) }.filter { !$0.isEmpty }
    guard !parts.isEmpty else { return 0 }
    if parts.count == 1 { return parts[0].area }
    let xs = Array(Set(parts.flatMap { [$0.x1, $0.x2] })).sorted()
    let ys = Array(Set(parts.flatMap { [$0.y1, $0.y2] })).sorted()
    var total = 0.0
    for i in 0..<(xs.count - 1) {
        let cx = (xs[i] + xs[i + 1]) / 2
        for j in 0..<(ys.count - 1) {
            let cy = (ys[j] + ys[j + 1]) / 2
            if parts.contains(where: { $0.x1 <= cx && cx < $0.x2 && $0.y1 <= cy && cy < $0.y2 }) {
                total += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j])
            }
        }
    }
    return total
}
