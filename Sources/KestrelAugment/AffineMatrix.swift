#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 2-D affine map `(x, y) ↦ (a·x + b·y + c, d·x + e·y + f)`.
///
/// Geometric transforms describe their *forward* map (where a source point lands) in continuous pixel
/// coordinates: origin at the top-left corner of the image, x right, y down, pixel (i, j) covering
/// [i, i+1] × [j, j+1]. Boxes are mapped with it directly; images are resampled through
/// ``indexSpaceInverse``.
public struct AffineMatrix: Sendable, Equatable {
    public var a: Double, b: Double, c: Double
    public var d: Double, e: Double, f: Double

    public init(a: Double, b: Double, c: Double, d: Double, e: Double, f: Double) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    public static let identity = AffineMatrix(a: 1, b: 0, c: 0, d: 0, e: 1, f: 0)

    public static func translation(_ tx: Double, _ ty: Double) -> AffineMatrix {
        AffineMatrix(a: 1, b: 0, c: tx, d: 0, e: 1, f: ty)
    }

    public static func scaling(_ sx: Double, _ sy: Double) -> AffineMatrix {
        AffineMatrix(a: sx, b: 0, c: 0, d: 0, e: sy, f: 0)
    }

    /// Rotation by `degrees` counter-clockwise as seen on screen (y points down), about the origin — the
    /// direction of OpenCV's `getRotationMatrix2D` and torchvision's `rotate` for positive angles:
    /// `x' = cos θ·x + sin θ·y`, `y' = −sin θ·x + cos θ·y`.
    public static func rotation(degrees: Double) -> AffineMatrix {
        let (s, c) = sinCos(degrees: degrees)
        return AffineMatrix(a: c, b: s, c: 0, d: -s, e: c, f: 0)
    }

    /// Shear by `x` degrees along x (x' = x + tan(x)·y) and `y` degrees along y (y' = y + tan(y)·x).
    public static func shear(xDegrees: Double, yDegrees: Double) -> AffineMatrix {
        AffineMatrix(a: 1, b: tan(xDegrees * .pi / 180), c: 0, d: tan(yDegrees * .pi / 180), e: 1, f: 0)
    }

    /// `self` after `other`: first `other`, then `self`.
    public func concatenating(_ other: AffineMatrix) -> AffineMatrix {
        AffineMatrix(
            a: a * other.a + b * other.d, b: a * other.b + b * other.e, c: a * other.c + b * other.f + c,
            d: d * other.a + e * other.d, e: d * other.b + e * other.e, f: d * other.c + e * other.f + f)
    }

    /// The point's image.
    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        (a * x + b * y + c, d * x + e * y + f)
    }

    public var determinant: Double { a * e - b * d }

    /// The inverse map; nil when the map is singular (determinant 0 or not finite).
    public var inverse: AffineMatrix? {
        let det = determinant
        guard det != 0, det.isFinite else { return nil }
        let ia = e / det, ib = -b / det, id = -d / det, ie = a / det
        return AffineMatrix(a: ia, b: ib, c: -(ia * c + ib * f), d: id, e: ie, f: -(id * c + ie * f))
    }

    /// The inverse map in pixel-index coordinates (pixel centres at integers), as image resampling needs:
    /// for output pixel (x, y) it gives the source position to interpolate at.
    var indexSpaceInverse: AffineMatrix? {
        // Continuous p = index q + ½. p' = A·p + t  ⇒  q' = A·q + (A·½ + t − ½).
        guard let inv = inverse else { return nil }
        return AffineMatrix(
            a: inv.a, b: inv.b, c: inv.c + 0.5 * inv.a + 0.5 * inv.b - 0.5,
            d: inv.d, e: inv.e, f: inv.f + 0.5 * inv.d + 0.5 * inv.e - 0.5)
    }

    /// sin and cos of an angle in degrees, exact at multiples of 90° (so a 90° rotation moves pixels exactly).
    static func sinCos(degrees: Double) -> (Double, Double) {
        var r = degrees.truncatingRemainder(dividingBy: 360)
        if r < 0 { r += 360 }
        switch r {
        case 0: return (0, 1)
        case 90: return (1, 0)
        case 180: return (0, -1)
        case 270: return (-1, 0)
        default:
            let t = r * .pi / 180
            return (sin(t), cos(t))
        }
    }
}
