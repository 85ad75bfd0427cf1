import Foundation
import TensorCore

/// CLIP's text transformer (transformers' `CLIPTextModel`, or `CLIPTextModelWithProjection` when
/// it has a `text_projection`): token + learned position embeddings, pre-norm blocks with causal
/// self-attention, a final layer norm. SD1.x conditions on the `last_hidden_state`; SDXL on the
/// penultimate layer's output and the projected pooled (end-of-text) embedding.
///
/// Weights use transformers' names, with or without the `text_model.` prefix (checkpoints
/// saved by transformers 4, i.e. every SD download, have it; transformers 5 drops it).
public final class CLIPTextModel: Sendable {
    public let configuration: CLIPTextConfiguration
    private let tokenEmbedding: Tensor
    private let positionEmbedding: Tensor
    private let layers: [CLIPEncoderLayer]
    private let finalNorm: (weight: Tensor, bias: Tensor)
    /// `text_projection` (no bias) of `CLIPTextModelWithProjection`, nil for a plain `CLIPTextModel`.
    private let textProjection: LinearWeight?

    /// What one forward produces.
    public struct Output: @unchecked Sendable {
        /// `[batch, tokens, hidden]` after the final layer norm.
        public var lastHiddenState: Tensor
        /// `hidden_states[-2]`: the output of the second-to-last layer (no final norm).
        public var penultimateHiddenState: Tensor
        /// `[batch, projection_dim]` (`text_embeds`) when the model has a projection, else
        /// `[batch, hidden]` (`pooler_output`): the end-of-text token's final state.
        public var pooled: Tensor
    }

    /// Builds the model from `weights` (a whole `text_encoder/` store); `withProjection` loads
    /// `text_projection.weight` (`[projection_dim, hidden]`) as `CLIPTextModelWithProjection` has.
    public init(configuration c: CLIPTextConfiguration, weights: WeightStore, withProjection: Bool = false) throws {
        let root = weights.contains("text_model.embeddings.token_embedding.weight") ? weights.scoped("text_model") : weights
        configuration = c
        tokenEmbedding = try root.tensor("embeddings.token_embedding.weight", shape: [c.vocabSize, c.hiddenSize])
        positionEmbedding = try root.tensor("embeddings.position_embedding.weight", shape: [c.maxPositionEmbeddings, c.hiddenSize])
        layers = try (0..<c.numHiddenLayers).map { try CLIPEncoderLayer(weights: root.scoped("encoder.layers.\($0)"), configuration: c) }
        finalNorm = try root.norm("final_layer_norm", channels: c.hiddenSize)
        textProjection = withProjection ? try weights.linear("text_projection", in: c.hiddenSize, out: c.projectionDim, bias: false) : nil
    }

    /// Whether the model has `CLIPTextModelWithProjection`'s `text_projection`.
    public var hasProjection: Bool { textProjection != nil }

    /// Loads a transformers `text_encoder/` directory (`config.json` + safetensors weights),
    /// packing its linear weights at `precision`.
    public convenience init(directory: URL, precision: Precision = .fp32) throws {
        let configuration = try ModelDirectory.decodeJSON(CLIPTextConfiguration.self, from: directory.appendingPathComponent("config.json"))
        let weights = try WeightStore(directory: directory, precision: precision)
        try self.init(configuration: configuration, weights: weights, withProjection: weights.contains("text_projection.weight"))
    }

    /// `last_hidden_state`, `[batch, tokens, hidden]`, for equally long id sequences (77 for SD).
    /// Throws `TextEncoderError` for empty, ragged or too long sequences or out-of-vocabulary ids.
    public func lastHiddenState(tokenIDs batch: [[Int]]) throws -> Tensor {
        try encode(tokenIDs: batch).lastHiddenState
    }

    /// The last and penultimate hidden states and the pooled embedding of equally long id
    /// sequences; throws like `lastHiddenState`.
    public func encode(tokenIDs batch: [[Int]]) throws -> Output {
        guard let tokens = batch.first?.count, tokens > 0 else { throw TextEncoderError.emptyInput }
        guard batch.allSatisfy({ $0.count == tokens }) else {
            throw TextEncoderError.raggedBatch(lengths: batch.map(\.count))
        }
        guard tokens <= configuration.maxPositionEmbeddings else {
            throw TextEncoderError.tooLong(tokens: tokens, maximum: configuration.maxPositionEmbeddings)
        }
        if let bad = batch.joined().first(where: { $0 < 0 || $0 >= configuration.vocabSize }) {
            throw TextEncoderError.unknownToken(id: bad, vocabularySize: configuration.vocabSize)
        }
        var x = embed(batch, tokens: tokens)
        var penultimate = x
        for layer in layers {
            penultimate = x
            x = layer(x)
        }
        let last = layerNorm(x, weight: finalNorm.weight, bias: finalNorm.bias, eps: configuration.layerNormEps)
        let pooled = gatherRows(last, at: batch.map(pooledPosition))
        return Output(lastHiddenState: last, penultimateHiddenState: penultimate,
                      pooled: textProjection.map { linear(pooled, $0) } ?? pooled)
    }

    /// The token whose final state is the pooled embedding: transformers' `argmax(input_ids)`
    /// for legacy configs (`eos_token_id` 2), else the first end-of-text id.
    private func pooledPosition(_ ids: [Int]) -> Int {
        let eos = configuration.eosTokenID
        if eos == 2 { return ids.indices.max { ids[$0] < ids[$1] || (ids[$0] == ids[$1] && $0 > $1) } ?? 0 }
        return ids.firstIndex(of: eos) ?? 0
    }

    /// `[batch, hidden]`: row `positions[b]` of each sequence.
    private func gatherRows(_ x: Tensor, at positions: [Int]) -> Tensor {
        let (tokens, d) = (x.shape[1], x.shape[2])
        let out = Tensor(zeros: [positions.count, d])
        if FLOPMeter.isCountOnly { return out }
        for (b, t) in positions.enumerated() { (out.pointer + b * d).update(from: x.pointer + (b * tokens + t) * d, count: d) }
        return out
    }

    /// Token embedding rows plus the position embedding: `[batch, tokens, hidden]`.
    private func embed(_ batch: [[Int]], tokens: Int) -> Tensor {
        let d = configuration.hiddenSize
        let out = Tensor(zeros: [batch.count, tokens, d])
        FLOPMeter.record(.elementwise, multiplyAdds: out.count)
        if FLOPMeter.isCountOnly { return out }
        for (b, ids) in batch.enumerated() {
            for (t, id) in ids.enumerated() {
                let row = out.pointer + (b * tokens + t) * d
                let token = tokenEmbedding.pointer + id * d, position = positionEmbedding.pointer + t * d
                for j in 0..<d { row[j] = token[j] + position[j] }
            }
        }
        return out
    }
}
