import Foundation
import KestrelAugment
import KestrelImage
import Testing
import _KestrelTestSupport

@Suite struct PipelineFileTests {
    static let allNames = [
        "hflip", "vflip", "rot90", "rotate", "affine", "crop", "random_crop", "random_resized_crop", "resize", "pad",
        "brightness", "contrast", "brightness_contrast", "saturation", "hue", "hue_saturation", "gamma", "grayscale",
        "color_jitter", "noise", "blur", "cutout", "random_erasing", "mixup", "cutmix", "mosaic",
    ]

    func error(_ json: String) -> AugmentError? {
        do {
            _ = try Pipeline(json: json, file: "pipe.json")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: allNames)
    func everyTransformWorksWithDefaults(name: String) throws {
        let pipeline = try Pipeline(json: #"{"transforms": [{"name": "\#(name)"}]}"#)
        let partners = InMemoryPartners(
            try (0..<3).map { try Sample(image: TestImages.photo(width: 30, height: 20, seed: $0)) })
        let out = try pipeline.augment(try partners.sample(at: 0), seed: 1, index: 0, partners: partners)
        #expect(out.width > 0)
    }

    /// Tiny images of every channel count, with boxes and a mask, through every transform: nothing may trap, and
    /// the targets must stay consistent.
    @Test(arguments: allNames)
    func everyTransformSurvivesTinyImages(name: String) throws {
        let pipeline = try Pipeline(json: #"{"transforms": [{"name": "\#(name)"}]}"#)
        for (w, h) in [(1, 1), (2, 3), (3, 1), (17, 2)] {
            for channels in 1...4 {
                let image = try TestImages.noise(width: w, height: h, channels: channels, seed: UInt64(w * 10 + h))
                let sample = try Sample(
                    image: image, boxes: [LabeledBox(.init(x1: 0, y1: 0, x2: Double(w), y2: Double(h)), label: 1)],
                    mask: try Image(width: w, height: h, channels: 1, fill: 1))
                let partners = InMemoryPartners([sample, sample])
                for seed in 0..<3 as Range<UInt64> {
                    let out = try pipeline.augment(sample, seed: seed, index: 0, partners: partners)
                    #expect(
                        out.mask?.width == out.width && out.mask?.height == out.height, "\(name) \(w)x\(h)x\(channels)")
                    #expect(out.image.channels == channels)
                    for b in out.boxes {
                        #expect(
                            b.box.x1 >= 0 && b.box.y1 >= 0 && b.box.x2 <= Double(out.width) + 1e-9
                                && b.box.y2 <= Double(out.height) + 1e-9 && !b.box.isEmpty, "\(name): \(b.box)")
                    }
                }
            }
        }
    }

    @Test func containersAndProbabilities() throws {
        let json = """
            {
              // comments are allowed
              "transforms": [
                {"name": "one_of", "transforms": [{"name": "hflip"}, {"name": "vflip"}], "weights": [1, 3], "p": 0.5},
                {"name": "some_of", "n": [1, 2], "transforms": [{"name": "hue", "degrees": [-5, 5]}, {"name": "blur"}, {"name": "noise", "std": 3}]},
                {"name": "compose", "transforms": [{"name": "coarse_dropout", "holes": 4, "size": 0.1, "fill": "random"}]}
              ],
              "boxes": {"min_visibility": 0.3, "min_area": 4}
            }
            """
        let p = try Pipeline(json: json, file: "x.json")
        #expect(p.boxPolicy == BoxPolicy(minVisibility: 0.3, minArea: 4))
        #expect(p.root.steps.count == 3)
        #expect(p.root.steps[0] is RandomApply)
        #expect(p.root.steps[1] is SomeOf)
        let cutout = try #require((p.root.steps[2] as? Compose)?.steps.first as? Cutout)
        #expect(cutout.holes == 4...4 && cutout.size == 0.1...0.1 && cutout.fill == .random)
    }

    @Test func singleNumbersFollowTheDocumentedConventions() throws {
        let p = try Pipeline(
            json: """
                {"transforms": [{"name": "brightness", "factor": 0.3}, {"name": "rotate", "degrees": 15},
                                {"name": "noise", "std": 7}, {"name": "affine", "scale": 0.1, "translate": 0.2, "shear": 5}]}
                """)
        #expect((p.root.steps[0] as? Brightness)?.factor == 0.7...1.3)
        #expect((p.root.steps[1] as? Rotate)?.degrees == -15...15)
        #expect((p.root.steps[2] as? GaussianNoise)?.std == 7...7)
        let affine = try #require(p.root.steps[3] as? Affine)
        #expect(
            affine.scale == 0.9...1.1 && affine.translate.x == 0.2 && affine.translate.y == 0.2
                && affine.shearX == -5...5)
    }

    @Test func errorsAreLocated() throws {
        // A bad value: line 3, column 38 is where "thirty" starts.
        var e = try #require(
            error(
                """
                {"transforms": [
                  {"name": "hflip"},
                  {"name": "rotate", "degrees": "thirty"}
                ]}
                """))
        #expect(
            e.description
                == #"pipe.json:3:33: transforms[1].degrees: rotate: "degrees" must be a number or [low, high], got a string"#
        )

        e = try #require(error(#"{"transforms": [{"name": "rotat"}]}"#))
        #expect(
            e.description.hasPrefix(
                #"pipe.json:1:26: transforms[0].name: transform: unknown transform "rotat" (did you mean "rotate"?)"#))

        e = try #require(error(#"{"transforms": [{"name": "rotate", "degree": 10}]}"#))
        #expect(
            e.description.hasPrefix(
                #"pipe.json:1:36: transforms[0].degree: rotate: unknown parameter "degree" (did you mean "degrees"?)"#))

        e = try #require(error(#"{"transforms": [{"name": "brightness", "factor": [1.5, 0.5]}]}"#))
        #expect(e.description.contains("low 1.5 is above high 0.5"))

        e = try #require(error(#"{"transforms": [{"name": "hflip", "p": 2}]}"#))
        #expect(e.description == #"pipe.json:1:40: transforms[0].p: hflip: "p" must be within [0, 1], got 2"#)

        e = try #require(error("{\"transforms\": [\n  {\"name\": \"hflip\"}\n  {\"name\": \"vflip\"}]}"))
        #expect(e.description.hasPrefix("pipe.json:3:3: invalid JSON: expected ',' or ']'"))

        e = try #require(error(#"{"transforms": [{"name": "one_of", "transforms": [{"name": "blur", "kernel": 4}]}]}"#))
        #expect(e.description.contains("transforms[0].transforms[0]") && e.description.contains("odd"))

        e = try #require(error(#"{"transform": []}"#))
        #expect(e.description.contains("a pipeline needs \"transforms\""))

        e = try #require(error(#"{"transforms": [{"name": "rotate", "interpolation": "area"}]}"#))
        #expect(e.description.contains("area is for resize"))
    }

    @Test func theReadmeDocumentsEveryTransform() throws {
        let doc = try String(
            contentsOfFile: Fixtures.root.appendingPathComponent("docs/augment.md").path, encoding: .utf8)
        for name in Self.allNames + ["one_of", "some_of", "compose"] {
            #expect(doc.contains("`\(name)`"), "docs/augment.md does not mention \(name)")
        }
    }
}
