import Foundation
import TensorCore

/// Everything a UNet is conditioned on besides the latents and the timestep, one row per batch
/// element, so the three denoising loops (in-process `txt2img`, the server backend, the device)
/// pass one value whatever the model family:
///
/// - `hiddenStates` `[b, tokens, cross_attention_dim]`: the sequence cross-attention attends to
///   (SD1.x: CLIP's last hidden state; SDXL: both encoders' penultimate states concatenated).
/// - `pooled` `[b, p]`: SDXL's projected pooled text embedding (`text_embeds`), nil for SD1.x.
/// - `timeIDs` `[b, 6]`: SDXL's micro-conditioning (`time_ids`: original size, crop top-left,
///   target size), nil for SD1.x.
/// - `guidanceEmbedding` `[b, time_cond_proj_dim]`: LCM's embedded guidance scale
///   (`timestep_cond`), nil for UNets without `time_cond_proj_dim`.
///
/// Batch operations (`concatenated`, `repeated`, `slice`) apply to every present part alike.
public struct TextConditioning: @unchecked Sendable {
    public var hiddenStates: Tensor
    public var pooled: Tensor?
    public var timeIDs: Tensor?
    public var guidanceEmbedding: Tensor?

    public init(hiddenStates: Tensor, pooled: Tensor? = nil, timeIDs: Tensor? = nil, guidanceEmbedding: Tensor? = nil) {
        self.hiddenStates = hiddenStates
        self.pooled = pooled
        self.timeIDs = timeIDs
        self.guidanceEmbedding = guidanceEmbedding
    }

    /// Rows (batch elements).
    public var batch: Int { hiddenStates.shape[0] }

    /// The parts stacked along the batch: `[parts[0] rows; parts[1] rows; …]`. All parts must
    /// carry the same optional components.
    public static func concatenated(_ parts: [TextConditioning]) -> TextConditioning {
        precondition(!parts.isEmpty, "no conditioning to concatenate")
        func stack(_ part: (TextConditioning) -> Tensor?) -> Tensor? {
            let present = parts.compactMap(part)
            precondition(present.isEmpty || present.count == parts.count, "conditioning parts differ in their components")
            return present.isEmpty ? nil : concatBatch(present)
        }
        return TextConditioning(hiddenStates: concatBatch(parts.map(\.hiddenStates)), pooled: stack(\.pooled),
                                timeIDs: stack(\.timeIDs), guidanceEmbedding: stack(\.guidanceEmbedding))
    }

    /// This conditioning's rows repeated `count` times one after another.
    public func repeated(_ count: Int) -> TextConditioning {
        Self.concatenated(Array(repeating: self, count: count))
    }

    /// Rows `start..<start+length`.
    public func slice(_ start: Int, _ length: Int) -> TextConditioning {
        TextConditioning(hiddenStates: hiddenStates.slice(start, length), pooled: pooled?.slice(start, length),
                         timeIDs: timeIDs?.slice(start, length), guidanceEmbedding: guidanceEmbedding?.slice(start, length))
    }

    /// A copy with SDXL's micro-conditioning ids for every row.
    public func with(_ micro: MicroConditioning) -> TextConditioning {
        var copy = self
        copy.timeIDs = Tensor(shape: [batch, 6], scalars: Array(repeating: micro.timeIDs, count: batch).flatMap { $0 })
        return copy
    }

    /// A copy with LCM's guidance embedding of scale `guidanceScale` for every row
    /// (`get_guidance_scale_embedding(guidance_scale − 1)`, as diffusers' pipelines pass it).
    public func withGuidanceEmbedding(scale guidanceScale: Float, dimension: Int) -> TextConditioning {
        var copy = self
        copy.guidanceEmbedding = guidanceScaleEmbedding(Array(repeating: guidanceScale - 1, count: batch), dimension: dimension)
        return copy
    }

    /// The conditioning a UNet with `configuration` needs, derived from encoded text: SDXL's time
    /// ids from `micro`, LCM's guidance embedding from `guidanceScale`; parts the UNet does not
    /// read are left out.
    public func prepared(for configuration: UNetConfiguration, micro: MicroConditioning, guidanceScale: Float) -> TextConditioning {
        var out = self
        if configuration.additionEmbedType == "text_time" { out = out.with(micro) } else { out.timeIDs = nil }
        if let dimension = configuration.timeCondProjDim {
            out = out.withGuidanceEmbedding(scale: guidanceScale, dimension: dimension)
        } else {
            out.guidanceEmbedding = nil
        }
        return out
    }
}

/// diffusers' `get_guidance_scale_embedding` (LCM pipelines): `w·1000` times
/// `exp(−ln(10000)·i/(half − 1))`, `[sin | cos]`, in f32; `[w.count, dimension]`.
public func guidanceScaleEmbedding(_ w: [Float], dimension: Int) -> Tensor {
    let half = dimension / 2
    let out = Tensor(zeros: [w.count, dimension])
    let step = logf(10000) / Float(half - 1)
    let frequencies = (0..<half).map { expf(Float($0) * -step) }
    for (b, scale) in w.enumerated() {
        let row = out.pointer + b * dimension
        let scaled = scale * 1000
        for i in 0..<half {
            row[i] = sinf(scaled * frequencies[i])
            row[half + i] = cosf(scaled * frequencies[i])
        }
    }
    return out
}
