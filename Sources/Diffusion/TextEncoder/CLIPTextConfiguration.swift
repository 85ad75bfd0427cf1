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
    /// Width of `text_projection` (`CLIPTextModelWithProjection`; transformers' default 512).
    public var projectionDim: Int
    /// `eos_token_id`: 2 in configs written before transformers 4.30 (then the pooled token is the
    /// id sequence's argmax, which is CLIP's end-of-text), otherwise the end-of-text id itself.
    public var eosTokenID: Int

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case maxPositionEmbeddings = "max_position_embeddings", hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps"
        case projectionDim = "projection_dim", eosTokenID = "eos_token_id"
    }

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                maxPositionEmbeddings: Int = 77, hiddenAct: Activation = .quickGelu, layerNormEps: Float = 1e-5,
                projectionDim: Int = 512, eosTokenID: Int = 2) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
        self.projectionDim = projectionDim
        self.eosTokenID = eosTokenID
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
                  layerNormEps: try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-5,
                  projectionDim: try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? 512,
                  eosTokenID: try c.decodeIfPresent(Int.self, forKey: .eosTokenID) ?? 2)
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

    /// OpenCLIP ViT-bigG/14's text tower with its 1280-wide projection, SDXL's `text_encoder_2`
    /// (`CLIPTextModelWithProjection`, 695 M parameters; stabilityai/stable-diffusion-xl-base-1.0
    /// `text_encoder_2/config.json`).
    public static let vitBigG14 = CLIPTextConfiguration(vocabSize: 49408, hiddenSize: 1280, intermediateSize: 5120,
                                                        numHiddenLayers: 32, numAttentionHeads: 20, hiddenAct: .gelu,
                                                        projectionDim: 1280)
}
