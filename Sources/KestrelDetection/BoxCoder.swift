#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import KestrelGeometry

/// SSD's box coding (the Caffe reference's CENTER_SIZE with the variances in the target):
/// for a ground-truth box g and default box d (centre form, normalised),
/// `t = ((g.cx − d.cx)/(d.w·v0), (g.cy − d.cy)/(d.h·v1), log(g.w/d.w)/v2, log(g.h/d.h)/v3)`.
/// Decoding inverts it; the width/height exponent is clamped at log(1000/16) (torchvision's bound) so wild
/// predictions cannot overflow.
public struct BoxCoder: Sendable, Equatable {
    public var variances: (Double, Double, Double, Double)

    public init(variances: (Double, Double, Double, Double) = (0.1, 0.1, 0.2, 0.2)) { self.variances = variances }

    public static func == (a: BoxCoder, b: BoxCoder) -> Bool { a.variances == b.variances }

    /// Largest log-scale change decoding allows.
    public static let maxLogScale = log(1000.0 / 16.0)

    public func encode(_ g: BoxCXCYWH, relativeTo d: BoxCXCYWH) -> (Double, Double, Double, Double) {
        ((g.cx - d.cx) / (d.width * variances.0), (g.cy - d.cy) / (d.height * variances.1),
         log(max(g.width, 1e-12) / d.width) / variances.2, log(max(g.height, 1e-12) / d.height) / variances.3)
    }

    public func decode(_ t: (Double, Double, Double, Double), relativeTo d: BoxCXCYWH) -> BoxCXCYWH {
        let dw = min(t.2 * variances.2, BoxCoder.maxLogScale), dh = min(t.3 * variances.3, BoxCoder.maxLogScale)
        return BoxCXCYWH(cx: d.cx + t.0 * variances.0 * d.width, cy: d.cy + t.1 * variances.1 * d.height,
                         width: d.width * exp(dw), height: d.height * exp(dh))
    }
}
