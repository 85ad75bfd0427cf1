/// The fields of a transformers `text_encoder/config.json` (`CLIPTextConfig`) that shape the
/// network. Sizes are required; the rest default as in transformers.
public struct CLIPTextConfiguration: Codable, Sendable, Equatable {
    /// The feed-forward non-linearity (`hidden_act`).
    public enum Activation: String, Codable, Sendable {
        /// x·σ(1.702x): OpenAI CLIP (SD 1.x).
        case quickGelu = "quick_gelu"
        /// Exact erf GELU: OpenCLIP ViT-H (SD 2.x).
        case gelu

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            let name = try container.decode(String.self)
            guard let value = Activation(rawValue: name) else {
                throw DecodingError.dataCorruptedError(in: container,
                    debugDescription: "unsupported activation '\(name)' (supported: quick_gelu, gelu)")
            }
            self = value
        }
    }

    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var maxPositionEmbeddings: Int
    public var hiddenAct: Activation
    public var layerNormEps: Float

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case maxPositionEmbeddings = "max_position_embeddings", hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps"
    }

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                maxPositionEmbeddings: Int = 77, hiddenAct: Activation = .quickGelu, layerNormEps: Float = 1e-5) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func positive(_ key: CodingKeys) throws -> Int {
            let v = try c.decode(Int.self, forKey: key)
            guard v > 0 else { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be positive, got \(v)") }
            return v
        }
        self.init(vocabSize: try positive(.vocabSize), hiddenSize: try positive(.hiddenSize),
                  intermediateSize: try positive(.intermediateSize), numHiddenLayers: try positive(.numHiddenLayers),
                  numAttentionHeads: try positive(.numAttentionHeads),
                  maxPositionEmbeddings: try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 77,
                  hiddenAct: try c.decodeIfPresent(Activation.self, forKey: .hiddenAct) ?? .quickGelu,
                  layerNormEps: try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-5)
        guard hiddenSize % numAttentionHeads == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .numAttentionHeads, in: c,
                debugDescription: "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) heads")
        }
        guard maxPositionEmbeddings > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .maxPositionEmbeddings, in: c, debugDescription: "must be positive")
        }
    }

    /// OpenAI CLIP ViT-L/14's text tower, Stable Diffusion 1.x's text encoder (123 M parameters).
    public static let vitL14 = CLIPTextConfiguration(vocabSize: 49408, hiddenSize: 768, intermediateSize: 3072,
                                                     numHiddenLayers: 12, numAttentionHeads: 12)
}
