import ArgumentParser
import KestrelTensor

@main
struct Kestrel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kestrel",
        abstract: "Images from disk to trained models and measured results, in native Swift.",
        version: "0.1.0",
        subcommands: [Info.self, Convert.self, Train.self, Classify.self, Detect.self, Segment.self, TestModel.self, Models.self, Eval.self,
                      ConvertAnnotations.self, GenerateShapes.self, Augment.self, Bench.self])

    static func main() {
        Compute.keepFreedMemory()
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
