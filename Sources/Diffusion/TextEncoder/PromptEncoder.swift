import TensorCore

/// Prompts to `TextConditioning`, for either family: one CLIP tokenizer + text encoder (SD1.x,
/// conditioning on the last hidden state) or SDXL's pair — CLIP ViT-L and OpenCLIP ViT-bigG
/// with projection, each with its own tokenizer (`tokenizer_2` pads with its own token) — whose
/// penultimate hidden states are concatenated along channels (768 + 1280 = 2048) and whose
/// second encoder's projected pooled embedding becomes `pooled` (diffusers'
/// `StableDiffusionXLPipeline.encode_prompt`).
public struct PromptEncoder: Sendable {
    /// One tokenizer and the text encoder it feeds.
    public struct Tower: Sendable {
        public let tokenizer: CLIPTokenizer
        public let model: CLIPTextModel

        public init(tokenizer: CLIPTokenizer, model: CLIPTextModel) {
            self.tokenizer = tokenizer
            self.model = model
        }
    }

    /// One tower (SD1.x) or two (SDXL, the second with a projection).
    public let towers: [Tower]
    /// SDXL's `force_zeros_for_empty_prompt` (`model_index.json`): an empty negative prompt
    /// conditions on zeros instead of the encoded empty string.
    public let forceZerosForEmptyPrompt: Bool

    /// SD1.x: the last hidden state of one encoder.
    public init(tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel) {
        towers = [Tower(tokenizer: tokenizer, model: textEncoder)]
        forceZerosForEmptyPrompt = false
    }

    /// SDXL: the pair; the second encoder must have a projection (its pooled output is the
    /// pooled text embedding).
    public init(first: Tower, second: Tower, forceZerosForEmptyPrompt: Bool = true) throws {
        guard second.model.hasProjection else {
            throw TextEncoderError.missingProjection
        }
        towers = [first, second]
        self.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt
    }

    /// Whether this is SDXL's dual encoder (penultimate states, pooled embeds).
    public var isDual: Bool { towers.count == 2 }

    /// The first tokenizer (candidate token counts for batch reuse are taken from it).
    public var tokenizer: CLIPTokenizer { towers[0].tokenizer }

    /// Width of `hiddenStates` (the UNet's `cross_attention_dim`).
    public var hiddenDimension: Int { towers.reduce(0) { $0 + $1.model.configuration.hiddenSize } }

    /// The conditioning of `prompts` (one row each): `hiddenStates` and, for SDXL, `pooled`.
    public func encode(_ prompts: [String]) throws -> TextConditioning {
        try encode(tokenIDs: towers.map { tower in prompts.map { tower.tokenizer.encode($0) } })
    }

    /// The conditioning of explicit id sequences, one list of sequences per tower.
    public func encode(tokenIDs: [[[Int]]]) throws -> TextConditioning {
        precondition(tokenIDs.count == towers.count, "one id batch per text encoder")
        guard isDual else { return TextConditioning(hiddenStates: try towers[0].model.lastHiddenState(tokenIDs: tokenIDs[0])) }
        let outputs = try zip(towers, tokenIDs).map { try $0.model.encode(tokenIDs: $1) }
        return TextConditioning(hiddenStates: concatLastAxis(outputs.map(\.penultimateHiddenState)), pooled: outputs[1].pooled)
    }

    /// The unconditional conditioning for guidance, `count` identical rows: zeros shaped like
    /// `like` when the negative prompt is empty and `forceZerosForEmptyPrompt` is set (diffusers
    /// with `negative_prompt=None`), else the encoded negative prompt (encoded once).
    public func unconditional(negativePrompt: String, count: Int, like positive: TextConditioning) throws -> TextConditioning {
        if negativePrompt.isEmpty && forceZerosForEmptyPrompt {
            func zeros(_ t: Tensor) -> Tensor { Tensor(zeros: [count] + t.shape.dropFirst()) }
            return TextConditioning(hiddenStates: zeros(positive.hiddenStates), pooled: positive.pooled.map(zeros))
        }
        return try encode([negativePrompt]).repeated(count)
    }
}
