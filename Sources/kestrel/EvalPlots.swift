import KestrelMetrics

extension Eval {
    func writePlots(coco: COCOEvalResult, folder: String) throws {}
    func writePlots(voc: VOCEvalResult, folder: String) throws {}
}
