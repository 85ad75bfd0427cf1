import Diffusion
import Foundation
import SafeTensors
import TensorCore
import XCTest

/// Parity with transformers' `CLIPTextModel` on small random-weight models (tools/fixtures_clip.py).
final class TextEncoderTests: XCTestCase {
    /// CLIP's real vocabulary (bf16 token embedding, `text_model.`-prefixed keys as in SD
    /// checkpoints, quick-GELU), fed through the bundled tokenizer: prompt → hidden states.
    func testPromptsMatchTransformers() throws {
        let model = try CLIPTextModel(directory: Fixtures.url("clip/text_encoder"))
        XCTAssertEqual(model.configuration.hiddenAct, .quickGelu)
        let tokenizer = try CLIPTokenizer.bundled()
        let reference = try SafeTensorsReader(contentsOf: Fixtures.url("clip/text_encoder_outputs.safetensors"))
        let prompts = try JSONDecoder().decode([String].self, from: Data(reference.metadata["prompts"]!.utf8))
        XCTAssertEqual(prompts.count, 4)
        for (i, prompt) in prompts.enumerated() {
            let hidden = try model.lastHiddenState(tokenIDs: [tokenizer.encode(prompt)])
            XCTAssertEqual(hidden.shape, try reference.entry("hidden.\(i)").shape)
            assertClose(hidden.scalars, try reference.floats("hidden.\(i)"), relativeTo: 1e-4, "prompt \(prompt.debugDescription)")
        }
    }

    /// Several heads of 16 channels, exact GELU, f16 weights without the `text_model.` prefix and
    /// an I64 `position_ids` entry to skip; a batch of three id sequences at once.
    func testBatchedIDsMatchTransformers() throws {
        let model = try CLIPTextModel(directory: Fixtures.url("clip/text_encoder_wide"))
        XCTAssertEqual(model.configuration.hiddenAct, .gelu)
        let ids = try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: Fixtures.url("clip/text_encoder_wide_ids.json")))
        let reference = try SafeTensorsReader(contentsOf: Fixtures.url("clip/text_encoder_wide_outputs.safetensors"))
        let hidden = try model.lastHiddenState(tokenIDs: ids)
        XCTAssertEqual(hidden.shape, [3, 77, 48])
        assertClose(hidden.scalars, try reference.floats("hidden"), relativeTo: 1e-4)
    }

    func testRejectsBadInput() throws {
        let model = try CLIPTextModel(directory: Fixtures.url("clip/text_encoder_wide"))
        XCTAssertThrowsError(try model.lastHiddenState(tokenIDs: [])) { XCTAssertEqual($0 as? TextEncoderError, .emptyInput) }
        XCTAssertThrowsError(try model.lastHiddenState(tokenIDs: [[1, 2], [1]])) {
            XCTAssertEqual($0 as? TextEncoderError, .raggedBatch(lengths: [2, 1]))
        }
        XCTAssertThrowsError(try model.lastHiddenState(tokenIDs: [Array(repeating: 1, count: 78)])) {
            XCTAssertEqual($0 as? TextEncoderError, .tooLong(tokens: 78, maximum: 77))
        }
        XCTAssertThrowsError(try model.lastHiddenState(tokenIDs: [[1, 500]])) {
            XCTAssertEqual($0 as? TextEncoderError, .unknownToken(id: 500, vocabularySize: 500))
        }
    }

    func testConfigAndWeightErrorsNameTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("text-encoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = Fixtures.url("clip/text_encoder_wide")
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        func check(_ change: (inout [String: Any]) -> Void, mentions fragments: [String]) throws {
            var edited = config
            change(&edited)
            try JSONSerialization.data(withJSONObject: edited).write(to: directory.appendingPathComponent("config.json"))
            XCTAssertThrowsError(try CLIPTextModel(directory: directory)) { error in
                for fragment in fragments {
                    XCTAssertTrue("\(error)".contains(fragment), "'\(error)' should mention '\(fragment)'")
                }
            }
        }
        try check({ $0["hidden_act"] = "relu" }, mentions: ["config.json", "hidden_act", "relu"])
        try check({ $0["num_attention_heads"] = 5 }, mentions: ["config.json", "num_attention_heads", "divisible"])
        try check({ $0.removeValue(forKey: "hidden_size") }, mentions: ["config.json", "hidden_size"])
        try check({ $0["intermediate_size"] = 64 }, mentions: ["model.safetensors", "encoder.layers.0.mlp.fc1.weight", "[64, 48]"])
        try check({ $0["num_hidden_layers"] = 3 }, mentions: ["model.safetensors", "encoder.layers.2.layer_norm1.weight"])
        config["hidden_act"] = "gelu"
        try check({ _ in try? FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors")) },
                  mentions: [directory.path, "no .safetensors"])
    }

    /// Synthesised weights build the architecture a configuration describes, and the FLOP count
    /// is the analytic one (the benchmark's GFLOP/s relies on it).
    func testRandomWeightsAndFLOPCount() throws {
        XCTAssertEqual(CLIPTextConfiguration.vitL14, CLIPTextConfiguration(vocabSize: 49408, hiddenSize: 768, intermediateSize: 3072,
                                                                           numHiddenLayers: 12, numAttentionHeads: 12,
                                                                           maxPositionEmbeddings: 77, hiddenAct: .quickGelu, layerNormEps: 1e-5))
        let configuration = CLIPTextConfiguration(vocabSize: 1000, hiddenSize: 64, intermediateSize: 256, numHiddenLayers: 2, numAttentionHeads: 4)
        let model = try CLIPTextModel(configuration: configuration, weights: .random(seed: 1))
        let meter = FLOPMeter()
        let hidden = try meter.measure { try model.lastHiddenState(tokenIDs: [Array(0..<77), Array(100..<177)]) }
        XCTAssertEqual(hidden.shape, [2, 77, 64])
        XCTAssertTrue(hidden.scalars.allSatisfy(\.isFinite))
        // Per layer and token: q, k, v, out (4·d²) and fc1, fc2 (2·d·4d).
        XCTAssertEqual(meter.multiplyAdds(of: .gemm), 2 * 2 * 77 * (4 * 64 * 64 + 2 * 64 * 256))
        // Causal attention costs no more than full attention (2·t²·d per layer and sequence).
        XCTAssertLessThanOrEqual(meter.multiplyAdds(of: .attention), 2 * 2 * 77 * 77 * 2 * 64)
    }
}
