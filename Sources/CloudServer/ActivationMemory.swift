import Diffusion

extension UNetConfiguration {
    /// An upper estimate of the activation bytes one UNet call over `rows` latents of
    /// `height`×`width` pixels keeps alive at its peak, so a request that cannot fit is refused
    /// with a named limit instead of meeting the kernel's OOM killer.
    ///
    /// Counted in f32: every skip connection the down path keeps for the up path (the conv_in
    /// output, each resnet's output, each downsampler's output) — twice when the request's
    /// accelerations cache encoder features — plus eight working tensors of each level's
    /// concatenated input (resnet temporaries, attention Q/K/V/output, the feed-forward block).
    /// Tiled attention never materialises a tokens×tokens matrix, so no quadratic term.
    ///
    /// Then the buffer pool (`TensorCore.BufferPool`): a freed intermediate stays pooled for the
    /// next one of about its size, so the large buffers of one level sit resident while the next
    /// level allocates its own — the working sets add up over levels rather than the widest one
    /// bounding them — and a buffer handed out may be up to twice the size asked for, hence ×2.
    /// Measured against the peak RSS a request adds (`obclip bench load --scenarios estimate`,
    /// docs/RELIABILITY.md): counting only the widest level's working set under-estimated it
    /// by about half.
    func activationBytes(rows: Int, height: Int, width: Int, cachesFeatures: Bool) -> Int {
        var positions = (height / 8) * (width / 8)
        var skips = blockOutChannels[0] * positions
        var working = 0
        for (level, channels) in blockOutChannels.enumerated() {
            skips += layersPerBlock[level] * channels * positions
            let previous = level == 0 ? blockOutChannels[0] : blockOutChannels[level - 1]
            working += 8 * (channels + previous) * positions
            if level < blockOutChannels.count - 1 {
                positions = max(1, positions / 4)
                skips += channels * positions
            }
        }
        let floats = (cachesFeatures ? 2 : 1) * skips + working
        return 2 * rows * floats * MemoryLayout<Float>.size
    }
}
