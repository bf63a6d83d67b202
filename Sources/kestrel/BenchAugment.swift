import ArgumentParser
import KestrelAugment
import KestrelImage

struct BenchAugment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Augmentation speed in images per second, one thread, RGB 8-bit.",
        discussion: """
            The photo is resized to SIZE×SIZE (area interpolation, as ../shared/anchors/augment.py does with
            cv2.INTER_AREA). Each call draws fresh random parameters (sample index = call number) and returns a
            new image, as albumentations does. The first five transforms and the pipeline (hflip + rotate ±30° +
            brightness/contrast + hue/saturation + cutout) carry the anchors' names, so tools/compare.py puts them
            beside albumentations and OpenCV; tools/bench_augment.sh runs both in one go.
            """)

    @Option(help: "Image side in pixels (the anchors measure 224 and 512).")
    var size = 224

    @Option(help: "The photo to augment.")
    var image = "datasets/photos/astronaut.png"

    @Option(help: "Only measure transforms whose name contains this text.")
    var only: String?

    @OptionGroup var options: BenchOptions

    func validate() throws {
        guard (8...8192).contains(size) else { throw ValidationError("--size must be 8...8192") }
    }

    /// The measured work: anchor-compatible name and the augmentation.
    static func cases(size: Int) throws -> [(String, any Augmentation)] {
        let pipeline: [any Augmentation] = [
            HorizontalFlip(), try Rotate(degrees: -30...30), try BrightnessContrast(), try HueSaturation(),
            try Cutout(),
        ]
        return [
            ("HorizontalFlip", HorizontalFlip()),
            ("Rotate(limit=30)", try Rotate(degrees: -30...30)),
            ("RandomBrightnessContrast", try BrightnessContrast()),
            ("HueSaturationValue", try HueSaturation()),
            ("CoarseDropout", try Cutout()),
            ("pipeline (5 transforms)", Compose(pipeline)),
            ("VerticalFlip", VerticalFlip()),
            ("Rot90", try Rot90(turns: [1, 2, 3])),
            (
                "Affine (rotate, scale, shear, translate)",
                try Affine(degrees: -15...15, translate: (0.1, 0.1), scale: 0.9...1.1, shearX: -10...10)
            ),
            ("RandomCrop (80%)", try RandomCrop()),
            ("RandomResizedCrop", try RandomResizedCrop()),
            ("Resize nearest (2/3)", try Resize(width: size * 2 / 3, height: size * 2 / 3, interpolation: .nearest)),
            ("Resize bilinear (2/3)", try Resize(width: size * 2 / 3, height: size * 2 / 3, interpolation: .bilinear)),
            ("Resize area (2/3)", try Resize(width: size * 2 / 3, height: size * 2 / 3, interpolation: .area)),
            ("Pad 8 reflect", try Pad(border: .reflect)),
            ("Brightness", try Brightness()),
            ("Contrast", try Contrast()),
            ("Saturation", try Saturation()),
            ("Hue", try Hue()),
            ("Gamma", try Gamma()),
            ("Grayscale", Grayscale()),
            ("ColorJitter", try ColorJitter()),
            ("GaussianNoise", try GaussianNoise()),
            ("GaussianBlur (sigma 0.1-2)", try GaussianBlur()),
            ("RandomErasing", try RandomErasing()),
            ("MixUp", try MixUp()),
            ("CutMix", try CutMix()),
            ("Mosaic", try Mosaic()),
        ]
    }

    func run() throws {
        let photo: Image
        do throws(ImageError) {
            photo = try Image(contentsOfFile: image, options: DecodeOptions(channels: 3))
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
        let input = try Sample(
            image: try Resize(width: size, height: size, interpolation: .area)(Sample(image: photo)).image)
        let partnerPhotos = InMemoryPartners([input, try HorizontalFlip()(input), try VerticalFlip()(input), input])
        let label = "\(size)x\(size) RGB uint8"
        for (name, augmentation) in try Self.cases(size: size) {
            if let only, !name.lowercased().contains(only.lowercased()) { continue }
            var index = 0
            let (seconds, guardInfo) = try options.guarded {
                try measure(repeats: options.repeats, minTime: options.minTime) {
                    var sample = input
                    var context = AugmentContext(
                        random: AugmentRandom(seed: 0, index: UInt64(index)), partners: partnerPhotos, sampleIndex: 0)
                    try augmentation.run(&sample, context: &context)
                    index += 1
                    if sample.image.pixels.isEmpty { throw ExitCode(2) }  // keeps the work observable
                }
            }
            let rates = seconds.map { 1 / $0 }
            if options.output.json {
                Console.out(
                    benchRecord(
                        suite: "augment", work: name, size: label, threads: 1, values: rates,
                        unit: "images/s", extra: guardInfo
                    ).text)
            } else {
                Console.out(
                    "\(name) · \(label): \(fixed(median(rates), 0)) images/s (min \(fixed(rates.min()!, 0)), max \(fixed(rates.max()!, 0)))"
                )
            }
        }
    }
}
