import SharedSettings
import XCTest
@testable import Diffusion
import TensorCore

/// Server accelerations on a small SD1.5-shaped UNet with random weights.
final class AccelerationTests: XCTestCase {
    static let unet = Result {
        try UNet2DConditionModel(
            configuration: UNetConfiguration(blockOutChannels: [32, 64], downBlockTypes: ["CrossAttnDownBlock2D", "DownBlock2D"],
                                             upBlockTypes: ["UpBlock2D", "CrossAttnUpBlock2D"], layersPerBlock: 2,
                                             attentionHeadDim: 8, crossAttentionDim: 32, normNumGroups: 8),
            weights: .random(seed: 11))
    }
    /// 2 down + 1 mid + 3 up transformer blocks, one self- and one cross-attention layer each.
    static let transformerBlocks = 6

    func latents(_ batch: Int, _ seed: UInt64) -> Tensor {
        var generator = TorchGenerator(seed: seed)
        return generator.randn([batch, 4, 8, 8])
    }

    func context(_ batch: Int, _ seed: UInt64) -> Tensor {
        var generator = TorchGenerator(seed: seed)
        return generator.randn([batch, 7, 32])
    }

    func multiplyAdds(_ kind: FLOPMeter.Kind, countOnly: Bool = false, _ body: () throws -> Void) rethrows -> Int {
        let meter = FLOPMeter(countOnly: countOnly)
        try meter.measure(body)
        return meter.multiplyAdds(of: kind)
    }

    func testScheduleFollowsTheMethodsConfiguration() {
        let schedule = AccelerationOptions(reuse: true, cache: true, skip: true, cachePoint: 4, skipPoint: 6)
        let calls = (0..<12).map(schedule.call)
        XCTAssertEqual(calls.map(\.batchReuse), [true, true, true, true] + Array(repeating: false, count: 8))
        XCTAssertEqual(calls.map(\.attention), [.bypass, .bypass, .bypass, .fill, .reuse, .reuse, .reuse, .reuse, .fill, .reuse, .reuse, .reuse])
        XCTAssertEqual(calls.map(\.encoder), [.bypass, .bypass, .bypass, .bypass, .bypass, .fill, .reuse, .reuse, .reuse, .reuse, .fill, .reuse])
        XCTAssertTrue(AccelerationOptions.off.call(0).isPlain)
        XCTAssertFalse(calls[9].isPlain)
    }

    func testFillingCallsEqualThePlainForwardBitForBit() throws {
        let unet = try Self.unet.get()
        let (x, c) = (latents(3, 1), context(3, 2))
        let plain = try unet(x, timesteps: [500], encoderHiddenStates: c)
        let schedule = AccelerationOptions(reuse: false, cache: true, skip: true, cachePoint: 1, skipPoint: 1)
        XCTAssertEqual(schedule.call(0), .init(batchReuse: false, attention: .fill, encoder: .fill))
        let filled = try AcceleratedUNet(unet: unet, schedule: schedule)(x, timestep: 500, conditioning: TextConditioning(hiddenStates: c), call: 0)
        XCTAssertEqual(filled.scalars, plain.scalars)
        let off = try AcceleratedUNet(unet: unet, schedule: .off)(x, timestep: 500, conditioning: TextConditioning(hiddenStates: c), call: 0)
        XCTAssertEqual(off.scalars, plain.scalars)
    }

