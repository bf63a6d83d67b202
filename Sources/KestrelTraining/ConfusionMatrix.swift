/// Counts of (true class, predicted class) pairs, and the classification metrics derived from them.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public let classes: Int
    /// `counts[t][p]`: samples of true class t predicted as p.
    public private(set) var counts: [[Int]]

    public init(classes: Int) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    public mutating func add(truth: Int, prediction: Int) { counts[truth][prediction] += 1 }

    public mutating func add(truths: [Int], predictions: [Int]) {
        for (t, p) in zip(truths, predictions) { add(truth: t, prediction: p) }
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1][$1] } }

    /// Correct / total; 0 when empty.
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

    /// Of the samples predicted as class c, the fraction that are c; nil when nothing was predicted as c.
    public func precision(_ c: Int) -> Double? {
        let predicted = (0..<classes).reduce(0) { $0 + counts[$1][c] }
        return predicted > 0 ? Double(counts[c][c]) / Double(predicted) : nil
    }

    /// Of the samples of class c, the fraction predicted as c; nil when the class has no samples.
    public func recall(_ c: Int) -> Double? {
        let actual = counts[c].reduce(0, +)
        return actual > 0 ? Double(counts[c][c]) / Double(actual) : nil
    }

    /// Mean recall over the classes that have samples.
    public var meanClassAccuracy: Double {
        let r = (0..<classes).compactMap(recall)
        return r.isEmpty ? 0 : r.reduce(0, +) / Double(r.count)
    }
}
