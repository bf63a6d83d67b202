import ArgumentParser
import KestrelTraining

/// Runs any trainer with the CLI's conventions: a progress line with rate and ETA on a terminal, one line per
/// epoch on stdout (stderr with --json), Ctrl-C saves and exits with 130, a summary at the end (text or JSON).
/// The task-specific parts are the closures: the running means to show per batch, the epoch line, the summary.
func driveTraining<T: TrainingTask>(
    _ trainer: Trainer<T>, trainImages: Int, json: Bool,
    batchText: @escaping ([String: Double]) -> String,
    epochText: @escaping (EpochMetrics) -> String,
    summary: (RunState, Double, Int) -> (text: String, json: [(String, JSON)])
) throws {
    let cfg = trainer.config
    if trainer.state.epoch > 0 || trainer.state.batch > 0 {
        Console.error("resuming \(trainer.runDirectory) at epoch \(trainer.state.epoch + 1), batch \(trainer.state.batch + 1)")
    }
    var progress = ProgressLine()
    var skipped = 0
    let state: RunState
    do {
        state = try trainer.run(events: { event in
            switch event {
            case .batch(let epoch, let batch, let batches, let loss, let means, let rate):
                let remaining = Double(batches - batch) * Double(cfg.batchSize) / max(rate, 1e-9)
                    + Double(cfg.epochs - epoch - 1) * Double(trainImages) / max(rate, 1e-9)
                progress.update("epoch \(epoch + 1)/\(cfg.epochs) batch \(batch)/\(batches) loss \(fixed(loss, 4))\(batchText(means)) \(fixed(rate, 1)) img/s ETA \(ProgressLine.duration(remaining))")
            case .epoch(let m):
                progress.clear()
                let line = "epoch \(m.epoch)/\(m.epochs) lr \(m.learningRate) train loss \(fixed(m.trainLoss, 4))\(epochText(m)) · \(fixed(m.seconds, 1)) s, \(fixed(m.imagesPerSecond, 1)) img/s"
                if !json { Console.out(line) } else { Console.error(line) }
            case .skipped(let e):
                skipped += 1
                progress.clear()
                Console.error("warning: skipped \(e)")
            case .interrupted(let epoch, let batch):
                progress.clear()
                Console.error("interrupted at epoch \(epoch + 1), batch \(batch): checkpoint saved; continue with kestrel train --resume \(trainer.runDirectory)")
            }
        }, shouldStop: { interruptRequested.load(ordering: .relaxed) })
    } catch {
        progress.clear()
        Console.error("error: \(error)")
        throw ExitCode(1)
    }
    if interruptRequested.load(ordering: .relaxed) && state.epoch < cfg.epochs { throw ExitCode(130) }
    let total = state.history.reduce(0) { $0 + $1.seconds }
    let s = summary(state, total, skipped)
    if json {
        Console.out(JSON.object([("runDir", .string(trainer.runDirectory)), ("model", .string(cfg.model)), ("epochs", .int(cfg.epochs)),
                                 ("bestEpoch", .int(state.bestEpoch)), ("trainSeconds", .double(total)), ("skipped", .int(skipped))]
                                + s.json).text)
    } else {
        Console.out(s.text)
    }
}
