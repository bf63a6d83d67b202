import KestrelFiles
import KestrelImage
import KestrelPlot

/// `curves.png`: the run's loss (left) and its other metrics (right: accuracy, mIoU, mAP…) against epochs,
/// training and validation in one picture, rewritten after every epoch.
public enum TrainingCurves {
    public static func image(_ history: [EpochMetrics]) throws(ImageError) -> Image {
        var loss = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss")
        loss.add(LineChart.Series(name: "train", points: history.map { (Double($0.epoch), $0.trainLoss) }))
        if history.contains(where: { $0["val_loss"] != nil }) {
            loss.add(LineChart.Series(name: "validation", points: history.map { (Double($0.epoch), $0["val_loss"] ?? .nan) }))
        }
        var other = LineChart(title: "metrics", xLabel: "epoch", yLabel: "")
        let keys = Set(history.flatMap { $0.values.keys }).filter { !$0.hasSuffix("_loss") }.sorted()
        for key in keys {
            other.add(LineChart.Series(name: key.replacingOccurrences(of: "_", with: " "),
                                       points: history.map { (Double($0.epoch), $0[key] ?? .nan) }))
        }
        other.legend = .bottomRight
        let a = try loss.render().makeImage(), b = try other.render().makeImage()
        var pixels = [UInt8](repeating: 255, count: (a.width + b.width) * max(a.height, b.height) * 3)
        let w = a.width + b.width
        for y in 0..<a.height {
            for x in 0..<(a.width * 3) { pixels[y * w * 3 + x] = a.pixels[y * a.width * 3 + x] }
        }
        for y in 0..<b.height {
            for x in 0..<(b.width * 3) { pixels[y * w * 3 + a.width * 3 + x] = b.pixels[y * b.width * 3 + x] }
        }
        return try Image(width: w, height: max(a.height, b.height), channels: 3, pixels: pixels)
    }

    public static func write(_ history: [EpochMetrics], to path: String) throws(TrainingError) {
        do { try image(history).write(toFile: path) } catch { throw TrainingError(error.message, path: path) }
    }
}
