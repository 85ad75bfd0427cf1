import DeviceClient
import Diffusion
import TensorCore
import WireProtocol
import XCTest
@testable import CloudServer

/// The server's per-request memory estimate counts what the accelerations cache: every
/// attention layer's output for the attention cache (bf16 for a bf16 UNet), the encoder
/// features for block skip.
final class MemoryEstimateTests: XCTestCase {
    private func cacheBytes(_ c: UNetConfiguration, precision: Precision) -> Int {
        c.memoryBytes(rows: 12, height: 1024, width: 1024, attentionCache: true, blockSkip: false, precision: precision)
            - c.memoryBytes(rows: 12, height: 1024, width: 1024, attentionCache: false, blockSkip: false, precision: precision)
    }

    /// Attention layers (self + cross per transformer block) at 64×64 and 32×32 positions of a
    /// 1024² image, 12 rows (N = 6 under guidance).
    private func expected(stage1Layers: Int, stage2Layers: Int, bytes: Int) -> Int {
        12 * (stage1Layers * 4096 * 640 + stage2Layers * 1024 * 1280) * bytes
    }

    func testAttentionCacheCountsEveryAttentionLayer() {
        // SDXL: stage 1 has 2 down + 3 up transformers of depth 2 (20 layers); stage 2 has
        // 2 down + 3 up + 1 mid of depth 10 (120 layers).
        XCTAssertEqual(cacheBytes(.sdxl, precision: .fp32), expected(stage1Layers: 20, stage2Layers: 120, bytes: 4))
        XCTAssertEqual(cacheBytes(.sdxl, precision: .bf16), expected(stage1Layers: 20, stage2Layers: 120, bytes: 2))
        XCTAssertEqual(cacheBytes(.sdxl, precision: .f16), expected(stage1Layers: 20, stage2Layers: 120, bytes: 4))
        // KOALA-700M: one down and two up layers per stage, depths 2 and 5, no mid block.
        XCTAssertEqual(cacheBytes(.koala700M, precision: .fp32), expected(stage1Layers: 12, stage2Layers: 30, bytes: 4))
        // SSD-1B's per-layer depths: stage 1 down [2, 2] up [2, 1, 1]; stage 2 down [4, 4] up
        // [4, 4, 10]; its resnet-only mid block has no attention.
        XCTAssertEqual(cacheBytes(.ssd1B, precision: .fp32), expected(stage1Layers: 16, stage2Layers: 52, bytes: 4))
    }

    func testBlockSkipAddsTheEncoderFeaturesAtTheirStorageWidth() {
        let c = UNetConfiguration.sdxl
        func bytes(_ skip: Bool, _ p: Precision) -> Int {
            c.memoryBytes(rows: 2, height: 512, width: 512, attentionCache: false, blockSkip: skip, precision: p)
        }
        let fp32 = bytes(true, .fp32) - bytes(false, .fp32), bf16 = bytes(true, .bf16) - bytes(false, .bf16)
        XCTAssertGreaterThan(fp32, 0)
        XCTAssertEqual(bf16 * 2, fp32)
    }

    /// Guidance doubles a request's rows only where the UNet runs it: an LCM UNet takes the scale
    /// as an embedding and runs each candidate once, so its estimate is for N rows, not 2N (an
    /// LCM-SDXL request at 1024² with N = 6 was estimated at 21.0 GiB instead of 10.5).
    func testGuidanceDoublesTheRowsOnlyWhereTheUNetRunsIt() throws {
        let tiny = try TinySDXLModels()
        let request = GenerationRequest(candidates: ["a", "b", "c"], seed: 1, steps: 8, switchStep: 4, scheduler: "lcm",
                                        guidanceScale: 2, width: 64, height: 64, modelFamily: "sdxl")
        for (unet, rows) in [(tiny.lcmUNet, 3), (tiny.serverUNet, 6)] {
            let backend = ModelBackend(models: ServerModels(promptEncoder: tiny.promptEncoder, unet: unet, schedulerConfig: tiny.schedulerConfig))
            XCTAssertEqual(backend.estimatedMemoryBytes(for: request),
                           unet.configuration.memoryBytes(rows: rows, height: 64, width: 64, attentionCache: false, blockSkip: false,
                                                          precision: unet.precision))
        }
    }
}
