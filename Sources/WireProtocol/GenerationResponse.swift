import Foundation

/// What the cloud returns for one request: the intermediate latents of every candidate after the
/// server's k model calls, the state needed to continue the trajectory, and what the work cost.
///
/// It always carries all N candidates, so nothing the client does afterwards (which row it
/// keeps) is visible to the server. On the wire it is one safetensors body (`ResponseCodec`).
public struct GenerationResponse: Sendable, Equatable {
    /// Channels of a Stable Diffusion latent.
    public static let latentChannels = 4

    public var version: Int
    /// Latents after `continuation.completedSteps` model calls, `[N, 4, height/8, width/8]`, in
    /// the request's candidate order.
    public var latents: WireTensor
    public var continuation: ContinuationState
    public var accounting: ServerAccounting

    public init(latents: WireTensor, continuation: ContinuationState, accounting: ServerAccounting,
                version: Int = GenerationRequest.currentVersion) {
        self.version = version
        self.latents = latents
        self.continuation = continuation
        self.accounting = accounting
    }

    /// Number of candidates the response carries (the latents' leading dimension).
    public var candidateCount: Int { latents.shape.first ?? 0 }

    /// The latent and per-candidate state of candidate `index` alone, with leading dimension 1:
    /// what the device keeps (Algorithm 1, line 6). The rest of the response is dropped.
    public func extract(candidate index: Int) -> CandidateContinuation {
        precondition((0..<candidateCount).contains(index), "candidate \(index) out of 0..<\(candidateCount)")
        return CandidateContinuation(
            latent: latents.row(index),
            perCandidateState: continuation.perCandidate.mapValues { $0.row(index) },
            scheduler: continuation.scheduler,
            completedSteps: continuation.completedSteps,
            totalSteps: continuation.totalSteps,
            schedulerState: continuation.schedulerState,
            generatorState: continuation.generatorState)
    }
}

/// A dense f32 tensor as it crosses the wire, row-major.
public struct WireTensor: Sendable, Equatable {
    public var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) values")
        self.shape = shape
        self.scalars = scalars
    }

    /// Slice `index` of the leading dimension, keeping that dimension (size 1).
    public func row(_ index: Int) -> WireTensor {
        let rowCount = shape.dropFirst().reduce(1, *)
        return WireTensor(shape: [1] + shape.dropFirst(), scalars: Array(scalars[(index * rowCount)..<((index + 1) * rowCount)]))
    }
}

/// Everything the device needs to continue the denoising trajectory where the server stopped.
public struct ContinuationState: Sendable, Equatable {
    /// The scheduler that produced the state; the device must continue with the same one.
    public var scheduler: String
    /// Model calls already done (the switch point k).
    public var completedSteps: Int
    /// Total steps T of the trajectory.
    public var totalSteps: Int
    /// Scheduler state that differs per candidate (e.g. a multistep solver's previous model
    /// outputs), each with the candidates as leading dimension so the device can keep its row.
    public var perCandidate: [String: WireTensor]
    /// The scheduler's own encoding of the state shared by all candidates (step index, sigma
    /// schedule position, solver order...). Opaque to the protocol; must not be empty.
    public var schedulerState: [UInt8]
    /// The noise generator's state after the server's draws, so stochastic schedulers continue
    /// the same random stream on the device. Opaque to the protocol; must not be empty.
    public var generatorState: [UInt8]

    public init(scheduler: String, completedSteps: Int, totalSteps: Int, perCandidate: [String: WireTensor] = [:],
                schedulerState: [UInt8], generatorState: [UInt8]) {
        self.scheduler = scheduler
        self.completedSteps = completedSteps
        self.totalSteps = totalSteps
        self.perCandidate = perCandidate
        self.schedulerState = schedulerState
        self.generatorState = generatorState
    }
}

/// One candidate's share of a response: what the device keeps after local extraction.
public struct CandidateContinuation: Sendable, Equatable {
    /// `[1, 4, height/8, width/8]`.
    public var latent: WireTensor
    /// Each per-candidate state tensor with leading dimension 1.
    public var perCandidateState: [String: WireTensor]
    public var scheduler: String
    public var completedSteps: Int
    public var totalSteps: Int
    public var schedulerState: [UInt8]
    public var generatorState: [UInt8]
}

/// The server's bill for one request, so a client report can compare cost on each side.
public struct ServerAccounting: Codable, Sendable, Equatable {
    /// Wall-clock seconds by phase: `queue`, `textEncoding`, `denoising`, `total`.
    public var phaseSeconds: [String: Double]
    /// Multiply-adds the kernels executed for this request (FLOPs = 2 × this). When requests are
    /// batched into one forward pass, each is billed its share in proportion to its candidates.
    public var executedMultiplyAdds: Int64
    /// Attention maps computed once and shared across candidates or steps by the server's
    /// accelerations (0 when they are off).
    public var sharedAttentionMaps: Int
    /// Requests that shared this request's forward pass (1 when it ran alone).
    public var batchedRequests: Int

    public init(phaseSeconds: [String: Double], executedMultiplyAdds: Int64, sharedAttentionMaps: Int = 0, batchedRequests: Int = 1) {
        self.phaseSeconds = phaseSeconds
        self.executedMultiplyAdds = executedMultiplyAdds
        self.sharedAttentionMaps = sharedAttentionMaps
        self.batchedRequests = batchedRequests
    }

    public var executedFLOPs: Double { 2 * Double(executedMultiplyAdds) }
}
