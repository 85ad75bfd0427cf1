import Foundation
import TensorCore

/// CLIP's text transformer (transformers' `CLIPTextModel`), producing the `last_hidden_state`
/// Stable Diffusion conditions on: token + learned position embeddings, pre-norm blocks with
/// causal self-attention, a final layer norm.
///
/// Weights use transformers' names, with or without the `text_model.` prefix (checkpoints
/// saved by transformers 4, i.e. every SD download, have it; transformers 5 drops it).
public final class CLIPTextModel: Sendable {
    public let configuration: CLIPTextConfiguration
    private let tokenEmbedding: Tensor
    private let positionEmbedding: Tensor
    private let layers: [CLIPEncoderLayer]
    private let finalNorm: (weight: Tensor, bias: Tensor)

    /// Builds the model from `weights` (a whole `text_encoder/` store).
    public init(configuration c: CLIPTextConfiguration, weights: WeightStore) throws {
        let root = weights.contains("text_model.embeddings.token_embedding.weight") ? weights.scoped("text_model") : weights
        configuration = c
        tokenEmbedding = try root.tensor("embeddings.token_embedding.weight", shape: [c.vocabSize, c.hiddenSize])
        positionEmbedding = try root.tensor("embeddings.position_embedding.weight", shape: [c.maxPositionEmbeddings, c.hiddenSize])
        layers = try (0..<c.numHiddenLayers).map { try CLIPEncoderLayer(weights: root.scoped("encoder.layers.\($0)"), configuration: c) }
        finalNorm = try root.norm("final_layer_norm", channels: c.hiddenSize)
    }

    /// Loads a transformers `text_encoder/` directory (`config.json` + safetensors weights),
    /// packing its linear weights at `precision`.
    public convenience init(directory: URL, precision: Precision = .fp32) throws {
        let configuration = try ModelDirectory.decodeJSON(CLIPTextConfiguration.self, from: directory.appendingPathComponent("config.json"))
        try self.init(configuration: configuration, weights: WeightStore(directory: directory, precision: precision))
    }

    /// `last_hidden_state`, `[batch, tokens, hidden]`, for equally long id sequences (77 for SD).
    /// Throws `TextEncoderError` for empty, ragged or too long sequences or out-of-vocabulary ids.
    public func lastHiddenState(tokenIDs batch: [[Int]]) throws -> Tensor {
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
        for layer in layers { x = layer(x) }
        return layerNorm(x, weight: finalNorm.weight, bias: finalNorm.bias, eps: configuration.layerNormEps)
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
