import KestrelGeometry

enum BoxXYWHTestable {
    static func box(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> BoxXYWH {
        BoxXYWH(x: x, y: y, width: w, height: h)
    }
}