    func testBatchReuseKeepsThePivotAndSharesItsMaps() throws {
        let unet = try Self.unet.get()
        let (x, c) = (latents(3, 3), context(3, 4))
        let plain = try unet(x, timesteps: [700], encoderHiddenStates: c)
        let schedule = AccelerationOptions(reuse: true, cache: false, skip: false, cachePoint: 1, skipPoint: 0)
        let group = BatchReuseGroup(rows: 0..<3, crossAttentionAligned: [true, true, false])
        let accelerated = AcceleratedUNet(unet: unet, schedule: schedule, reuseGroups: [group])
        let reused = try accelerated(x, timestep: 700, conditioning: TextConditioning(hiddenStates: c), call: 0)
        XCTAssertLessThanOrEqual(maxDifference(reused.slice(0, 1), plain.slice(0, 1)), 1e-6, "the pivot's own output must not change")
        XCTAssertGreaterThan(maxDifference(reused.slice(1, 1), plain.slice(1, 1)), 1e-3)
        XCTAssertGreaterThan(maxDifference(reused.slice(2, 1), plain.slice(2, 1)), 1e-3)
        // Self-attention: rows 1 and 2 share; cross-attention: only row 1 (row 2 is misaligned).
        XCTAssertEqual(accelerated.sharedAttentionMaps, [Self.transformerBlocks * 3])

        // Identical candidates have identical maps, so sharing the pivot's changes nothing.
        let same = concatBatch([x.slice(0, 1), x.slice(0, 1)]), sameContext = concatBatch([c.slice(0, 1), c.slice(0, 1)])
        let shared = try AcceleratedUNet(unet: unet, schedule: schedule, reuseGroups: [BatchReuseGroup(rows: 0..<2, crossAttentionAligned: [true, true])])(
            same, timestep: 700, conditioning: TextConditioning(hiddenStates: sameContext), call: 0)
        XCTAssertLessThanOrEqual(maxDifference(shared, try unet(same, timesteps: [700], encoderHiddenStates: sameContext)), 1e-5)
    }

    func testBatchReuseNeedsGroupsCoveringTheBatch() throws {
        let unet = try Self.unet.get()
        let schedule = AccelerationOptions(reuse: true, cache: false, skip: false, cachePoint: 1, skipPoint: 0)
        let accelerated = AcceleratedUNet(unet: unet, schedule: schedule, reuseGroups: [BatchReuseGroup(rows: 0..<2, crossAttentionAligned: [true, true])])
        XCTAssertThrowsError(try accelerated(latents(3, 1), timestep: 1, conditioning: TextConditioning(hiddenStates: context(3, 1)), call: 0))
    }

    func testCandidateSetGroupsFollowTheGuidedBatchLayout() {
        let groups = BatchReuseGroup.candidateSets(tokenCounts: [[5, 5, 6], [4, 4]], guided: true)
        XCTAssertEqual(groups, [BatchReuseGroup(rows: 0..<3, crossAttentionAligned: [true, true, true]),
                                BatchReuseGroup(rows: 5..<8, crossAttentionAligned: [true, true, false]),
                                BatchReuseGroup(rows: 3..<5, crossAttentionAligned: [true, true]),
                                BatchReuseGroup(rows: 8..<10, crossAttentionAligned: [true, true])])
        XCTAssertEqual(BatchReuseGroup.candidateSets(tokenCounts: [[3, 4]], guided: false),
                       [BatchReuseGroup(rows: 0..<2, crossAttentionAligned: [true, false])])
    }

    func testAttentionCacheRefreshesEveryInterval() throws {
        let unet = try Self.unet.get()
        let c = context(2, 5)
        let schedule = AccelerationOptions(reuse: false, cache: true, skip: false, cachePoint: 1, skipPoint: 0, refreshInterval: 2)
        let accelerated = AcceleratedUNet(unet: unet, schedule: schedule)
        let attention = try (0..<5).map { call in
            try multiplyAdds(.attention) { _ = try accelerated(latents(2, UInt64(10 + call)), timestep: Double(900 - 100 * call), conditioning: TextConditioning(hiddenStates: c), call: call) }
        }
        XCTAssertGreaterThan(attention[0], 0)
        XCTAssertEqual(attention, [attention[0], 0, attention[0], 0, attention[0]])
    }

    func testBlockSkipRunsTheUpPathOnTheCachedEncoderFeatures() throws {
        let unet = try Self.unet.get()
        let (a, c) = (latents(2, 6), context(2, 7))
        let schedule = AccelerationOptions(reuse: false, cache: false, skip: true, cachePoint: 0, skipPoint: 1)
        let accelerated = AcceleratedUNet(unet: unet, schedule: schedule)
        let full = try multiplyAdds(.convolution) { _ = try accelerated(a, timestep: 800, conditioning: TextConditioning(hiddenStates: c), call: 0) }
        var skipped = Tensor(zeros: [1])
        let partial = try multiplyAdds(.convolution) { skipped = try accelerated(latents(2, 8), timestep: 600, conditioning: TextConditioning(hiddenStates: c), call: 1) }
        XCTAssertLessThan(partial, full)
        let features = unet.downPath(nchwToNHWC(a), timeEmbedding: unet.timeEmbedding([800], conditioning: TextConditioning(hiddenStates: c)), context: c)
        let expected = nhwcToNCHW(unet.upPath(features, timeEmbedding: unet.timeEmbedding([600], conditioning: TextConditioning(hiddenStates: c)), context: c))
        XCTAssertEqual(skipped.scalars, expected.scalars)
    }

