import CloudServer
import DeviceClient
import Diffusion
import Privacy
import TensorCore
import WireProtocol

/// A server backend and a device denoiser in one process: the code both halves of a private
/// generation run, without the HTTP hop, for benchmarks that cost or compare configurations.
struct InProcessPair {
    let backend: ModelBackend
    let device: DeviceDenoiser

    /// Both halves from their sources, with weights packed at `precision` (FLOP counts do not depend on it).
    init(server: ModelSource, device: ModelSource, precision: Precision = .fp32) throws {
        backend = ModelBackend(models: try ServerModels(source: server, precision: precision))
        self.device = DeviceDenoiser(models: try DeviceModels(source: device, precision: precision))
    }

    /// The server half for `set` under `mode` (nil when the mode uses no server).
    func serve(_ set: CandidateSet, mode: GenerationMode, settings: GenerationSettings, seed: UInt64) async throws -> GenerationResponse? {
        guard let request = mode.cloudRequest(for: set, seed: seed, settings: settings, family: device.models.family) else { return nil }
        return try await backend.generate([request], observer: .none)[0]
    }

    /// The device half: the real candidate's latent after the remaining steps (all T from
    /// `seed` when there was no server), and the multiply-adds it took (text encoder and UNet).
    func finish(_ set: CandidateSet, after response: GenerationResponse?, settings: GenerationSettings, seed: UInt64) throws -> (latent: Tensor, multiplyAdds: Int) {
        let meter = FLOPMeter(countOnly: FLOPMeter.isCountOnly)
        let oblivious = (response?.candidateCount ?? 1) > 1
        let start: DeviceDenoiser.Start = response.map { .handOff($0.extract(candidate: oblivious ? set.realIndex : 0)) } ?? .fresh(seed: seed)
        // The text the server ran for the kept row: the real candidate's rendering when it sent the set.
        let text = oblivious ? set.realCandidate : set.prompt
        let latent = try meter.measure { try device.denoise(prompt: text, settings: settings, from: start) }
        return (latent, meter.multiplyAdds)
    }
}
