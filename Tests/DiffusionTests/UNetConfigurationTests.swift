import Foundation
import XCTest
@testable import Diffusion

final class UNetConfigurationTests: XCTestCase {
    private func decode(_ json: String) throws -> UNetConfiguration {
        try JSONDecoder().decode(UNetConfiguration.self, from: Data(json.utf8))
    }

    func testMissingFieldsTakeDiffusersDefaults() throws {
        XCTAssertEqual(try decode("{}"), .sd15)
        XCTAssertEqual(UNetConfiguration.sd15.attentionHeadDim, [8, 8, 8, 8])
        XCTAssertEqual(UNetConfiguration.sd15.midBlockType, "UNetMidBlock2DCrossAttn")
    }

    func testExplicitNullMidBlockMeansNone() throws {
        XCTAssertNil(try decode(#"{"mid_block_type": null, "layers_per_block": 1}"#).midBlockType)
        XCTAssertEqual(try decode(#"{"mid_block_type": null, "layers_per_block": 1}"#), .bkSDMSmall)
    }

    func testPerBlockFieldsAcceptIntegerOrList() throws {
        let c = try decode(#"{"layers_per_block": [1, 2, 2, 1], "attention_head_dim": [5, 10, 20, 20], "transformer_layers_per_block": 2}"#)
        XCTAssertEqual(c.layersPerBlock, [1, 2, 2, 1])
        XCTAssertEqual(c.attentionHeadDim, [5, 10, 20, 20])
        XCTAssertEqual(c.transformerLayersPerBlock, [2, 2, 2, 2])
        XCTAssertThrowsError(try decode(#"{"layers_per_block": [1, 2]}"#))
    }

    func testUnsupportedFeaturesAreRejectedByName() throws {
        for (json, field) in [(#"{"addition_embed_type": "image"}"#, "addition_embed_type"),
                              (#"{"addition_embed_type": "text_time"}"#, "addition_time_embed_dim"),
                              (#"{"time_cond_proj_dim": 3}"#, "time_cond_proj_dim"),
                              (#"{"class_embed_type": "timestep"}"#, "class_embed_type"),
                              (#"{"only_cross_attention": [true, false, false, false]}"#, "only_cross_attention"),
                              (#"{"mid_block_type": "UNetMidBlock2DSimpleCrossAttn"}"#, "mid_block_type"),
                              (#"{"attention_head_dim": 7}"#, "attention_head_dim")] {
            XCTAssertThrowsError(try decode(json).validate(), json) { XCTAssertTrue("\($0)".contains(field), "\($0)") }
        }
    }

    /// Regression (found by `scripts/fuzz.sh ModelConfig`): `norm_num_groups: 0` trapped with a
    /// division by zero in validation instead of being refused by name.
    func testZeroNormGroupsAreRejectedNotDividedBy() throws {
        XCTAssertThrowsError(try decode(#"{"norm_num_groups": 0}"#).validate()) { XCTAssertTrue("\($0)".contains("norm_num_groups"), "\($0)") }
        let vae = try JSONDecoder().decode(AutoencoderKLConfiguration.self, from: Data(#"""
            {"block_out_channels": [8, 16], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "layers_per_block": 1, "norm_num_groups": 0}
            """#.utf8))
        XCTAssertThrowsError(try vae.validate()) { XCTAssertTrue("\($0)".contains("norm_num_groups"), "\($0)") }
    }

    func testPresetsDescribeTheDistilledArchitectures() throws {
        for name in UNetConfiguration.presetNames {
            let preset = try XCTUnwrap(UNetConfiguration.preset(named: name), name)
            XCTAssertNoThrow(try preset.validate(), name)
        }
        XCTAssertEqual(UNetConfiguration.bkSDMBase.layersPerBlock, [1, 1, 1, 1])
        XCTAssertNotNil(UNetConfiguration.bkSDMBase.midBlockType)
        XCTAssertNil(UNetConfiguration.bkSDMSmall.midBlockType)
        XCTAssertEqual(UNetConfiguration.bkSDMTiny.blockOutChannels, [320, 640, 1280])
        XCTAssertEqual(UNetConfiguration.bkSDMTiny.upBlockTypes, Array(repeating: "CrossAttnUpBlock2D", count: 3))
        XCTAssertNil(UNetConfiguration.preset(named: "sd3"))
    }

    /// stabilityai/stable-diffusion-xl-base-1.0's published `unet/config.json` decodes to the
    /// `sdxl` preset, and LCM-SDXL's differs only by `time_cond_proj_dim`.
    func testPublishedSDXLConfigMatchesThePreset() throws {
        let json = #"""
        {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.19.0.dev0", "act_fn": "silu",
         "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64, "addition_time_embed_dim": 256,
         "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280], "center_input_sample": false,
         "class_embed_type": null, "class_embeddings_concat": false, "conv_in_kernel": 3, "conv_out_kernel": 3,
         "cross_attention_dim": 2048, "cross_attention_norm": null,
         "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "downsample_padding": 1,
         "dual_cross_attention": false, "encoder_hid_dim": null, "encoder_hid_dim_type": null, "flip_sin_to_cos": true,
         "freq_shift": 0, "in_channels": 4, "layers_per_block": 2, "mid_block_only_cross_attention": null,
         "mid_block_scale_factor": 1, "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05, "norm_num_groups": 32,
         "num_attention_heads": null, "num_class_embeds": null, "only_cross_attention": false, "out_channels": 4,
         "projection_class_embeddings_input_dim": 2816, "resnet_out_scale_factor": 1.0, "resnet_skip_time_act": false,
         "resnet_time_scale_shift": "default", "sample_size": 128, "time_cond_proj_dim": null, "time_embedding_act_fn": null,
         "time_embedding_dim": null, "time_embedding_type": "positional", "timestep_post_act": null,
         "transformer_layers_per_block": [1, 2, 10], "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
         "upcast_attention": null, "use_linear_projection": true}
        """#
        let published = try decode(json)
        XCTAssertNoThrow(try published.validate())
        XCTAssertEqual(published, .sdxl)
        XCTAssertEqual(published.pooledTextDimension, 1280)
        var lcm = published
        lcm.timeCondProjDim = 256
        XCTAssertEqual(lcm, .lcmSDXL)
    }

    /// SSD-1B's per-layer depths as diffusers takes them (nested lists, with the up blocks' own
    /// `reverse_transformer_layers_per_block`) decode to the preset; the per-layer depths reach
    /// every block, and the resnet-only mid block is accepted.
    func testNestedPerLayerDepthsDecodeToTheSSD1BPreset() throws {
        let json = #"""
        {"addition_embed_type": "text_time", "addition_time_embed_dim": 256, "attention_head_dim": [5, 10, 20],
         "block_out_channels": [320, 640, 1280], "cross_attention_dim": 2048,
         "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
         "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
         "mid_block_type": "UNetMidBlock2D", "projection_class_embeddings_input_dim": 2816, "sample_size": 128,
         "transformer_layers_per_block": [[1, 1], [2, 2], [4, 4]],
         "reverse_transformer_layers_per_block": [[4, 4, 10], [2, 1, 1], [1, 1, 1]], "use_linear_projection": true}
        """#
        let c = try decode(json)
        XCTAssertNoThrow(try c.validate())
        XCTAssertEqual(c, .ssd1B)
        XCTAssertEqual(try c.downTransformerLayers(2), [4, 4])
        XCTAssertEqual(try c.upTransformerLayers(0), [4, 4, 10])
        XCTAssertEqual(try c.upTransformerLayers(1), [2, 1, 1])
        XCTAssertEqual(ModelFamily(c), .sdxl)
        // A flat list still means one depth per block; Vega's is one.
        XCTAssertEqual(try UNetConfiguration.vega.upTransformerLayers(0), [2, 2, 2])
        XCTAssertNoThrow(try UNetConfiguration.vega.validate())
    }

    func testNestedDepthsAreCheckedAgainstTheLayers() throws {
        // diffusers refuses nested down depths without reverse ones ("asymmetrical UNet").
        var c = UNetConfiguration.ssd1B
        c.reverseTransformerLayersPerBlock = nil
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("reverse_transformer_layers_per_block"), "\($0)") }
        // A per-layer list must have one depth per layer of its block.
        c = .ssd1B
        c.reverseTransformerLayersPerBlock![0] = .perLayer([4, 10])
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("reverse_transformer_layers_per_block[0]"), "\($0)") }
        c = .ssd1B
        c.transformerLayersPerBlock[1] = .perLayer([2, -1])
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("≥ 0"), "\($0)") }
        XCTAssertThrowsError(try decode(#"{"mid_block_type": "UNetMidBlock2DSimpleCrossAttn"}"#).validate())
    }

    func testMalformedConfigFileErrorNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-unet-\(UUID()).json")
        try Data(#"{"block_out_channels": "wide"}"#.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try UNetConfiguration.load(from: url)) {
            XCTAssertTrue("\($0)".contains(url.lastPathComponent), "\($0)")
        }
    }
}