    /// A bf16 UNet keeps its cached encoder features as bf16: a skipping call is exactly the up
    /// path on the features rounded to bf16.
    func testBF16BlockSkipUsesTheFeaturesRoundedToBF16() throws {
        let unet = try UNet2DConditionModel(configuration: try Self.unet.get().configuration, weights: .random(seed: 11, precision: .bf16))
        let (a, c) = (latents(2, 6), context(2, 7))
        let accelerated = AcceleratedUNet(unet: unet, schedule: AccelerationOptions(reuse: false, cache: false, skip: true,
                                                                                    cachePoint: 0, skipPoint: 1))
        _ = try accelerated(a, timestep: 800, conditioning: TextConditioning(hiddenStates: c), call: 0)
        let skipped = try accelerated(latents(2, 8), timestep: 600, conditioning: TextConditioning(hiddenStates: c), call: 1)
        let features = unet.downPath(nchwToNHWC(a), timeEmbedding: unet.timeEmbedding([800], conditioning: TextConditioning(hiddenStates: c)), context: c)
        let rounded = UNetDownFeatures(skips: features.skips.map(Precision.bf16.rounded), hidden: Precision.bf16.rounded(features.hidden))
        let upPath = { (f: UNetDownFeatures) in
            nhwcToNCHW(unet.upPath(f, timeEmbedding: unet.timeEmbedding([600], conditioning: TextConditioning(hiddenStates: c)), context: c))
        }
        XCTAssertEqual(skipped.scalars, upPath(rounded).scalars)
        XCTAssertNotEqual(skipped.scalars, upPath(features).scalars, "rounding must be visible in the output")
    }

    func testCountingModeCountsWhatExecutionExecutes() throws {
        let unet = try Self.unet.get()
        let c = context(4, 9)
        let groups = BatchReuseGroup.candidateSets(tokenCounts: [[3, 3]], guided: true)
        func run(countOnly: Bool) throws -> [Int] {
            let accelerated = AcceleratedUNet(unet: unet, schedule: .init(reuse: true, cache: true, skip: true,
                                                                          cachePoint: 2, skipPoint: 3, refreshInterval: 2),
                                              reuseGroups: groups)
            return try FLOPMeter.Kind.allCases.map { kind in
                try multiplyAdds(kind, countOnly: countOnly) {
                    for call in 0..<6 { _ = try accelerated(latents(4, UInt64(call)), timestep: Double(999 - 150 * call), conditioning: TextConditioning(hiddenStates: c), call: call) }
                }
            }
        }
        let executed = try run(countOnly: false)
        XCTAssertGreaterThan(executed.reduce(0, +), 0)
        XCTAssertEqual(try run(countOnly: true), executed)
    }

    func testValuesSideBySideRoundTrip() {
        let values = Tensor(shape: [3, 2, 4], scalars: (0..<24).map(Float.init))
        let wide = AttentionAccelerator.sideBySide(values, rows: [2, 0], heads: 2)
        XCTAssertEqual(wide.shape, [1, 2, 8])
        XCTAssertEqual(Array(wide.scalars[0..<8]), [16, 17, 0, 1, 18, 19, 2, 3])
        let back = Tensor(zeros: [3, 2, 4])
        AttentionAccelerator.scatter(wide, into: back, rows: [2, 0], heads: 2)
        XCTAssertEqual(back.slice(0, 1).scalars, values.slice(0, 1).scalars)
        XCTAssertEqual(back.slice(2, 1).scalars, values.slice(2, 1).scalars)
        XCTAssertEqual(back.slice(1, 1).scalars, Array(repeating: 0, count: 8))
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }
}
