/// The two model families obclip runs, which fix the text conditioning a UNet needs and so which
/// server and device UNets can share one trajectory (same text encoders, latent space and
/// schedule family).
public enum ModelFamily: String, CaseIterable, Sendable, Codable {
    /// SD 1.x (SD1.5, Realistic Vision; BK-SDM, segmind small-sd on the device): CLIP ViT-L.
    case sd1
    /// SDXL (SDXL-1.0, LCM-SDXL; KOALA on the device): CLIP ViT-L + OpenCLIP ViT-bigG, pooled
    /// embeds and micro-conditioning.
    case sdxl

    /// The family of a UNet: SDXL's when it has the `text_time` added embedding.
    public init(_ configuration: UNetConfiguration) {
        self = configuration.additionEmbedType == "text_time" ? .sdxl : .sd1
    }
}
