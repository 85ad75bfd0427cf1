#!/usr/bin/env python3
"""Trains obclip's bundled demo models on the procedural portrait world.

A small diffusers `AutoencoderKL` (SD's latent layout: 8x downsampling, 4 channels, so 64x64
images have 8x8x4 latents), a small transformers `CLIPTextModel` behind CLIP's real tokenizer
(49 408 tokens, 77 positions), an SD1.5-shaped "server" UNet (cross-attention down/up blocks
and a mid block) and a BK-SDM-style "device" UNet (one layer per block, no mid block), both
conditioned on the shared text encoder. Everything is seeded and runs on one CPU core.

    swift run obclip world --count 8000 --seed 0 --out /tmp/world
    nice -n 15 python3 tools/train_demo_models.py --data /tmp/world --out /tmp/run1
    nice -n 15 python3 tools/train_demo_models.py --data /tmp/world --out Models \
        --resume /tmp/run1 --server-steps 1200 --device-steps 600 --lr 1e-3

writes Models/demo-server/ (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
scheduler/) and Models/demo-device/ (its own unet/, the rest linked to the server's), fp16
safetensors, plus MODEL_CARD.md in each. Training order: the VAE; then the text encoder with
the server UNet on the VAE's latents (text dropped 10% of the time for classifier-free
guidance); then the device UNet on the frozen text encoder.
"""
import argparse
import json
import os
import shutil
import time

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BPE = os.path.join(ROOT, "Sources", "Diffusion", "Resources", "bpe_simple_vocab_16e6.txt")

SCHEDULER = {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
             "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
             "prediction_type": "epsilon", "timestep_spacing": "leading"}

# Stable Diffusion's tokenizer/ configuration (openai/clip-vit-large-patch14).
TOKEN = {"__type": "AddedToken", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}
TOKENIZER_CONFIG = {"add_prefix_space": False, "bos_token": {**TOKEN, "content": "<|startoftext|>"}, "do_lower_case": True,
                    "eos_token": {**TOKEN, "content": "<|endoftext|>"}, "errors": "replace", "model_max_length": 77,
                    "pad_token": "<|endoftext|>", "tokenizer_class": "CLIPTokenizer",
                    "unk_token": {**TOKEN, "content": "<|endoftext|>"}}

VAE_CONFIG = dict(in_channels=3, out_channels=3, latent_channels=4,
                  down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
                  block_out_channels=[8, 16, 32, 64], layers_per_block=1, norm_num_groups=4, sample_size=64)
TEXT_CONFIG = dict(vocab_size=49408, hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=2,
                   max_position_embeddings=77, hidden_act="quick_gelu", bos_token_id=49406, eos_token_id=49407,
                   pad_token_id=49407, projection_dim=64)
