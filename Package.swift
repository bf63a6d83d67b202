// swift-tools-version:6.1
//
// Kestrel: images from disk to trained models and measured results, in Swift.
//
// Layers, from the edge inwards (arrows point at dependencies):
//   C edge        CPNG, CJPEG, CBLAS (system libraries via pkg-config) <- CKestrelCodecs (setjmp traps)
//   Libraries     KestrelImage (codecs, pixels) · KestrelGeometry (boxes, IoU; depends on nothing)
//                 <- KestrelAugment (transforms moving image + boxes + mask together; no tensors)
//   CLI           kestrel (one small command per file; it only orchestrates library calls)
//   Tests         one target per module, plus _KestrelTestSupport (fixtures, hashing, seeded RNG)

import PackageDescription

// KestrelAugment's pixel loops are written for the compiler's vectoriser (byte shuffles, widening multiplies);
// built for baseline x86-64 (SSE2 only) they run 2–5× slower. So that target is compiled for the CPU that builds
// it. Set KESTREL_PORTABLE=1 to build binaries that must run on other machines (same results, slower).
let hostCodegen: [SwiftSetting] =
    Context.environment["KESTREL_PORTABLE"] == "1" ? [] : [.unsafeFlags(["-target-cpu", "native"])]

let package = Package(
    name: "Kestrel",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "KestrelImage", targets: ["KestrelImage"]),
        .library(name: "KestrelGeometry", targets: ["KestrelGeometry"]),
        .library(name: "KestrelAugment", targets: ["KestrelAugment"]),
        .executable(name: "kestrel", targets: ["kestrel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // MARK: C edge — system libraries found by pkg-config, never by absolute path.
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        // libpng and libjpeg report fatal errors by longjmp/exit; this C target traps them with setjmp.
        .target(name: "CKestrelCodecs", dependencies: ["CPNG", "CJPEG"]),

        // MARK: Libraries
        .target(name: "KestrelImage", dependencies: ["CKestrelCodecs"]),
        .target(name: "KestrelGeometry"),
        .target(
            name: "KestrelAugment", dependencies: ["KestrelImage", "KestrelGeometry"], swiftSettings: hostCodegen),

        // MARK: Command-line tool
        .executableTarget(
            name: "kestrel",
            dependencies: [
                "KestrelImage",
                "KestrelGeometry",
                "KestrelAugment",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Tests
        .target(name: "_KestrelTestSupport", path: "Tests/_KestrelTestSupport"),
        .testTarget(name: "KestrelImageTests", dependencies: ["KestrelImage", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelGeometryTests", dependencies: ["KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelAugmentTests",
            dependencies: ["KestrelAugment", "KestrelImage", "KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelCLITests", dependencies: ["kestrel", "KestrelImage", "_KestrelTestSupport"]),
    ]
)
