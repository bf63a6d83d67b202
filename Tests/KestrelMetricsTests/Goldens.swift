import Foundation
import KestrelAnnotations
import _KestrelTestSupport

/// `Tests/Fixtures/eval/goldens.json`, written by tools/make_eval_goldens.py from pycocotools 2.0.11 itself.
/// Decoded with JSONDecoder, which rounds decimal numbers correctly (JSONSerialization on Linux is off by a few
/// ulps on 17-digit numbers, see KestrelAnnotationsTests), so the goldens arrive bit for bit.
struct Goldens: Decodable, Sendable {
    struct Params: Decodable, Sendable {
        var iouThrs: [Double]
        var recThrs: [Double]
    }

    struct Options: Decodable, Sendable {
        var maxDets: [Int]?
        var fixGTIDZero: Bool?
        var fixStats0MaxDets: Bool?
    }

    struct PerCategory: Decodable, Sendable {
        var id: Int
        var ap: Double
        var ap50: Double
        var ap75: Double
        var ar: Double
    }

    struct COCOCase: Decodable, Sendable {
        var `case`: String?
        var options: Options
        var stats: [Double]
        var perCategory: [PerCategory]
        var catIds: [Int]
        var recall: [Double]
        var precisionShape: [Int]
        var precisionSHA256: String
        var precision: [Double]?
        var summary: [String]?
    }

    struct VOCClass: Decodable, Sendable {
        var ap: Double
        var recall: [Double]
        var precision: [Double]
    }

    struct VOCCase: Decodable, Sendable {
        var `case`: String
        var metric: String
        var plusOne: Bool
        var iou: Double
        var perClass: [String: VOCClass?]
        var map: Double
    }

    var params: Params
    var coco: [String: COCOCase]
    var voc: [String: VOCCase]

    static let shared: Goldens = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("eval/goldens.json")))
        return try! JSONDecoder().decode(Goldens.self, from: data)
    }()

    static func dataset(_ name: String) throws -> DetectionDataset {
        try COCO.readDataset(contentsOfFile: Fixtures.path("eval/\(name)/gt.json")).value
    }

    static func detections(_ name: String) throws -> [Detection] {
        try COCO.readResults(contentsOfFile: Fixtures.path("eval/\(name)/dets.json"))
    }

    /// SHA-256 of float64 values stored little-endian, as numpy's `tobytes()` of a `<f8` array.
    static func sha256(_ values: [Double]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for v in values {
            let b = v.bitPattern
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: b >> (8 * UInt64(k)))) }
        }
        return SHA256.hex(bytes)
    }
}
