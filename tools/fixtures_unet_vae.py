#!/usr/bin/env python3
"""Reference fixtures for obclip's UNet and VAE parity tests (Tests/DiffusionTests/*Tests.swift).

Builds small random-weight diffusers models, saves them in the diffusers on-disk layout
(config.json + diffusion_pytorch_model.safetensors, weights stored as f16 to keep the fixtures
small; the references are computed in f32 from exactly those f16-rounded weights) and writes
inputs and reference outputs to <model dir>_reference.safetensors beside each model directory
(outside it, so the weight loader sees only the model's own files):

  unet/sd_like/        SD1.x-like: cross-attention down/up blocks, a mid block, 2 layers per
                       block, conv projections, per-block legacy attention_head_dim (= heads)
  unet/bk_small_like/  BK-SDM-Small-like: layers_per_block 1, mid_block_type null, 3 stages,
                       linear projections
  vae/sd_like/         AutoencoderKL with legacy attention names (query/key/value/proj_attn)
  pipeline/            StableDiffusionPipeline final latents with the models above: CFG with
                       DPM-Solver++ 2M, and a model switch (sd_like → bk_small_like) with Euler
                       ancestral

Run by developers only (needs torch + diffusers):  python3 tools/fixtures_unet_vae.py
"""
import json
import os

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DiffusionTests", "Fixtures")


def randomise(model, seed):
    """Replace every parameter (incl. norms and biases, which diffusers initialises to 1/0) with
    N(0, 1/fan_in)-ish values rounded to f16, so every code path affects the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = max(1, p[0].numel()) if p.dim() > 1 else 1
            if p.dim() > 1:
                v = torch.randn(p.shape, generator=g) / fan_in ** 0.5
            elif name.endswith("weight"):
                v = 1 + 0.2 * torch.randn(p.shape, generator=g)
            else:
                v = 0.1 * torch.randn(p.shape, generator=g)
            p.copy_(v.half().float())
    model.eval()
    return model


def save_model(model, directory, rename=lambda k: k):
    os.makedirs(directory, exist_ok=True)
    config = {k: v for k, v in dict(model.config).items() if not k.startswith("_")}
    config["_class_name"] = type(model).__name__
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    state = {rename(k): v.detach().half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(directory, "diffusion_pytorch_model.safetensors"))


def unet_fixture(name, seed, cases, **config):
    torch.manual_seed(seed)
    unet = randomise(UNet2DConditionModel(**config), seed)
    directory = os.path.join(ROOT, "unet", name)
    save_model(unet, directory)
    g = torch.Generator().manual_seed(seed + 1)
    refs = {}
    for i, (batch, timesteps) in enumerate(cases):
        latents = torch.randn(batch, config["in_channels"], 8, 8, generator=g)
        context = torch.randn(batch, 7, config["cross_attention_dim"], generator=g)
        t = torch.tensor(timesteps, dtype=torch.float64)
        with torch.no_grad():
            noise = unet(latents, t if len(timesteps) > 1 else float(timesteps[0]), encoder_hidden_states=context).sample
        refs[f"case{i}.latents"] = latents
        refs[f"case{i}.timesteps"] = t.float()
        refs[f"case{i}.context"] = context
        refs[f"case{i}.noise"] = noise
    save_file({k: v.contiguous() for k, v in refs.items()}, directory + "_reference.safetensors")
    return unet


def vae_fixture(seed):
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        block_out_channels=[8, 16], layers_per_block=1, norm_num_groups=4, scaling_factor=0.18215)
    randomise(vae, seed)
    directory = os.path.join(ROOT, "vae", "sd_like")
    legacy = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}

    def rename(key):
        for new, old in legacy.items():
            key = key.replace(f"attentions.0.{new}.", f"attentions.0.{old}.")
        return key

    # The encoder is not used by obclip; keep only what decoding reads.
    vae.encoder = None
    vae.quant_conv = None
    save_model(vae, directory, rename)
    g = torch.Generator().manual_seed(seed + 1)
    latents = torch.randn(2, 4, 8, 8, generator=g) * 0.5
    with torch.no_grad():
        image = vae.decode(latents / vae.config.scaling_factor).sample
    image = (image / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)   # NHWC, as obclip returns it
    save_file({"latents": latents.contiguous(), "image": image.contiguous()},
              directory + "_reference.safetensors")
    return vae


SD15_SCHEDULER = {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
                  "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
                  "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None}


def pipeline_fixture(unet, device_unet, vae):
    """diffusers' StableDiffusionPipeline on precomputed prompt embeddings (the text encoder has
    its own parity tests), output_type="latent": a CFG run, and a Hybrid-SD run that swaps to the
    second UNet after step k through callback_on_step_end."""
    from diffusers import DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, StableDiffusionPipeline
    directory = os.path.join(ROOT, "pipeline")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "scheduler_config.json"), "w") as f:
        json.dump(SD15_SCHEDULER, f, indent=2, sort_keys=True)
    g = torch.Generator().manual_seed(40)
    positive = torch.randn(2, 7, 8, generator=g)
    negative = torch.randn(2, 7, 8, generator=g)
    refs = {"positive": positive, "negative": negative}
    runs = {
        # name: (scheduler class, steps, guidance, seed, switch step)
        "cfg": (DPMSolverMultistepScheduler, 5, 7.5, 42, None),
        "switch": (EulerAncestralDiscreteScheduler, 4, 5.0, 7, 2),
    }
    for name, (scheduler_class, steps, guidance, seed, switch) in runs.items():
        pipe = StableDiffusionPipeline(vae=vae, text_encoder=None, tokenizer=None, unet=unet,
                                       scheduler=scheduler_class.from_config(SD15_SCHEDULER), safety_checker=None,
                                       feature_extractor=None, requires_safety_checker=False)

        def swap(pipeline, i, t, kwargs):
            if switch is not None and i == switch - 1:
                pipeline.unet = device_unet
            return kwargs

        with torch.no_grad():
            latents = pipe(prompt_embeds=positive, negative_prompt_embeds=negative, height=16, width=16,
                           num_inference_steps=steps, guidance_scale=guidance, output_type="latent",
                           generator=torch.Generator().manual_seed(seed), callback_on_step_end=swap).images
        refs[f"{name}.latents"] = latents
    save_file({k: v.contiguous() for k, v in refs.items()}, os.path.join(directory, "reference.safetensors"))


if __name__ == "__main__":
    sd_like = unet_fixture("sd_like", 10, cases=[(2, [999.0]), (2, [500.25, 17.0]), (1, [1.5])],
                 sample_size=8, in_channels=4, out_channels=4, block_out_channels=[8, 16],
                 down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"],
                 up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"],
                 mid_block_type="UNetMidBlock2DCrossAttn", layers_per_block=2, attention_head_dim=[2, 4],
                 cross_attention_dim=8, norm_num_groups=4)
    bk_small_like = unet_fixture("bk_small_like", 20, cases=[(2, [981.0, 261.5]), (1, [0.0])],
                 sample_size=8, in_channels=4, out_channels=4, block_out_channels=[8, 8, 16],
                 down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                 up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
                 mid_block_type=None, layers_per_block=1, attention_head_dim=2, use_linear_projection=True,
                 cross_attention_dim=8, norm_num_groups=4)
    vae = vae_fixture(30)
    pipeline_fixture(sd_like, bk_small_like, vae)
