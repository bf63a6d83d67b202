// Byte shuffles of 16 RGB pixels (48 bytes in three 16-byte vectors), written as vector initialisers with
// constant lane indices so LLVM turns each into one or two shuffle instructions (vpshufb/vpermb). Swift has no
// shuffle API; the index lists below are generated (pixel i, channel c is byte 3i + c) and must stay literal.

/// Interleaves R, G and B planes of 16 pixels into 48 bytes of RGB.
@inline(__always)
func interleave3(_ r: SIMD16<UInt8>, _ g: SIMD16<UInt8>, _ b: SIMD16<UInt8>)
    -> (SIMD16<UInt8>, SIMD16<UInt8>, SIMD16<UInt8>)
{
    let o0 = SIMD16<UInt8>(
        r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2],
        b[2], r[3], g[3], b[3], r[4], g[4], b[4], r[5])
    let o1 = SIMD16<UInt8>(
        g[5], b[5], r[6], g[6], b[6], r[7], g[7], b[7],
        r[8], g[8], b[8], r[9], g[9], b[9], r[10], g[10])
    let o2 = SIMD16<UInt8>(
        b[10], r[11], g[11], b[11], r[12], g[12], b[12], r[13],
        g[13], b[13], r[14], g[14], b[14], r[15], g[15], b[15])
    return (o0, o1, o2)
}

/// The 16 pixels in reverse order (pixel i becomes pixel 15 − i, channels kept in order).
@inline(__always)
func reverse3(_ a: SIMD16<UInt8>, _ b: SIMD16<UInt8>, _ c: SIMD16<UInt8>)
    -> (SIMD16<UInt8>, SIMD16<UInt8>, SIMD16<UInt8>)
{
    let o0 = SIMD16<UInt8>(
        c[13], c[14], c[15], c[10], c[11], c[12], c[7], c[8],
        c[9], c[4], c[5], c[6], c[1], c[2], c[3], b[14])
    let o1 = SIMD16<UInt8>(
        b[15], c[0], b[11], b[12], b[13], b[8], b[9], b[10],
        b[5], b[6], b[7], b[2], b[3], b[4], a[15], b[0])
    let o2 = SIMD16<UInt8>(
        b[1], a[12], a[13], a[14], a[9], a[10], a[11], a[6],
        a[7], a[8], a[3], a[4], a[5], a[0], a[1], a[2])
    return (o0, o1, o2)
}

/// Bytes to Int32 lanes (zero-extended), lane for lane.
@inline(__always)
func widen(_ v: SIMD16<UInt8>) -> SIMD16<Int32> {
    SIMD16<Int32>(
        Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]),
        Int32(v[8]), Int32(v[9]), Int32(v[10]), Int32(v[11]), Int32(v[12]), Int32(v[13]), Int32(v[14]), Int32(v[15]))
}

/// Int32 lanes to bytes, keeping the low 8 bits of each.
@inline(__always)
func narrow(_ v: SIMD16<Int32>) -> SIMD16<UInt8> {
    SIMD16<UInt8>(
        UInt8(truncatingIfNeeded: v[0]), UInt8(truncatingIfNeeded: v[1]), UInt8(truncatingIfNeeded: v[2]),
        UInt8(truncatingIfNeeded: v[3]), UInt8(truncatingIfNeeded: v[4]), UInt8(truncatingIfNeeded: v[5]),
        UInt8(truncatingIfNeeded: v[6]), UInt8(truncatingIfNeeded: v[7]),
        UInt8(truncatingIfNeeded: v[8]), UInt8(truncatingIfNeeded: v[9]), UInt8(truncatingIfNeeded: v[10]),
        UInt8(truncatingIfNeeded: v[11]), UInt8(truncatingIfNeeded: v[12]), UInt8(truncatingIfNeeded: v[13]),
        UInt8(truncatingIfNeeded: v[14]), UInt8(truncatingIfNeeded: v[15]))
}
