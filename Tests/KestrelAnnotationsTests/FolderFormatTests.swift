import Foundation
import KestrelAnnotations
import KestrelGeometry
import Testing
import _KestrelTestSupport

@Suite struct VOCFormatTests {
    let root = Fixtures.path("voc")

    @Test func readsTheDevkitLayout() throws {
        let loaded = try VOC.readDataset(folder: root)
        let d = loaded.value
        #expect(d.images.map(\.fileName) == ["000001.jpg", "000002.jpg", "000003.jpg"])
        #expect(d.images.map(\.id) == [1, 2, 3])
        #expect(d.images[0].width == 353 && d.images[0].height == 500)
        #expect(d.categories.map(\.name) == ["dog", "person", "person & co", "train"])
        #expect(d.categories.map(\.id) == [1, 2, 3, 4])
        #expect(d.annotations.count == 6)
        let dog = d.annotations[0]
        #expect(dog.bbox == BoxXYWH(x: 48, y: 240, width: 147, height: 131))  // kept as written: xmax − xmin
        #expect(dog.truncated && !dog.difficult && dog.area == 147 * 131)
        #expect(d.annotations[3].difficult && d.annotations[3].bbox == BoxXYWH(x: 10.5, y: 20, width: 20, height: 40))
        #expect(d.annotations[5].bbox.x == 239)  // from a CDATA section
        #expect(loaded.warnings.map(\.message) == ["1 object(s) have no <difficult>; taken as 0",
                                                   "1 object(s) have no <truncated>; taken as 0"])
    }

    @Test func readsDevkitResultsByClassSuffix() throws {
        let d = try VOC.readDataset(folder: root).value
        let dets = try VOC.readResults(folder: root + "/results", groundTruth: d).value
        #expect(dets.count == 7)
        #expect(dets.filter { $0.categoryID == 1 }.count == 4)  // dog
        #expect(dets.first { $0.categoryID == 4 }?.bbox == BoxXYWH(x: 140, y: 201, width: 66, height: 99))
    }

    @Test func roundTrip() throws {
        let d = try VOC.readDataset(folder: root).value
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try VOC.write(d, toFolder: dir.path).isEmpty)
        let again = try VOC.readDataset(folder: dir.path)
        #expect(again.value == d)
        #expect(again.warnings.isEmpty)
        let dets = try VOC.readResults(folder: root + "/results", groundTruth: d).value
        try VOC.write(dets, groundTruth: d, toFolder: dir.path + "/results")
        let back = try VOC.readResults(folder: dir.path + "/results", groundTruth: d).value
        #expect(Set(back) == Set(dets))
    }

    @Test(arguments: [
        ("unclosed", "unclosed.xml:6:2: syntax error: </objec> closes <object> (opened at 3:2)"),
        ("reversed", "reversed.xml:4:5: annotation/object[1]/bndbox: invalid value: xmax 3.0 < xmin 10.0"),
        ("nan", "nan.xml:4:27: annotation/object[1]/bndbox/ymin: invalid value: <ymin> 'nan' is not a finite number"),
    ])
    func malformedFilesNameTheFileAndPlace(name: String, expected: String) {
        let folder = Fixtures.path("voc-bad/\(name)")
        do {
            _ = try VOC.readDataset(folder: folder)
            Issue.record("accepted")
        } catch {
            #expect(error.description == folder + "/" + expected)
        }
    }

    @Test func unknownImagesInResultsAreAnErrorUnlessDropped() throws {
        let d = try VOC.readDataset(folder: root).value
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "999999 0.5 1 2 3 4\n000001 0.5 1 2 3 4\n".write(toFile: dir.path + "/comp4_det_test_dog.txt", atomically: true, encoding: .utf8)
        #expect(throws: AnnotationError.self) { _ = try VOC.readResults(folder: dir.path, groundTruth: d) }
        let kept = try VOC.readResults(folder: dir.path, groundTruth: d, dropUnknownImages: true)
        #expect(kept.value.count == 1 && kept.warnings.count == 1)
    }
}

