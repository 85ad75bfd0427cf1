import Diffusion
import Foundation
import WireProtocol
@testable import CloudServer

/// A backend for exercising the HTTP service (auth, limits, queueing, batching, cancellation)
/// without model cost: each model call is a fixed pause, and the latents are the seed's real
/// `torch.randn` noise, so responses are deterministic and pass client validation. Model
/// correctness is tested where the models are; this isolates the service's own behaviour.
final class PacedBackend: GenerationBackend, @unchecked Sendable {
    let stepDelay: Duration
    let tokenizer: CLIPTokenizer
    let knownSchedulers: Set<String> = ["dpm++2m", "ddim"]
    private let lock = NSLock()
    private var batchesSeen: [[GenerationRequest]] = []
    private var cancellations = 0

    init(stepDelay: Duration = .milliseconds(5)) throws {
        self.stepDelay = stepDelay
        tokenizer = try CLIPTokenizer.bundled()
    }

    var batches: [[GenerationRequest]] { lock.withLock { batchesSeen } }
    var cancelledBatches: Int { lock.withLock { cancellations } }

    func tokenCount(of prompt: String, stoppingAbove limit: Int) -> Int { tokenizer.tokenCount(prompt, stoppingAbove: limit - 2) + 2 }

    /// One mebibyte per candidate, so memory limits can be exercised in round numbers.
    func estimatedMemoryBytes(for request: GenerationRequest) -> Int { request.candidates.count << 20 }

    func generate(_ batch: [GenerationRequest], observer: BatchObserver) async throws -> [GenerationResponse] {
        lock.withLock { batchesSeen.append(batch) }
        let first = batch[0]
        let candidates = batch.reduce(0) { $0 + $1.candidates.count }
        for _ in 0..<first.switchStep {
            do {
                try await Task.sleep(for: stepDelay)
            } catch {
                lock.withLock { cancellations += 1 }
                throw CancellationError()
            }
            observer.stepCompleted(seconds: stepDelay.seconds, candidates: 2 * candidates)
        }
        var generator = TorchGenerator(seed: first.seed)
        let shape = [1, 4, first.height / 8, first.width / 8]
        let noise = generator.normalScalars(count: shape.reduce(1, *))
        return batch.map { request in
            let n = request.candidates.count
            let latents = WireTensor(shape: [n] + shape.dropFirst(), scalars: (0..<n).flatMap { i in noise.map { $0 + Float(i) } })
            let state = ContinuationState(scheduler: request.scheduler, completedSteps: request.switchStep, totalSteps: request.steps,
                                          schedulerState: [UInt8(request.switchStep)], generatorState: generator.encoded())
            return GenerationResponse(latents: latents, continuation: state,
                                      accounting: ServerAccounting(phaseSeconds: ["denoising": stepDelay.seconds * Double(request.switchStep)],
                                                                   executedMultiplyAdds: Int64(n * 1000)))
        }
    }
}
