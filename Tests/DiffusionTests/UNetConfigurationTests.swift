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
        for (json, field) in [(#"{"time_cond_proj_dim": 256}"#, "time_cond_proj_dim"),
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
        XCTAssertNil(UNetConfiguration.preset(named: "sdxl"))
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
