import ArgumentParser
import Dispatch
import KestrelAnnotations

extension AnnotationFormat: ExpressibleByArgument {}

/// Reads ground truth and detections, printing warnings to stderr; an error is printed and exits with 1. COCO
/// files are parsed on two threads at once (they do not depend on each other).
func loadBoth(gt: String, dets: String, format: AnnotationFormat, dropUnknownImages: Bool = false) throws
    -> (DetectionDataset, [Detection])
{
    if format == .coco {
        let box = Pair()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                box.setGT(Result { () throws(AnnotationError) in try COCO.readDataset(contentsOfFile: gt) })
            } else {
                box.setDets(Result { () throws(AnnotationError) in try COCO.readResults(contentsOfFile: dets) })
            }
        }
        let truth = try orExit { () throws(AnnotationError) in try box.gt!.get() }
        let detections = try orExit { () throws(AnnotationError) in try box.dets!.get() }
        for w in truth.warnings { Console.error("warning: \(w)") }
        return (truth.value, detections)
    }
    let truth = try orExit { () throws(AnnotationError) in try format.readDataset(gt) }
    for w in truth.warnings { Console.error("warning: \(w)") }
    let detections = try orExit { () throws(AnnotationError) in
        try format.readDetections(dets, groundTruth: truth.value, dropUnknownImages: dropUnknownImages)
    }
    for w in detections.warnings { Console.error("warning: \(w)") }
    return (truth.value, detections.value)
}

/// Two results written by two threads, each slot once; read after both finish.
private final class Pair: @unchecked Sendable {
    var gt: Result<Loaded<DetectionDataset>, AnnotationError>?
    var dets: Result<[Detection], AnnotationError>?
    func setGT(_ r: Result<Loaded<DetectionDataset>, AnnotationError>) { gt = r }
    func setDets(_ r: Result<[Detection], AnnotationError>) { dets = r }
}
