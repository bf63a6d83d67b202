import Foundation
import KestrelAugment
import KestrelGeometry
import KestrelImage
import Testing
import _KestrelTestSupport

/// The vector kernels against slow, obvious versions written here, and against the module's own scalar paths
/// (RGBA images take the scalar or block-gather path; their RGB channels must agree bit for bit with RGB).
@Suite struct KernelTests {
    @Test(arguments: [1, 2, 3, 5, 15, 16, 17, 31, 33, 48, 61] as [Int])
    func horizontalFlipEveryWidth(width: Int) throws {
        for channels in 1...4 {
            let image = try TestImages.noise(width: width, height: 3, channels: channels, seed: UInt64(width))
            var s = try Sample(image: image)
            HorizontalFlip().apply((), to: &s)
            for y in 0..<3 {
                for x in 0..<width {
                    for c in 0..<channels { #expect(s.image[x, y, c] == image[width - 1 - x, y, c]) }
                }
            }
        }
    }

    /// Bilinear interpolation written out in Double, border constant 0, pixel centres at integers.
    func slowBilinear(_ image: Image, at sx: Double, _ sy: Double, _ c: Int) -> Double {
        let x0 = Int(sx.rounded(.down))
        let y0 = Int(sy.rounded(.down))
        let fx = sx - Double(x0)
        let fy = sy - Double(y0)
        func at(_ x: Int, _ y: Int) -> Double {
            x >= 0 && y >= 0 && x < image.width && y < image.height ? Double(image[x, y, c]) : 0
        }
        return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy)
            + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func rotationMatchesSlowBilinear(seed: UInt64) throws {
        let image = try TestImages.photo(width: 53, height: 37, seed: seed)
        var r = SeededRandom(seed: seed)
        let angle = Double.random(in: -180...180, using: &r)
        var s = try Sample(image: image)
        try Rotate().apply(angle, to: &s)
        // Output pixel (x, y) samples the source at the inverse rotation about ((w−1)/2, (h−1)/2).
        let t = angle * .pi / 180
        let cx = Double(image.width - 1) / 2
        let cy = Double(image.height - 1) / 2
        var worst = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let dx = Double(x) - cx
                let dy = Double(y) - cy
                let sx = cx + cos(t) * dx - sin(t) * dy
                let sy = cy + sin(t) * dx + cos(t) * dy
                for c in 0..<3 {
                    worst = max(worst, abs(slowBilinear(image, at: sx, sy, c) - Double(s.image[x, y, c])))
                }
            }
        }
        // 1/256-pixel positions and two roundings: within 1.5 grey levels of exact.
        #expect(worst <= 1.5, "angle \(angle): worst \(worst)")
    }

    @Test(arguments: [1, 2] as [UInt64])
    func vectorAndScalarPathsAgree(seed: UInt64) throws {
        let rgb = try TestImages.photo(width: 45, height: 29, seed: seed)
        let rgba = try rgb.converted(toChannels: 4)
        let transforms: [any Augmentation] = [
            try Rotate(degrees: -60...60, border: .reflect), try Affine(scale: 0.5...2, shearX: -20...20),
            try Hue(degrees: -180...180), try HueSaturation(hue: -90...90, saturation: 0...2),
            try Saturation(factor: 0...3),
            try BrightnessContrast(brightness: 0.5...1.5, contrast: 0.2...2),
        ]
        for t in transforms {
            let a = try t(try Sample(image: rgb), seed: seed, index: 0).image
            let b = try t(try Sample(image: rgba), seed: seed, index: 0).image
            #expect(try b.converted(toChannels: 3) == a, "\(type(of: t))")
            #expect(b.pixels.enumerated().allSatisfy { $0.offset % 4 != 3 || $0.element == 255 }, "alpha changed")
        }
    }

    @Test func hueKeepsValueAndChromaAndGrays() throws {
        let image = try TestImages.noise(width: 40, height: 40, channels: 3, seed: 8)
        for degrees in [-300.0, -60, -7, 33, 120, 359] {
            var s = try Sample(image: image)
            try Hue().apply(degrees, to: &s)
            for i in 0..<image.pixelCount {
                let a = image.pixels[(3 * i)..<(3 * i + 3)]
                let b = s.image.pixels[(3 * i)..<(3 * i + 3)]
                #expect(a.max() == b.max() && a.min() == b.min(), "\(degrees)°: \(Array(a)) → \(Array(b))")
            }
        }
        // 120° moves red to green exactly; grays do not move.
        var s = try Sample(image: try Image(width: 2, height: 1, channels: 3, pixels: [200, 10, 10, 77, 77, 77]))
        try Hue().apply(120, to: &s)
        #expect(s.image.pixels == [10, 200, 10, 77, 77, 77])
    }

    @Test func contrastUsesTheMeanLuma() throws {
        // Two pixels, luma exactly 100 and 200 (gray): mean 150; factor 0.5 pulls both halfway.
        var s = try Sample(image: try Image(width: 2, height: 1, channels: 3, pixels: [100, 100, 100, 200, 200, 200]))
        try Contrast().apply(0.5, to: &s)
        #expect(s.image.pixels == [125, 125, 125, 175, 175, 175])
        try Contrast().apply(0, to: &s)
        #expect(s.image.pixels == [150, 150, 150, 150, 150, 150])
    }

    @Test func noiseHasTheRequestedSpread() throws {
        var s = try Sample(image: try Image(width: 100, height: 100, channels: 3, fill: 128))
        try GaussianNoise(std: 10...10).apply((sigma: 10, key: 77), to: &s)
        let values = s.image.pixels.map { Double($0) - 128 }
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(mean) < 0.2 && abs(sd - 10) < 0.3, "mean \(mean), sd \(sd)")
    }
}
