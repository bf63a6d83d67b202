import Foundation
import KestrelAnnotations
import Testing
import _KestrelTestSupport

/// COCO polygons and RLEs rasterised as pycocotools' `annToMask` (goldens: tools/make_mask_goldens.py).
@Suite struct COCOMaskTests {
    struct Case: Decodable {
        let name: String
        let height: Int
        let width: Int
        let segmentation: JSONValue
        let mask: String
    }

    /// Any JSON value, re-serialised as COCO would hold it.
    enum JSONValue: Decodable {
        case number(Double), string(String), array([JSONValue]), object([String: JSONValue])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
            else { self = .object(try c.decode([String: JSONValue].self)) }
        }
        var text: String {
            switch self {
            case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
            case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
            case .object(let o): return "{" + o.keys.sorted().map { "\"\($0)\":" + o[$0]!.text }.joined(separator: ",") + "}"
            }
        }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: Fixtures.path("segmentation/coco_masks.json"))
        return (try? JSONDecoder().decode([Case].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func goldensArePresent() {
        #expect(COCOMaskTests.cases.count == 39)
    }

    @Test(arguments: COCOMaskTests.cases.map(\.name))
    func equalsPycocotools(_ name: String) throws {
        let c = try #require(COCOMaskTests.cases.first { $0.name == name })
        let s = try COCOSegmentation(RawJSON(c.segmentation.text), height: c.height, width: c.width)
        let mask = s.mask(height: c.height, width: c.width)
        let expected = c.mask.utf8.map { UInt8($0 - 48) }
        #expect(mask.count == expected.count)
        let wrong = zip(mask, expected).filter { $0 != $1 }.count
        #expect(wrong == 0, "\(wrong) of \(mask.count) pixels differ")
    }

    @Test func compressedStringsRoundTrip() throws {
        for c in COCOMaskTests.cases where c.name.hasPrefix("compressed") {
            guard case .object(let o) = c.segmentation, case .string(let counts)? = o["counts"] else {
                Issue.record("\(c.name) has no string counts")
                continue
            }
            let rle = try RunLengthMask(height: c.height, width: c.width, compressed: counts)
            #expect(rle.compressed == counts)
            #expect(RunLengthMask(mask: rle.decode(), height: c.height, width: c.width) == rle)
        }
    }

    @Test func badSegmentationsAreErrors() {
        #expect(throws: AnnotationError.self) { try COCOSegmentation(RawJSON("[[1, 2, 3]]"), height: 4, width: 4) }
        #expect(throws: AnnotationError.self) {
            try COCOSegmentation(RawJSON(#"{"size": [4, 5], "counts": [20]}"#), height: 4, width: 4)
        }
        #expect(throws: AnnotationError.self) {
            try COCOSegmentation(RawJSON(#"{"size": [4, 4], "counts": [3, 4]}"#), height: 4, width: 4)
        }
        #expect(throws: AnnotationError.self) {
            try COCOSegmentation(RawJSON(#"{"size": [4, 4], "counts": "0 "}"#), height: 4, width: 4)
        }
        #expect(throws: AnnotationError.self) { try COCOSegmentation(RawJSON(#"{"counts": [16]}"#), height: 4, width: 4) }
    }
}