UNET_COMMON = dict(sample_size=8, in_channels=4, out_channels=4, cross_attention_dim=TEXT_CONFIG["hidden_size"],
                   attention_head_dim=4, norm_num_groups=8,
                   down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
                   up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"])
SERVER_UNET = dict(UNET_COMMON, block_out_channels=[32, 64, 64], layers_per_block=2)
DEVICE_UNET = dict(UNET_COMMON, block_out_channels=[32, 64, 64], layers_per_block=1, mid_block_type=None)


def write_tokenizer(path):
    """vocab.json + merges.txt as in SD's tokenizer/, rebuilt from the BPE file obclip bundles."""
    byte_chars = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in byte_chars]
    alphabet = [chr(b) for b in byte_chars] + [chr(256 + i) for i in range(len(extra))]
    lines = open(BPE, encoding="utf-8").read().split("\n")
    merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
    vocab = alphabet + [c + "</w>" for c in alphabet] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(path, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump(TOKENIZER_CONFIG, f, indent=2)
    with open(os.path.join(path, "special_tokens_map.json"), "w") as f:
        json.dump({k: TOKENIZER_CONFIG[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token")}, f, indent=2)
    assert len(vocab) == 49408


def load_world(directory):
    records = [json.loads(line) for line in open(os.path.join(directory, "captions.jsonl"))]
    raw = np.fromfile(os.path.join(directory, "images.u8"), dtype=np.uint8)
    images = torch.from_numpy(raw.reshape(len(records), 64, 64, 3).copy()).permute(0, 3, 1, 2).float() / 127.5 - 1
    return images, [r["caption"] for r in records]


def batches(count, batch, steps, generator):
    """Indices of `steps` batches, reshuffled every epoch."""
    order, at = torch.randperm(count, generator=generator), 0
    for _ in range(steps):
        if at + batch > count:
            order, at = torch.randperm(count, generator=generator), 0
        yield order[at:at + batch]
        at += batch


def optimiser(params, lr, steps):
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * min(s, steps) / steps)))
    return opt, schedule


def log(name, step, steps, loss, started):
    print(f"[{name}] step {step}/{steps} loss {loss:.5f} ({time.time() - started:.0f} s)", flush=True)


def train_vae(images, steps, batch, generator):
    vae = AutoencoderKL(**VAE_CONFIG)
    opt, schedule = optimiser(vae.parameters(), 3e-3, steps)
    started, losses = time.time(), []
    for step, idx in enumerate(batches(len(images), batch, steps, generator)):
        x = images[idx]
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
        recon = vae.decode(z).sample
        # A tiny KL keeps the latent scale bounded without blurring the flat-colour shapes.
        kl = posterior.kl().mean() / z[0].numel()
        loss = F.mse_loss(recon, x) + 1e-4 * kl
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        schedule.step()
        losses.append(F.mse_loss(recon, x).item())
        if step % 50 == 0 or step == steps - 1:
            log("vae", step, steps, float(np.mean(losses[-100:])), started)
    vae.eval()
    with torch.no_grad():
        latents = torch.cat([vae.encode(images[i:i + 256]).latent_dist.mean for i in range(0, len(images), 256)])
    scaling = 1.0 / latents.std().item()
    vae.register_to_config(scaling_factor=scaling)
    return vae, latents * scaling, float(np.mean(losses[-100:]))


def train_unet(name, unet, text_encoder, train_text, tokens, latents, steps, batch, lr, generator):
    noise_schedule = DDPMScheduler.from_config(SCHEDULER)
    params = list(unet.parameters()) + (list(text_encoder.parameters()) if train_text else [])
    opt, schedule = optimiser(params, lr, steps)
    empty = tokens[-1:]   # the last row holds the empty prompt's ids
    started, losses = time.time(), []
    text_encoder.train(train_text)
    text_encoder.requires_grad_(train_text)
    for step, idx in enumerate(batches(len(latents), batch, steps, generator)):
        x0 = latents[idx]
        ids = tokens[idx].clone()
        drop = torch.rand(len(idx), generator=generator) < 0.1
        ids[drop] = empty
        noise = torch.randn(x0.shape, generator=generator)
        t = torch.randint(0, 1000, (len(idx),), generator=generator)
        xt = noise_schedule.add_noise(x0, noise, t)
        with torch.set_grad_enabled(train_text):
            context = text_encoder(ids).last_hidden_state
        loss = F.mse_loss(unet(xt, t, encoder_hidden_states=context).sample, noise)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        schedule.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            log(name, step, steps, float(np.mean(losses[-100:])), started)
    unet.eval()
    text_encoder.eval()
    return float(np.mean(losses[-200:]))


def save(model, directory, weights_name):
    model.save_pretrained(directory, safe_serialization=True)
    # fp16 on disk halves the bundle; obclip and diffusers widen on load.
    from safetensors.torch import load_file, save_file
    path = os.path.join(directory, weights_name)
    save_file({k: v.half().contiguous() for k, v in load_file(path).items()}, path, metadata={"format": "pt"})


def write_pipeline(directory, unet, vae, text_encoder, tokenizer_dir, share_from=None):
    os.makedirs(directory, exist_ok=True)
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0",
             "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
             "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
             "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"]}
    json.dump(index, open(os.path.join(directory, "model_index.json"), "w"), indent=2)
    save(unet, os.path.join(directory, "unet"), "diffusion_pytorch_model.safetensors")
    for part in ("vae", "text_encoder", "tokenizer", "scheduler"):
        target = os.path.join(directory, part)
        if os.path.lexists(target):
            shutil.rmtree(target) if not os.path.islink(target) else os.remove(target)
        if share_from:
            os.symlink(os.path.join("..", os.path.basename(share_from), part), target)
    if share_from:
        return
    save(vae, os.path.join(directory, "vae"), "diffusion_pytorch_model.safetensors")
    save(text_encoder, os.path.join(directory, "text_encoder"), "model.safetensors")
    shutil.copytree(tokenizer_dir, os.path.join(directory, "tokenizer"))
    os.makedirs(os.path.join(directory, "scheduler"))
    json.dump(SCHEDULER, open(os.path.join(directory, "scheduler", "scheduler_config.json"), "w"), indent=2, sort_keys=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="directory written by `obclip world`")
    parser.add_argument("--out", default=os.path.join(ROOT, "Models"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vae-steps", type=int, default=300)
    parser.add_argument("--server-steps", type=int, default=800)
    parser.add_argument("--device-steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=32, help="UNet batch")
    parser.add_argument("--vae-batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3, help="UNet (and text encoder) learning rate")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--resume", help="a previous --out directory: continue its UNets and text encoder (its VAE is kept)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.time()
    images, captions = load_world(args.data)
    print(f"{len(images)} portraits from {args.data}", flush=True)

    tokenizer_dir = os.path.join(args.out, ".tokenizer")
    write_tokenizer(tokenizer_dir)
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    tokens = tokenizer(captions + [""], padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids

    if args.resume:
        # Continue from a previous run's models: keep its VAE, train the UNets and text encoder further.
        server_dir = os.path.join(args.resume, "demo-server")
        vae = AutoencoderKL.from_pretrained(os.path.join(server_dir, "vae"), torch_dtype=torch.float32).eval()
        with torch.no_grad():
            latents = torch.cat([vae.encode(images[i:i + 256]).latent_dist.mean for i in range(0, len(images), 256)])
        latents = latents * vae.config.scaling_factor
        vae_loss = json.load(open(os.path.join(args.resume, "training_summary.json")))["vae_mse"]
        text_encoder = CLIPTextModel.from_pretrained(os.path.join(server_dir, "text_encoder"), torch_dtype=torch.float32)
        server = UNet2DConditionModel.from_pretrained(os.path.join(server_dir, "unet"), torch_dtype=torch.float32)
        device = UNet2DConditionModel.from_pretrained(os.path.join(args.resume, "demo-device", "unet"), torch_dtype=torch.float32)
    else:
        vae, latents, vae_loss = train_vae(images, args.vae_steps, args.vae_batch, generator)
        text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_CONFIG))
        server = UNet2DConditionModel(**SERVER_UNET)
        device = UNet2DConditionModel(**DEVICE_UNET)
    print(f"vae: reconstruction MSE {vae_loss:.5f}, scaling_factor {vae.config.scaling_factor:.5f}", flush=True)

    server_loss = train_unet("server", server, text_encoder, True, tokens, latents,
                             args.server_steps, args.batch, args.lr, generator)
    # The server pipeline is written before the device UNet trains so it can be tried meanwhile.
    server_dir, device_dir = os.path.join(args.out, "demo-server"), os.path.join(args.out, "demo-device")
    write_pipeline(server_dir, server, vae, text_encoder, tokenizer_dir)
    device_loss = train_unet("device", device, text_encoder, False, tokens, latents,
                             args.device_steps, args.batch, args.lr, generator)
    write_pipeline(device_dir, device, vae, text_encoder, tokenizer_dir, share_from=server_dir)
    shutil.rmtree(tokenizer_dir)
    summary = {"seconds": round(time.time() - started), "vae_mse": vae_loss, "scaling_factor": vae.config.scaling_factor,
               "server_loss": server_loss, "device_loss": device_loss, "images": len(images),
               "vae_steps": args.vae_steps, "server_steps": args.server_steps, "device_steps": args.device_steps,
               "batch": args.batch, "lr": args.lr, "resumed_from": args.resume, "vae_batch": args.vae_batch, "seed": args.seed,
               "parameters": {"vae": sum(p.numel() for p in vae.parameters()),
                              "text_encoder": sum(p.numel() for p in text_encoder.parameters()),
                              "server_unet": sum(p.numel() for p in server.parameters()),
                              "device_unet": sum(p.numel() for p in device.parameters())}}
    json.dump(summary, open(os.path.join(args.out, "training_summary.json"), "w"), indent=2)
    print(json.dumps(summary, indent=2), flush=True)


if __name__ == "__main__":
    main()
