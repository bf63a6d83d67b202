import ArgumentParser
import KestrelAnnotations

extension AnnotationFormat: ExpressibleByArgument {}

/// Reads ground truth and detections, printing warnings to stderr; an error is printed and exits with 1. (A large
/// COCO results file is parsed on two threads by the reader itself; the ground truth, usually ten times smaller,
/// is read first.)
func loadBoth(gt: String, dets: String, format: AnnotationFormat, dropUnknownImages: Bool = false) throws
    -> (DetectionDataset, [Detection])
{
    let truth = try orExit { () throws(AnnotationError) in try format.readDataset(gt) }
    for w in truth.warnings { Console.error("warning: \(w)") }
    let detections = try orExit { () throws(AnnotationError) in
        try format.readDetections(dets, groundTruth: truth.value, dropUnknownImages: dropUnknownImages)
    }
    for w in detections.warnings { Console.error("warning: \(w)") }
    return (truth.value, detections.value)
}
