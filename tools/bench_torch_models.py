#!/usr/bin/env python3
"""PyTorch/diffusers peer for obclip's model benchmarks (random weights, fp32 or bf16, CPU).

Prints one line per measurement so `scripts/bench-peers.sh` can interleave it with obclip's
own benchmark of the same architecture. Needs: pip install torch diffusers transformers.
The model construction (`build_case`) is shared with the OpenVINO peer, tools/bench_openvino_models.py.

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
    """Wall seconds of each timed call, and the process CPU seconds (all threads) per timed call,
    which a shared machine's load distorts far less than wall time."""
    for _ in range(warmup):
        fn()
    times = []
    cpu = time.process_time()
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times, (time.process_time() - cpu) / repeat


def report(name, measured, peer="torch", threads=None):
    """One line in the format of obclip's model benchmarks, which scripts/bench-peers.sh parses."""
    times, cpu = measured
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024)  # KiB on Linux → GiB
    print(f"{peer} {name}: median {statistics.median(times):.3f} s per forward (min {min(times):.3f}, "
          f"max {max(times):.3f}, {len(times)} timed), CPU {cpu:.3f} s per forward, peak RSS {peak:.3f} GiB, "
          f"threads {threads or torch.get_num_threads()}", flush=True)


class Forward(torch.nn.Module):
    """One benchmarked forward as a module of tensors in, one tensor out, so PyTorch times it and
    OpenVINO (tools/bench_openvino_models.py) converts it from the same construction."""

    def __init__(self, model, run):
        super().__init__()
        self.model, self.run = model, run

    def forward(self, *inputs):
        return self.run(self.model, *inputs)


def built_in(dtype, make):
    """`make()`'s module with its parameters created in `dtype`: a bf16 SDXL UNet is built as
    5 GB of bf16 instead of 10 GB of fp32 cast afterwards (which did not fit beside other jobs)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        return make().eval()
    finally:
        torch.set_default_dtype(default)


def build_case(what, arch="sd15", batch=1, size=512, dtype=torch.float32):
    """The random-weight model (seeded) and inputs of one benchmark row: (name, Forward, inputs)."""
    torch.manual_seed(0)
    if what == "unet":
        from diffusers import UNet2DConditionModel
        m = built_in(dtype, lambda: UNet2DConditionModel(**ARCHS[arch]))
        lat = size // 8
        inputs = [torch.randn(batch, 4, lat, lat, dtype=dtype), torch.tensor([500.0] * batch),
                  torch.randn(batch, 77, m.config.cross_attention_dim, dtype=dtype)]
        if m.config.addition_embed_type == "text_time":
            inputs += [torch.randn(batch, 1280, dtype=dtype),
                       torch.tensor([[size, size, 0, 0, size, size]] * batch, dtype=dtype)]
            run = lambda m, x, t, c, text, ids: m(x, t, c, added_cond_kwargs={"text_embeds": text, "time_ids": ids}).sample
        else:
            run = lambda m, x, t, c: m(x, t, c).sample
        return f"unet {arch} batch {batch} size {size}", Forward(m, run), inputs
    if what == "vae":
        from diffusers import AutoencoderKL
        m = built_in(dtype, lambda: AutoencoderKL(block_out_channels=[128, 256, 512, 512], layers_per_block=2, latent_channels=4,
                                                  down_block_types=["DownEncoderBlock2D"] * 4,
                                                  up_block_types=["UpDecoderBlock2D"] * 4))
        z = torch.randn(batch, 4, size // 8, size // 8, dtype=dtype)
        return f"vae decode batch {batch} size {size}", Forward(m, lambda m, z: m.decode(z).sample), [z]
    from transformers import CLIPTextConfig, CLIPTextModel
    m = built_in(dtype, lambda: CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                                             num_hidden_layers=12, max_position_embeddings=77,
                                                             hidden_act="quick_gelu")))
    ids = torch.randint(0, 49408, (batch, 77))
    return f"text-encoder batch {batch}", Forward(m, lambda m, ids: m(ids).last_hidden_state), [ids]


def arguments(description):
    """The command line both peers share, so the bench script calls them alike."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("what", choices=["unet", "vae", "text-encoder"])
    p.add_argument("--arch", default="sd15", choices=sorted(ARCHS))
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeat", type=int, default=3, help="timed forwards")
    p.add_argument("--warmup", type=int, default=1, help="untimed forwards first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="bfloat16 inference")
    return p


def main():
    a = arguments("PyTorch peer; --bf16 puts model weights and inputs in bfloat16 (PyTorch's fast CPU bf16 path)").parse_args()
    torch.set_num_threads(a.threads)
    dtype = torch.bfloat16 if a.bf16 else torch.float32
    with torch.no_grad():
        name, forward, inputs = build_case(a.what, a.arch, a.batch, a.size, dtype)
        report(f"{name} {dtype}", timed(lambda: forward(*inputs), a.repeat, a.warmup))


if __name__ == "__main__":
    main()
