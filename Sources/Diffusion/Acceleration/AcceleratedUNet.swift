import SharedSettings
import TensorCore

/// A UNet driven call after call through one batched trajectory under an
/// `AccelerationOptions`, holding what the accelerations carry between calls: every attention
/// layer's cached output and the encoder features (skip connections and mid-block output) for
/// block skip. Calls marked plain by the schedule take the UNet's own forward unchanged, so with
/// everything off the result is the plain forward's bit for bit.
///
/// Block skip is the encoder-propagation form: a skipping call runs only the up path, on the
/// cached features, with the current timestep embedding (the current latent does not enter).
/// Cached features are kept as bf16 for a bf16 UNet, like the attention cache (`StoredTensor`).
///
/// One instance serves one trajectory and is used from one thread at a time.
public final class AcceleratedUNet: @unchecked Sendable {
    public let unet: UNet2DConditionModel
    public let schedule: AccelerationOptions
    private let attention: AttentionAccelerator
    private var encoderFeatures: (skips: [StoredTensor], hidden: StoredTensor)?

    /// `reuseGroups` must partition the batch's rows when batch reuse is on (see
    /// `BatchReuseGroup.candidateSets`).
    public init(unet: UNet2DConditionModel, schedule: AccelerationOptions, reuseGroups: [BatchReuseGroup] = []) {
        self.unet = unet
        self.schedule = schedule
        attention = AttentionAccelerator(call: schedule.call(0), groups: reuseGroups)
    }

    /// Per reuse group, the attention maps not computed so far because a row used the group
    /// pivot's map.
    public var sharedAttentionMaps: [Int] { attention.sharedMaps }

    /// The noise prediction at model call `index` of the trajectory; same contract as the UNet's
    /// forward with one timestep.
    public func callAsFunction(_ latents: Tensor, timestep: Double, conditioning: TextConditioning, call index: Int) throws -> Tensor {
        let plan = schedule.call(index)
        if plan.isPlain { return try unet(latents, timesteps: [timestep], conditioning: conditioning) }
        try unet.validate(latents: latents.shape, timesteps: 1, conditioning: conditioning)
        if plan.batchReuse { try checkGroupsPartition(batch: latents.shape[0]) }
        attention.call = plan
        let context = conditioning.hiddenStates
        let temb = unet.timeEmbedding([timestep], conditioning: conditioning)
        let features: UNetDownFeatures
        if plan.encoder == .reuse, let kept = encoderFeatures {
            features = UNetDownFeatures(skips: kept.skips.map(\.tensor), hidden: kept.hidden.tensor)
        } else {
            features = unet.downPath(nchwToNHWC(latents), timeEmbedding: temb, context: context, attention: attention)
            if plan.encoder != .bypass {
                let precision = unet.precision
                encoderFeatures = (features.skips.map { StoredTensor($0, precision: precision) }, StoredTensor(features.hidden, precision: precision))
            }
        }
        return nhwcToNCHW(unet.upPath(features, timeEmbedding: temb, context: context, attention: attention))
    }

    private func checkGroupsPartition(batch: Int) throws {
        let covered = attention.groups.flatMap { Array($0.rows) }.sorted()
        guard covered == Array(0..<batch) else {
            throw UNetError.invalidInput("batch reuse groups must cover rows 0..<\(batch) exactly once, got \(attention.groups.map(\.rows))")
        }
    }
}
