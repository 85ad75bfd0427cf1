#!/usr/bin/env python3
"""PyTorch/diffusers peer for obclip's model benchmarks (random weights, fp32 or bf16, CPU).

Prints one line per measurement so `scripts/bench-vs-torch.sh` can interleave it with obclip's
own benchmark of the same architecture. Needs: pip install torch diffusers transformers.

  python3 tools/bench_torch_models.py unet --arch sd15 --batch 1 --size 512 --repeat 3
  python3 tools/bench_torch_models.py vae --size 512
  python3 tools/bench_torch_models.py text-encoder --batch 2
"""
import argparse, resource, statistics, time

import torch

SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[320, 640, 1280, 1280],
    down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    cross_attention_dim=768, attention_head_dim=8,
)
ARCHS = {
    "sd15": SD15_UNET,
    "bk-sdm-base": dict(SD15_UNET, layers_per_block=1),
    "bk-sdm-small": dict(SD15_UNET, layers_per_block=1, mid_block_type=None),
    "bk-sdm-tiny": dict(SD15_UNET, layers_per_block=1, mid_block_type=None,
                        block_out_channels=[320, 640, 1280],
                        down_block_types=["CrossAttnDownBlock2D"] * 3,
                        up_block_types=["CrossAttnUpBlock2D"] * 3),
}
# SDXL family (obclip's UNetPresets; sources in docs/DECISIONS.md).
SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=[320, 640, 1280],
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], transformer_layers_per_block=[1, 2, 10],
    attention_head_dim=[5, 10, 20], use_linear_projection=True, cross_attention_dim=2048,
    addition_embed_type="text_time", addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
)
ARCHS.update({
    "sdxl": SDXL_UNET,
    "koala-1b": dict(SDXL_UNET, layers_per_block=1, transformer_layers_per_block=[1, 2, 6]),
    "koala-700m": dict(SDXL_UNET, layers_per_block=1, transformer_layers_per_block=[1, 2, 5], mid_block_type=None),
    "ssd-1b": dict(SDXL_UNET, mid_block_type="UNetMidBlock2D", transformer_layers_per_block=[[1, 1], [2, 2], [4, 4]],
                   reverse_transformer_layers_per_block=[[4, 4, 10], [2, 1, 1], [1, 1, 1]]),
    "vega": dict(SDXL_UNET, mid_block_type="UNetMidBlock2D", transformer_layers_per_block=[1, 1, 2]),
})


def timed(fn, repeat, warmup):
    """Wall seconds of each timed call, and the process CPU seconds per timed call (all threads:
    on a shared machine wall time includes waiting for a core, CPU time does not)."""
    for _ in range(warmup):
        fn()
    times = []
    cpu = time.process_time()
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times, (time.process_time() - cpu) / repeat


def report(name, measured):
    """One line in the format of obclip's model benchmarks, which scripts/bench-vs-torch.sh parses."""
    times, cpu = measured
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024)  # KiB on Linux → GiB
    print(f"torch {name}: median {statistics.median(times):.3f} s per forward (min {min(times):.3f}, "
          f"max {max(times):.3f}, {len(times)} timed), CPU {cpu:.3f} s per forward, peak RSS {peak:.3f} GiB, "
          f"threads {torch.get_num_threads()}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["unet", "vae", "text-encoder"])
    p.add_argument("--arch", default="sd15", choices=sorted(ARCHS))
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeat", type=int, default=3, help="timed forwards")
    p.add_argument("--warmup", type=int, default=1, help="untimed forwards first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="model weights and inputs in bfloat16 (PyTorch's fast CPU bf16 path)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if a.bf16 else torch.float32
    with torch.no_grad():
        if a.what == "unet":
            from diffusers import UNet2DConditionModel
            m = UNet2DConditionModel(**ARCHS[a.arch]).eval().to(dtype)
            lat = a.size // 8
            x = torch.randn(a.batch, 4, lat, lat, dtype=dtype)
            c = torch.randn(a.batch, 77, m.config.cross_attention_dim, dtype=dtype)
            t = torch.tensor([500.0] * a.batch)
            added = None
            if m.config.addition_embed_type == "text_time":
                added = {"text_embeds": torch.randn(a.batch, 1280, dtype=dtype),
                         "time_ids": torch.tensor([[a.size, a.size, 0, 0, a.size, a.size]] * a.batch, dtype=dtype)}
            report(f"unet {a.arch} batch {a.batch} size {a.size} {dtype}",
                   timed(lambda: m(x, t, c, added_cond_kwargs=added).sample, a.repeat, a.warmup))
        elif a.what == "vae":
            from diffusers import AutoencoderKL
            m = AutoencoderKL(block_out_channels=[128, 256, 512, 512], layers_per_block=2, latent_channels=4,
                              down_block_types=["DownEncoderBlock2D"] * 4,
                              up_block_types=["UpDecoderBlock2D"] * 4).eval().to(dtype)
            z = torch.randn(a.batch, 4, a.size // 8, a.size // 8, dtype=dtype)
            report(f"vae decode batch {a.batch} size {a.size} {dtype}", timed(lambda: m.decode(z).sample, a.repeat, a.warmup))
        else:
            from transformers import CLIPTextConfig, CLIPTextModel
            m = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                             num_hidden_layers=12, max_position_embeddings=77,
                                             hidden_act="quick_gelu")).eval().to(dtype)
            ids = torch.randint(0, 49408, (a.batch, 77))
            report(f"text-encoder batch {a.batch} {dtype}", timed(lambda: m(ids).last_hidden_state, a.repeat, a.warmup))


if __name__ == "__main__":
    main()