@Suite struct YOLOFormatTests {
    /// A YOLO folder with two real images (37×29 PNG; 67×45 JPEG whose EXIF orientation 6 makes it 45×67).
    func makeFolder() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("labels"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: Fixtures.path("images/png_rgb8.png"), toPath: dir.path + "/images/a.png")
        try fm.copyItem(atPath: Fixtures.path("images/jpeg_exif_orient6.jpg"), toPath: dir.path + "/images/b.jpg")
        try "0 0.5 0.5 0.5 0.5\n\n1 0.25 0.75 0.1 0.2\n".write(toFile: dir.path + "/labels/a.txt", atomically: true, encoding: .utf8)
        try "cat\ndog\n".write(toFile: dir.path + "/classes.txt", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func readsPixelBoxesWithImageSizes() throws {
        let dir = try makeFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = try YOLO.readDataset(folder: dir.path).value
        #expect(d.images.map(\.fileName) == ["a.png", "b.jpg"])
        #expect(d.images[1].width == 45 && d.images[1].height == 67)  // EXIF orientation applied
        #expect(d.categories == [Category(id: 0, name: "cat"), Category(id: 1, name: "dog")])
        #expect(d.annotations.count == 2)
        #expect(d.annotations[0].bbox == BoxXYWH(x: 9.25, y: 7.25, width: 18.5, height: 14.5))
        let b = d.annotations[1].bbox
        #expect(abs(b.x - (0.25 - 0.05) * 37) < 1e-12 && abs(b.height - 0.2 * 29) < 1e-12)
    }

    @Test func roundTripThroughCOCOAndBack() throws {
        let dir = try makeFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = try YOLO.readDataset(folder: dir.path).value
        let coco = try COCO.readDataset(Array(COCO.encode(d).utf8)).value
        #expect(coco == d)
        let out = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(try YOLO.write(coco, toFolder: out.path).isEmpty)
        let text = try String(contentsOfFile: out.path + "/labels/a.txt", encoding: .utf8)
        #expect(text == "0 0.5 0.5 0.5 0.5\n1 0.25 0.75 0.1 0.2\n")
        #expect(try String(contentsOfFile: out.path + "/classes.txt", encoding: .utf8) == "cat\ndog\n")
        #expect(try String(contentsOfFile: out.path + "/labels/b.txt", encoding: .utf8) == "")
    }

    @Test func detectionsWithConfidence() throws {
        let dir = try makeFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = try YOLO.readDataset(folder: dir.path).value
        try FileManager.default.createDirectory(atPath: dir.path + "/pred", withIntermediateDirectories: true)
        try "1 0.5 0.5 0.2 0.2 0.875\n".write(toFile: dir.path + "/pred/b.txt", atomically: true, encoding: .utf8)
        let dets = try YOLO.readResults(folder: dir.path + "/pred", groundTruth: d).value
        #expect(dets == [Detection(imageID: 2, categoryID: 1, bbox: BoxXYWH(x: 18, y: 26.8, width: 9, height: 13.4), score: 0.875)]
                || abs(dets[0].bbox.y - 26.8) < 1e-12)
    }

    @Test func badLinesNameTheFileLineAndColumn() throws {
        let dir = try makeFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "0 0.5 0.5 0.5\n".write(toFile: dir.path + "/labels/b.txt", atomically: true, encoding: .utf8)
        do {
            _ = try YOLO.readDataset(folder: dir.path)
            Issue.record("accepted")
        } catch {
            #expect(error.description == dir.path + "/labels/b.txt:1:1: invalid value: expected 5 fields (class cx cy w h), found 4")
        }
        try "0 0.5 0.5 -0.5 0.5\n".write(toFile: dir.path + "/labels/b.txt", atomically: true, encoding: .utf8)
        #expect(throws: AnnotationError.self) { _ = try YOLO.readDataset(folder: dir.path) }
        try "x\n".write(toFile: dir.path + "/labels/zzz.txt", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: dir.path + "/labels/b.txt")
        do {
            _ = try YOLO.readDataset(folder: dir.path)
            Issue.record("accepted a label file without an image")
        } catch {
            #expect(error.description.hasSuffix("zzz.txt: inconsistent: no image in images/ for this label file"))
        }
    }
}
