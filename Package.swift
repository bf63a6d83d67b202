// swift-tools-version:6.1
//
// Kestrel: images from disk to trained models and measured results, in Swift.
//
// Layers, from the edge inwards (arrows point at dependencies):
//   C edge        CPNG, CJPEG, CBLAS (system libraries via pkg-config) <- CKestrelCodecs (setjmp traps)
//   Libraries     KestrelImage (codecs, pixels) · KestrelGeometry (boxes, IoU, NMS; depends on nothing)
//                 KestrelAnnotations (COCO/VOC/YOLO detection datasets) <- Geometry, Image (YOLO image sizes)
//                 KestrelMetrics (COCO/VOC mAP) <- Annotations, Geometry · KestrelPlot (line charts) <- Image
//   CLI           kestrel (one small command per file; it only orchestrates library calls)
//   Tests         one target per module, plus _KestrelTestSupport (fixtures, hashing, seeded RNG)

import PackageDescription

let package = Package(
    name: "Kestrel",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "KestrelImage", targets: ["KestrelImage"]),
        .library(name: "KestrelGeometry", targets: ["KestrelGeometry"]),
        .library(name: "KestrelAnnotations", targets: ["KestrelAnnotations"]),
        .library(name: "KestrelMetrics", targets: ["KestrelMetrics"]),
        .library(name: "KestrelPlot", targets: ["KestrelPlot"]),
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
        .target(name: "KestrelAnnotations", dependencies: ["KestrelGeometry", "KestrelImage"]),
        .target(name: "KestrelMetrics", dependencies: ["KestrelAnnotations", "KestrelGeometry"]),
        .target(name: "KestrelPlot", dependencies: ["KestrelImage"]),

        // MARK: Command-line tool
        .executableTarget(
            name: "kestrel",
            dependencies: [
                "KestrelImage", "KestrelGeometry", "KestrelAnnotations", "KestrelMetrics", "KestrelPlot",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Tests
        .target(name: "_KestrelTestSupport", path: "Tests/_KestrelTestSupport"),
        .testTarget(name: "KestrelImageTests", dependencies: ["KestrelImage", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelGeometryTests", dependencies: ["KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelAnnotationsTests", dependencies: ["KestrelAnnotations", "KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelMetricsTests", dependencies: ["KestrelMetrics", "KestrelAnnotations", "KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelPlotTests", dependencies: ["KestrelPlot", "KestrelImage", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelCLITests", dependencies: ["kestrel", "_KestrelTestSupport"]),
    ]
)
