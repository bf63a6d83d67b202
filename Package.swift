// swift-tools-version:6.1
//
// Kestrel: images from disk to trained models and measured results, in Swift.
//
// Layers, from the edge inwards (arrows point at dependencies):
//   C edge        CPNG, CJPEG, CBLAS (system libraries via pkg-config) <- CKestrelCodecs (setjmp traps)
//                 CKestrelKernels (SGEMM and depthwise micro-kernels, AVX-512 / AVX2 chosen at run time)
//   Libraries     KestrelImage (codecs, pixels) · KestrelGeometry (boxes, IoU, NMS; depends on nothing)
//                 KestrelAnnotations (COCO/VOC/YOLO detection datasets) <- Geometry, Image (YOLO image sizes)
//                 KestrelMetrics (COCO/VOC mAP, confusion matrices, segmentation IU) <- Annotations, Geometry · KestrelPlot (line charts) <- Image
//                 KestrelTensor (Float32 NCHW tensors, GEMM, im2col; CBLAS, CKestrelKernels)
//                 <- KestrelNN (autodiff, layers)
//                 <- KestrelModels (the classifier zoo)
//                 <- KestrelSegmentation (FCN/SegNet, segmentation training and prediction) <- Training, Data, Augment
//                 KestrelAugment (transforms moving image + boxes + mask together; no tensors)
//                 <- Image, Geometry
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
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KestrelImage", targets: ["KestrelImage"]),
        .library(name: "KestrelGeometry", targets: ["KestrelGeometry"]),
        .library(name: "KestrelAnnotations", targets: ["KestrelAnnotations"]),
        .library(name: "KestrelMetrics", targets: ["KestrelMetrics"]),
        .library(name: "KestrelPlot", targets: ["KestrelPlot"]),
        .library(name: "KestrelTensor", targets: ["KestrelTensor"]),
        .library(name: "KestrelNN", targets: ["KestrelNN"]),
        .library(name: "KestrelModels", targets: ["KestrelModels"]),
        .library(name: "KestrelData", targets: ["KestrelData"]),
        .library(name: "KestrelTraining", targets: ["KestrelTraining"]),
        .library(name: "KestrelDetection", targets: ["KestrelDetection"]),
        .library(name: "KestrelSegmentation", targets: ["KestrelSegmentation"]),
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
        // Packed SGEMM and direct depthwise kernels with intrinsics; ISA-specific code is compiled per function
        // (target attributes), so the package still builds and runs on CPUs without AVX-512 or AVX2.
        .target(name: "CKestrelKernels"),

        // MARK: Libraries
        // Atomic writes and bounded reads, shared by every module that touches files.
        .target(name: "KestrelFiles"),
        .target(name: "KestrelImage", dependencies: ["CKestrelCodecs", "KestrelFiles"]),
        .target(name: "KestrelGeometry"),
        .target(
            name: "KestrelAugment", dependencies: ["KestrelImage", "KestrelGeometry"], swiftSettings: hostCodegen),
        .target(name: "KestrelAnnotations", dependencies: ["KestrelGeometry", "KestrelImage"]),
        .target(name: "KestrelMetrics", dependencies: ["KestrelAnnotations", "KestrelGeometry"]),
        .target(name: "KestrelPlot", dependencies: ["KestrelImage"]),
        .target(name: "KestrelTensor", dependencies: ["CBLAS", "CKestrelKernels"]),
        .target(name: "KestrelNN", dependencies: ["KestrelTensor", "KestrelFiles"]),
        .target(name: "KestrelModels", dependencies: ["KestrelNN"]),
        .target(name: "KestrelData", dependencies: ["KestrelImage", "KestrelTensor", "KestrelFiles", "KestrelGeometry", "KestrelAnnotations"]),
        .target(name: "KestrelTraining", dependencies: ["KestrelModels", "KestrelData", "KestrelFiles", "KestrelMetrics", "KestrelPlot"]),
        .target(
            name: "KestrelDetection",
            dependencies: ["KestrelModels", "KestrelGeometry", "KestrelData", "KestrelAugment", "KestrelAnnotations",
                           "KestrelMetrics", "KestrelTraining", "KestrelFiles"]),
        // FCN/SegNet models, segmentation training (a task for KestrelTraining's Trainer) and prediction.
        .target(
            name: "KestrelSegmentation",
            dependencies: ["KestrelModels", "KestrelTraining", "KestrelData", "KestrelAugment", "KestrelMetrics", "KestrelImage", "KestrelFiles"]),

        // MARK: Command-line tool
        .executableTarget(
            name: "kestrel",
            dependencies: [
                "KestrelImage", "KestrelGeometry", "KestrelAnnotations", "KestrelMetrics", "KestrelPlot",
                "KestrelTensor", "KestrelModels", "KestrelData", "KestrelTraining", "KestrelAugment", "KestrelDetection",
                "KestrelSegmentation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Tests
        .target(name: "_KestrelTestSupport", dependencies: ["KestrelNN"], path: "Tests/_KestrelTestSupport"),
        .testTarget(name: "KestrelImageTests", dependencies: ["KestrelImage", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelGeometryTests", dependencies: ["KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelAugmentTests",
            dependencies: ["KestrelAugment", "KestrelImage", "KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelAnnotationsTests", dependencies: ["KestrelAnnotations", "KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelMetricsTests", dependencies: ["KestrelMetrics", "KestrelAnnotations", "KestrelGeometry", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelPlotTests", dependencies: ["KestrelPlot", "KestrelImage", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelTensorTests", dependencies: ["KestrelTensor", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelNNTests", dependencies: ["KestrelNN", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelModelsTests", dependencies: ["KestrelModels", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelDataTests", dependencies: ["KestrelData", "KestrelImage", "KestrelFiles", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelTrainingTests", dependencies: ["KestrelTraining", "KestrelMetrics", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelDetectionTests", dependencies: ["KestrelDetection", "KestrelData", "KestrelAnnotations",
                                                                 "KestrelTraining", "_KestrelTestSupport"]),
        .testTarget(
            name: "KestrelSegmentationTests",
            dependencies: ["KestrelSegmentation", "KestrelMetrics", "KestrelData", "KestrelAnnotations", "KestrelAugment", "KestrelImage",
                           "KestrelTraining", "_KestrelTestSupport"]),
        .testTarget(name: "KestrelCLITests", dependencies: ["kestrel", "KestrelImage", "_KestrelTestSupport"]),
    ]
)
