import Foundation

/// Files shipped inside the `Diffusion` module.
public enum BundledResources {
    /// CLIP's own BPE merges (`bpe_simple_vocab_16e6.txt`), so tokenizing needs no model directory.
    public static var clipBPEVocabulary: URL {
        Bundle.module.url(forResource: "bpe_simple_vocab_16e6", withExtension: "txt", subdirectory: "Resources")!
    }
}
