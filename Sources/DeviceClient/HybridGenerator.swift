import Diffusion
import Foundation
import Privacy
import TensorCore
import WireProtocol

/// One private generation on the device, end to end: obfuscate the prompt, send the whole
/// candidate set with a fresh CSPRNG seed, validate the answer, keep only the real candidate's
/// latent, finish the trajectory on the device model, decode, report.
public struct HybridGenerator: Sendable {
    public let obfuscator: Obfuscator
    public let denoiser: DeviceDenoiser
    /// Nil only for `.deviceOnly`.
    public let cloud: CloudClient?

    public init(obfuscator: Obfuscator = Obfuscator(), device: DeviceModels, cloud: CloudClient?) {
        self.obfuscator = obfuscator
        self.denoiser = DeviceDenoiser(models: device)
        self.cloud = cloud
    }

    /// The result of `generate`.
    public struct Outcome: Sendable {
        public var candidateSet: CandidateSet
        /// Exactly what was sent (nil for device-only).
        public var request: GenerationRequest?
        /// What came back, as tensor name → shape (the latents themselves are dropped but one row).
        public var responseTensors: [String: [Int]]
        public var latent: Tensor
        /// NHWC `[1, H, W, 3]` in [0, 1].
        public var image: Tensor
        public var report: GenerationReport
    }

    /// Runs one generation. `progress` hears every phase and step; cancelling the calling task
    /// stops it at the next step (or drops the server exchange) with `CancellationError`.
    ///
    /// With `subset` (the DP subset mode, private modes only) the server gets M of the N
    /// candidates drawn by the mechanism; when the real one is not among them the device still
    /// sends the request and waits for the answer, so the server sees nothing different, then
    /// drops it and runs every step itself.
    public func generate(prompt: String, mode: GenerationMode = .obclip, settings: GenerationSettings,
                         seed: UInt64 = GenerationSettings.freshSeed(), subset: SubsetMechanism? = nil,
                         subsetRandomness: SubsetMechanism.Randomness = .system,
                         progress: @escaping @Sendable (GenerationEvent) -> Void = { _ in }) async throws -> Outcome {
        let started = Date()
        var phases: [String: Double] = [:]
        var clock = Date()
        func lap(_ phase: String) {
            phases[phase, default: 0] += Date().timeIntervalSince(clock)
            clock = Date()
        }
        let candidateSet = try obfuscator.obfuscate(prompt)
        lap("obfuscation")
        progress(.obfuscated(candidates: candidateSet.candidates.count, attributeTypesRevealed: candidateSet.report.attributeTypesRevealed))

        var request = mode.cloudRequest(for: candidateSet, seed: seed, settings: settings, family: denoiser.models.family)
        var selection: SubsetSelection?
        if let subset {
            guard mode.isPrivate else { throw GenerationError.subsetNeedsPrivateMode(mode: mode) }
            selection = try subset.select(from: candidateSet, randomness: subsetRandomness)
            request?.candidates = selection!.candidates
        }
        var exchange: CloudExchange?
        let start: DeviceDenoiser.Start
        if let request {
            guard let cloud else { throw GenerationError.noServer(mode: mode) }
            progress(.waitingForServer(serverSteps: request.switchStep, totalSteps: request.steps, candidates: request.candidates.count))
            let answer = try await cloud.generate(request) { progress(.exchange($0)) }
            exchange = answer
            clock = Date()
            if let selection, selection.realIndex == nil {
                // The real candidate was not drawn: drop the whole answer, generate on the device.
                start = .fresh(seed: seed)
            } else {
                // Local extraction (Algorithm 1, line 6): keep one row, drop the rest.
                start = .handOff(answer.response.extract(candidate: selection?.realIndex ?? mode.keptRow(of: candidateSet)))
            }
            progress(.serverAnswered(seconds: answer.seconds, responseBytes: answer.responseBytes, candidates: answer.response.candidateCount,
                                     serverSteps: request.switchStep, queueSeconds: answer.response.accounting.phaseSeconds["queue"],
                                     kept: selection.map { $0.realIndex == nil ? 0 : 1 } ?? 1))
        } else {
            start = .fresh(seed: seed)
        }

        let meter = FLOPMeter()
        var calls = 0
        let latent = try meter.measure {
            try denoiser.denoise(prompt: mode.devicePrompt(of: candidateSet), settings: settings, from: start) { done, total in
                calls += 1
                progress(.deviceStep(completed: done, total: total))
            }
        }
        lap("denoising")
        try Task.checkCancellation()
        progress(.decoding)
        let image = try meter.measure { try denoiser.decode(latent) }
        lap("decoding")

        let report = GenerationReport(
            mode: mode, settings: settings, seed: seed, candidatesSent: request?.candidates.count ?? 0,
            serverModelCalls: request?.switchStep ?? 0, privacy: mode.isPrivate ? candidateSet.report : nil, dpSubset: selection,
            server: exchange?.response.accounting,
            wire: exchange.map { GenerationReport.Wire(requestBytes: $0.requestBytes, responseBytes: $0.responseBytes,
                                                       bytesSent: $0.bytesSent, bytesReceived: $0.bytesReceived,
                                                       attempts: $0.attempts, roundTripSeconds: $0.seconds) },
            device: GenerationReport.Device(phaseSeconds: phases, executedMultiplyAdds: Int64(meter.multiplyAdds), modelCalls: calls),
            totalSeconds: Date().timeIntervalSince(started))
        return Outcome(candidateSet: candidateSet, request: request, responseTensors: exchange.map { Self.tensorShapes(of: $0.response) } ?? [:],
                       latent: latent, image: image, report: report)
    }

    /// What came back, as tensor name → shape.
    private static func tensorShapes(of response: GenerationResponse) -> [String: [Int]] {
        let c = response.continuation
        var shapes = [ResponseCodec.latentsKey: response.latents.shape,
                      ResponseCodec.schedulerStateKey: [c.schedulerState.count],
                      ResponseCodec.generatorStateKey: [c.generatorState.count]]
        for (name, tensor) in c.perCandidate { shapes[ResponseCodec.perCandidatePrefix + name] = tensor.shape }
        return shapes
    }
}

/// A generation that cannot run as configured.
public enum GenerationError: Error, CustomStringConvertible {
    case noServer(mode: GenerationMode)
    case subsetNeedsPrivateMode(mode: GenerationMode)

    public var description: String {
        switch self {
        case .noServer(let mode): "mode \(mode.rawValue) needs a server (--server URL)"
        case .subsetNeedsPrivateMode(let mode): "the DP subset mode subsamples a candidate set; mode \(mode.rawValue) sends none"
        }
    }
}
