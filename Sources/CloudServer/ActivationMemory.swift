import Diffusion
import TensorCore

extension UNetConfiguration {
    /// An upper estimate of the bytes one request's trajectory over `rows` latents of
    /// `height`×`width` pixels holds at its peak beyond the weights, so a request that cannot fit
    /// is refused with a named limit instead of meeting the kernel's OOM killer.
    ///
    /// - Every call (f32): every skip connection the down path keeps for the up path (the
    ///   conv_in output, each resnet's output, each downsampler's output), plus eight working
    ///   tensors per level of that level's widest resnet input — an up block's concatenated
    ///   `[hidden, skip]` — for resnet temporaries, attention Q/K/V/output and the feed-forward
    ///   block. Tiled attention never materialises a tokens×tokens matrix, so no quadratic term.
    ///   The working sets add up over levels rather than the widest bounding them: the buffer
    ///   pool (`TensorCore.BufferPool`) keeps a freed intermediate for the next one of about its
    ///   size, so one level's large buffers sit resident while the next allocates its own, and a
    ///   buffer handed out may be up to twice the size asked for, hence ×2. Measured against the
    ///   peak RSS a request adds (`obclip bench load --scenarios estimate`, docs/RELIABILITY.md):
    ///   counting only the widest level's working set under-estimated it by about half.
    /// - Block skip: the cached encoder features (the skip list and the innermost hidden state).
    /// - Attention cache: every attention layer's output, self and cross per transformer block,
    ///   `[rows, positions, channels]` each — for SDXL the largest term by far.
    /// Both caches are stored as bf16 for a bf16 UNet (`StoredTensor`), f32 otherwise, outside
    /// the pool.
    func memoryBytes(rows: Int, height: Int, width: Int, attentionCache: Bool, blockSkip: Bool, precision: Precision) -> Int {
        let n = blockOutChannels.count
        var positions = (height / 8) * (width / 8)
        var skips = blockOutChannels[0] * positions, working = 0, attentionOutputs = 0, innermost = 0
        for (level, channels) in blockOutChannels.enumerated() {
            skips += layersPerBlock[level] * channels * positions
            let below = blockOutChannels[min(level + 1, n - 1)]
            working += 8 * (below + channels) * positions
            // A validated configuration's depths (the server loaded it), so `try?` drops nothing.
            let down = downBlockTypes[level] == "CrossAttnDownBlock2D" ? (try? downTransformerLayers(level)) ?? [] : []
            let up = upBlockTypes[n - 1 - level] == "CrossAttnUpBlock2D" ? (try? upTransformerLayers(n - 1 - level)) ?? [] : []
            let mid = level == n - 1 && midBlockType == "UNetMidBlock2DCrossAttn" ? [midTransformerLayers] : []
            let depths = down + up + mid
            attentionOutputs += 2 * depths.reduce(0, +) * channels * positions
            innermost = channels * positions
            if level < n - 1 {
                positions = max(1, positions / 4)
                skips += channels * positions
            }
        }
        let stored = precision == .bf16 ? 2 : MemoryLayout<Float>.size
        let perRow = 2 * (skips + working) * MemoryLayout<Float>.size
            + (blockSkip ? (skips + innermost) * stored : 0)
            + (attentionCache ? attentionOutputs * stored : 0)
        return rows * perRow
    }
}
