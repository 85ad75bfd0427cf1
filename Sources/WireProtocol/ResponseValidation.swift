extension GenerationResponse {
    /// Most per-candidate scheduler tensors a response may carry (PNDM, the largest, keeps four
    /// past ε and one stored sample).
    public static let maxPerCandidateTensors = 8

    /// The largest body a valid response to `request` can have: the latents, at most
    /// `maxPerCandidateTensors` latent-sized state tensors, and a mebibyte for the header, the
    /// shared states and the accounting. The client stops reading past it, so a hostile server
    /// cannot make the device buffer an unbounded body.
    public static func maximumEncodedBytes(for request: GenerationRequest) -> Int {
        let latentBytes = request.candidates.count * latentChannels * (request.height / 8) * (request.width / 8) * MemoryLayout<Float>.size
        return (1 + maxPerCandidateTensors) * latentBytes + (1 << 20)
    }

    /// Checks that this response answers `request`: same protocol version, one latent per
    /// candidate with the latent shape of the requested size, only finite values, continuation
    /// state present for the requested scheduler and switch point. The client calls this before
    /// touching any latent, so a faulty or hostile server cannot feed it garbage.
    public func validate(for request: GenerationRequest) throws {
        guard version == request.version else {
            throw ResponseError(field: ResponseCodec.versionKey, "server answered protocol version \(version), request used \(request.version)")
        }
        let n = request.candidates.count
        let expected = [n, GenerationResponse.latentChannels, request.height / 8, request.width / 8]
        guard latents.shape == expected else {
            throw ResponseError(field: ResponseCodec.latentsKey, "shape \(latents.shape), expected \(expected) (N, channels, height/8, width/8)")
        }
        try Self.checkFinite(latents, field: ResponseCodec.latentsKey)
        let c = continuation
        guard c.scheduler == request.scheduler else {
            throw ResponseError(field: ResponseCodec.schedulerKey, "state is for scheduler '\(c.scheduler)', request asked for '\(request.scheduler)'")
        }
        guard c.completedSteps == request.switchStep else {
            throw ResponseError(field: ResponseCodec.completedStepsKey, "server completed \(c.completedSteps) steps, request asked for \(request.switchStep)")
        }
        guard c.totalSteps == request.steps else {
            throw ResponseError(field: ResponseCodec.totalStepsKey, "state is for \(c.totalSteps) total steps, request asked for \(request.steps)")
        }
        guard c.perCandidate.count <= Self.maxPerCandidateTensors else {
            throw ResponseError(field: ResponseCodec.perCandidatePrefix + "*", "\(c.perCandidate.count) per-candidate state tensors, at most \(Self.maxPerCandidateTensors) allowed")
        }
        for (name, tensor) in c.perCandidate {
            let field = ResponseCodec.perCandidatePrefix + name
            // Every scheduler's history is latent-shaped: one x̂₀ or ε per candidate.
            guard tensor.shape == expected else {
                throw ResponseError(field: field, "shape \(tensor.shape), expected the latents' shape \(expected)")
            }
            try Self.checkFinite(tensor, field: field)
        }
        guard !c.schedulerState.isEmpty else { throw ResponseError(field: ResponseCodec.schedulerStateKey, "scheduler state is empty") }
        guard !c.generatorState.isEmpty else { throw ResponseError(field: ResponseCodec.generatorStateKey, "generator state is empty") }
        guard accounting.executedMultiplyAdds >= 0, accounting.phaseSeconds.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ResponseError(field: ResponseCodec.accountingKey, "negative or non-finite accounting values")
        }
    }

    private static func checkFinite(_ tensor: WireTensor, field: String) throws {
        if let i = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
            throw ResponseError(field: field, "non-finite value \(tensor.scalars[i]) at flat index \(i)")
        }
    }
}
