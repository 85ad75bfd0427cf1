#!/usr/bin/env python3
"""Trains obclip's bundled demo models on the procedural portrait world.

A small diffusers `AutoencoderKL` (SD's latent layout: 8x downsampling, 4 channels, so 64x64
images have 8x8x4 latents), a small transformers `CLIPTextModel` behind CLIP's real tokenizer
(49 408 tokens, 77 positions), an SD1.5-shaped "server" UNet (cross-attention down/up blocks
and a mid block) and a BK-SDM-style "device" UNet (one layer per block, no mid block), both
conditioned on the shared text encoder. Everything is seeded and runs on one CPU core.

    swift build -c release --product obclip
    .build/release/obclip world --count 16000 --seed 0 --out /tmp/world --sheet 0
    .build/release/obclip world --count 500 --seed 1 --out /tmp/world-holdout --sheet 0
    nice -n 10 python3 tools/train_demo_models.py --data /tmp/world --holdout /tmp/world-holdout \\
        --obclip .build/release/obclip --out Models

writes Models/demo-server/ (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
scheduler/) and Models/demo-device/ (its own unet/, the rest linked to the server's), fp16
safetensors, and Models/training_summary.json. The stages, in order:

1. vae: MSE + a tiny KL. Gate: `obclip check` (the attribute checker) reads the holdout
   images' attributes back from their reconstructions — what the VAE loses, no UNet can draw.
2. text: the text encoder alone, with an auxiliary head on its pooled output classifying the
   caption's six attributes (the captions come labelled, in any clause order). A frozen encoder whose states already
   separate "old" from "young" and "red shirt" from "red background" lets the UNets learn
   conditioning from their first step instead of discovering the text from the ε loss, and
   frozen, its states are computed once for the whole data set.
3. server / device: ε-prediction on the VAE's latents, caption dropped 10% of the time for
   classifier-free guidance, min-SNR-5 loss weighting, an EMA of the weights is what is saved.

Each stage draws from its own seeded generator, so `--stages` with `--resume` (the other
parts loaded from a previous `--out`) repeats that stage of a full run — up to the fp16
rounding of the parts it loads, which a full run still holds in fp32. `--init DIR` starts the
stages a run trains from DIR's weights instead of from scratch (fine-tuning after the world
changes); the bundled models' runs are in Models/demo-server/MODEL_CARD.md.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BPE = os.path.join(ROOT, "Sources", "Diffusion", "Resources", "bpe_simple_vocab_16e6.txt")
STAGES = ["vae", "text", "server", "device"]
ATTRIBUTES = ["gender", "age", "ethnicity", "shirt", "background", "accessory"]

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


class World:
    """An `obclip world` data set: uint8 NCHW images (converted to [-1, 1] per batch, so a big set
    stays small in memory), captions, and each attribute's label as a class index."""

    def __init__(self, directory):
        self.directory = directory
        records = [json.loads(line) for line in open(os.path.join(directory, "captions.jsonl"))]
        raw = np.fromfile(os.path.join(directory, "images.u8"), dtype=np.uint8)
        self.pixels = torch.from_numpy(raw.reshape(len(records), 64, 64, 3).copy()).permute(0, 3, 1, 2).contiguous()
        self.captions = [r["caption"] for r in records]
        self.labels = {a: [r["portrait"]["attributes"][a] for r in records] for a in ATTRIBUTES}

    def __len__(self):
        return len(self.captions)

    def images(self, idx):
        return self.pixels[idx].float() / 127.5 - 1

    def classes(self, values):
        """Each attribute's label as an index into `values[attribute]` (the class names)."""
        return {a: torch.tensor([values[a].index(v) for v in self.labels[a]]) for a in ATTRIBUTES}


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


def step(loss, params, opt, schedule):
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    schedule.step()


def log(name, at, steps, loss, started):
    print(f"[{name}] step {at}/{steps} loss {loss:.5f} ({time.time() - started:.0f} s)", flush=True)


def in_chunks(f, count, size=256):
    """f over index chunks of `count` items, concatenated (bounded memory, no autograd)."""
    with torch.no_grad():
        return torch.cat([f(torch.arange(i, min(i + size, count))) for i in range(0, count, size)])


def initial(cls, config, init, model_dir, part):
    """A fresh model of `config`, or — with --init — the weights of a previous --out to fine-tune."""
    if not init:
        return cls(**config) if cls is not CLIPTextModel else cls(CLIPTextConfig(**config))
    print(f"{part} of {model_dir}: fine-tuning from {init}", flush=True)
    return cls.from_pretrained(os.path.join(init, model_dir, part), torch_dtype=torch.float32).train()


def train_vae(world, steps, batch, lr, generator, init=None):
    vae = initial(AutoencoderKL, VAE_CONFIG, init, "demo-server", "vae")
    params = list(vae.parameters())
    opt, schedule = optimiser(params, lr, steps)
    started, losses = time.time(), []
    for at, idx in enumerate(batches(len(world), batch, steps, generator)):
        x = world.images(idx)
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
        recon = vae.decode(z).sample
        mse = F.mse_loss(recon, x)
        # A tiny KL keeps the latent scale bounded without blurring the flat-colour shapes.
        step(mse + 1e-4 * posterior.kl().mean() / z[0].numel(), params, opt, schedule)
        losses.append(mse.item())
        if at % 100 == 0 or at == steps - 1:
            log("vae", at, steps, float(np.mean(losses[-100:])), started)
    vae.eval()
    latents = in_chunks(lambda i: vae.encode(world.images(i)).latent_dist.mean, len(world))
    vae.register_to_config(scaling_factor=1.0 / latents.std().item())
    return vae, float(np.mean(losses[-100:]))


def check_vae(vae, holdout, obclip):
    """The holdout's reconstruction MSE, and — given the obclip executable — what the attribute
    checker reads back from the reconstructions (`obclip check --json`)."""
    recon = in_chunks(lambda i: vae.decode(vae.encode(holdout.images(i)).latent_dist.mean).sample, len(holdout))
    result = {"mse": F.mse_loss(recon, in_chunks(holdout.images, len(holdout))).item()}
    if obclip:
        pixels = ((recon.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
        with tempfile.NamedTemporaryFile(suffix=".u8") as f:
            pixels.tofile(f.name)
            out = subprocess.run([obclip, "check", "--data", holdout.directory, "--images", f.name, "--json"],
                                 check=True, capture_output=True, text=True).stdout
        result["checker"] = json.loads(out)
    return result


class AttributeHeads(torch.nn.Module):
    """Linear classifiers of each attribute from the text encoder's pooled output. Training
    only: the heads are not part of the saved model."""

    def __init__(self, width, values):
        super().__init__()
        self.heads = torch.nn.ModuleDict({a: torch.nn.Linear(width, len(values[a])) for a in ATTRIBUTES})

    def forward(self, pooled):
        return {a: head(pooled) for a, head in self.heads.items()}


def train_text_encoder(tokens, classes, values, steps, batch, lr, generator, init=None):
    text_encoder = initial(CLIPTextModel, TEXT_CONFIG, init, "demo-server", "text_encoder")
    heads = AttributeHeads(TEXT_CONFIG["hidden_size"], values)
    params = list(text_encoder.parameters()) + list(heads.parameters())
    opt, schedule = optimiser(params, lr, steps)
    started, losses = time.time(), []
    for at, idx in enumerate(batches(len(tokens), batch, steps, generator)):
        logits = heads(text_encoder(tokens[idx]).pooler_output)
        loss = sum(F.cross_entropy(logits[a], classes[a][idx]) for a in ATTRIBUTES)
        step(loss, params, opt, schedule)
        losses.append(loss.item())
        if at % 100 == 0 or at == steps - 1:
            log("text", at, steps, float(np.mean(losses[-100:])), started)
    text_encoder.eval()
    return text_encoder, heads.eval(), float(np.mean(losses[-100:]))


def text_accuracy(text_encoder, heads, tokens, classes):
    """Per attribute, how often the auxiliary heads classify the captions right."""
    logits = in_chunks(lambda i: torch.cat(list(heads(text_encoder(tokens[i]).pooler_output).values()), 1), len(tokens))
    result, at = {}, 0
    for a, head in heads.heads.items():
        result[a] = (logits[:, at:at + head.out_features].argmax(1) == classes[a]).float().mean().item()
        at += head.out_features
    return result


def train_unet(name, model_dir, config, latents, contexts, empty, steps, batch, lr, ema_decay, generator, init=None):
    """ε-prediction with min-SNR-5 weighting (Hang et al. 2023: the high-SNR steps' large
    ε-loss gradients otherwise dominate and slow convergence); returns the EMA weights."""
    unet = initial(UNet2DConditionModel, config, init, model_dir, "unet")
    ema = copy.deepcopy(unet).requires_grad_(False)
    noise_schedule = DDPMScheduler.from_config(SCHEDULER)
    snr = noise_schedule.alphas_cumprod / (1 - noise_schedule.alphas_cumprod)
    params = list(unet.parameters())
    opt, schedule = optimiser(params, lr, steps)
    started, losses = time.time(), []
    for at, idx in enumerate(batches(len(latents), batch, steps, generator)):
        x0, context = latents[idx], contexts[idx].clone()
        context[torch.rand(len(idx), generator=generator) < 0.1] = empty
        noise = torch.randn(x0.shape, generator=generator)
        t = torch.randint(0, 1000, (len(idx),), generator=generator)
        error = (unet(noise_schedule.add_noise(x0, noise, t), t, encoder_hidden_states=context).sample - noise).pow(2).mean((1, 2, 3))
        loss = (error * snr[t].clamp(max=5) / snr[t]).mean()
        step(loss, params, opt, schedule)
        # Warm-up of the decay as in diffusers' EMAModel, so early weights fade quickly.
        decay = min(ema_decay, (1 + at) / (10 + at))
        with torch.no_grad():
            for e, p in zip(ema.parameters(), params):
                e.lerp_(p, 1 - decay)
        losses.append(error.mean().item())
        if at % 100 == 0 or at == steps - 1:
            log(name, at, steps, float(np.mean(losses[-100:])), started)
    return ema.eval(), float(np.mean(losses[-200:]))


def save(model, directory, weights_name):
    model.save_pretrained(directory, safe_serialization=True)
    # fp16 on disk halves the bundle; obclip and diffusers widen on load.
    from safetensors.torch import load_file, save_file
    path = os.path.join(directory, weights_name)
    save_file({k: v.half().contiguous() for k, v in load_file(path).items()}, path, metadata={"format": "pt"})
    # A fine-tuned model's config names the directory it was loaded from: not part of the bundle.
    config_path = os.path.join(directory, "config.json")
    config = json.load(open(config_path))
    if config.pop("_name_or_path", None) is not None:
        json.dump(config, open(config_path, "w"), indent=2, sort_keys=True)


def write_layout(server_dir, device_dir):
    """What needs no training: model_index.json of both pipelines, the tokenizer, the scheduler,
    and the device's links to the server's VAE, text encoder, tokenizer and scheduler."""
    index = {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0",
             "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
             "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
             "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"]}
    for directory in (server_dir, device_dir):
        os.makedirs(directory, exist_ok=True)
        json.dump(index, open(os.path.join(directory, "model_index.json"), "w"), indent=2)
    write_tokenizer(os.path.join(server_dir, "tokenizer"))
    os.makedirs(os.path.join(server_dir, "scheduler"), exist_ok=True)
    json.dump(SCHEDULER, open(os.path.join(server_dir, "scheduler", "scheduler_config.json"), "w"), indent=2, sort_keys=True)
    for part in ("vae", "text_encoder", "tokenizer", "scheduler"):
        target = os.path.join(device_dir, part)
        if os.path.lexists(target):
            shutil.rmtree(target) if not os.path.islink(target) else os.remove(target)
        os.symlink(os.path.join("..", os.path.basename(server_dir), part), target)


def load_part(resume, model_dir, part, cls):
    """A part this run does not train, from --resume; None without one (the run stops there)."""
    if not resume:
        print(f"stopping before the {model_dir}'s {part}: this run does not train it (--stages) and has no --resume", flush=True)
        return None
    return cls.from_pretrained(os.path.join(resume, model_dir, part), torch_dtype=torch.float32).eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="training set written by `obclip world`")
    parser.add_argument("--holdout", help="another `obclip world` set (other seed) to measure the VAE and text encoder on")
    parser.add_argument("--obclip", help="obclip executable: its `check` scores the VAE's holdout reconstructions")
    parser.add_argument("--out", default=os.path.join(ROOT, "Models"))
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    parser.add_argument("--resume", help="a previous --out directory to load the parts this run does not train from")
    parser.add_argument("--init", help="a previous --out directory whose weights the stages this run trains start from "
                        "(fine-tuning; the default trains them from scratch)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vae-steps", type=int, default=3000)
    parser.add_argument("--vae-batch", type=int, default=16)
    parser.add_argument("--vae-lr", type=float, default=2e-3)
    parser.add_argument("--text-steps", type=int, default=1500)
    parser.add_argument("--text-batch", type=int, default=64)
    parser.add_argument("--text-lr", type=float, default=1e-3)
    parser.add_argument("--server-steps", type=int, default=3000)
    parser.add_argument("--device-steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64, help="UNet batch")
    parser.add_argument("--lr", type=float, default=2e-3, help="UNet learning rate")
    parser.add_argument("--ema", type=float, default=0.999, help="EMA decay of the saved UNet weights")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    stages = args.stages.split(",")
    if not set(stages) <= set(STAGES):
        raise SystemExit(f"--stages: unknown {sorted(set(stages) - set(STAGES))}; choose from {STAGES}")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generators = {s: torch.Generator().manual_seed(args.seed * 100 + i) for i, s in enumerate(STAGES)}
    started = time.time()
    world = World(args.data)
    holdout = World(args.holdout) if args.holdout else None
    print(f"{len(world)} portraits from {args.data}", flush=True)
    # A resumed run keeps the numbers of the stages it does not redo.
    previous = os.path.join(args.resume or "", "training_summary.json")
    summary = json.load(open(previous)) if args.resume and os.path.exists(previous) else {}
    summary.update({"images": len(world), "seed": args.seed, "resumed_from": args.resume})
    if args.init:
        summary.setdefault("fine_tuned_from", {}).update({s: args.init for s in stages})
    settings, seconds = summary.setdefault("settings", {}), summary.setdefault("seconds", {})
    for name, keys in {"vae": ["vae_steps", "vae_batch", "vae_lr"], "text": ["text_steps", "text_batch", "text_lr"],
                       "server": ["server_steps", "batch", "lr", "ema"], "device": ["device_steps", "batch", "lr", "ema"]}.items():
        if name in stages:
            settings[name] = {k: getattr(args, k) for k in keys}

    def write_summary():
        seconds["this run"] = round(time.time() - started)
        json.dump(summary, open(os.path.join(args.out, "training_summary.json"), "w"), indent=2)

    server_dir, device_dir = os.path.join(args.out, "demo-server"), os.path.join(args.out, "demo-device")
    write_layout(server_dir, device_dir)
    tokenizer = CLIPTokenizer.from_pretrained(os.path.join(server_dir, "tokenizer"))

    def tokenize(captions):
        return tokenizer(captions, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids

    tokens, empty_tokens = tokenize(world.captions), tokenize([""])

    # Each part is saved as soon as it is trained (or loaded), so a later stage can fail or be
    # rerun without losing it.
    at = time.time()
    if "vae" in stages:
        vae, summary["vae_train_mse"] = train_vae(world, args.vae_steps, args.vae_batch, args.vae_lr, generators["vae"],
                                                     args.init)
        seconds["vae"] = round(time.time() - at)
    else:
        vae = load_part(args.resume, "demo-server", "vae", AutoencoderKL)
    if vae is None:
        return write_summary()
    save(vae, os.path.join(server_dir, "vae"), "diffusion_pytorch_model.safetensors")
    summary["scaling_factor"] = vae.config.scaling_factor
    if holdout:
        summary["vae_holdout"] = check_vae(vae, holdout, args.obclip)
        print(f"vae on the holdout: {json.dumps(summary['vae_holdout'])}", flush=True)
    write_summary()

    at = time.time()
    values = {a: sorted(set(world.labels[a])) for a in ATTRIBUTES}
    if "text" in stages:
        text_encoder, heads, summary["text_loss"] = train_text_encoder(tokens, world.classes(values), values, args.text_steps,
                                                                       args.text_batch, args.text_lr, generators["text"], args.init)
        seconds["text"] = round(time.time() - at)
        if holdout:
            summary["text_holdout_accuracy"] = text_accuracy(text_encoder, heads, tokenize(holdout.captions), holdout.classes(values))
            print(f"text encoder's attribute heads on the holdout: {json.dumps(summary['text_holdout_accuracy'])}", flush=True)
    else:
        text_encoder = load_part(args.resume, "demo-server", "text_encoder", CLIPTextModel)
    if text_encoder is None:
        return write_summary()
    save(text_encoder, os.path.join(server_dir, "text_encoder"), "model.safetensors")
    write_summary()

    unets = {}
    if {"server", "device"} & set(stages):
        latents = in_chunks(lambda i: vae.encode(world.images(i)).latent_dist.mean, len(world)) * vae.config.scaling_factor
        contexts = in_chunks(lambda i: text_encoder(tokens[i]).last_hidden_state, len(tokens))
        with torch.no_grad():
            empty = text_encoder(empty_tokens).last_hidden_state[0]
    for name, directory, config in (("server", server_dir, SERVER_UNET), ("device", device_dir, DEVICE_UNET)):
        at = time.time()
        if name in stages:
            unets[name], summary[f"{name}_loss"] = train_unet(name, os.path.basename(directory), config, latents, contexts, empty,
                                                              getattr(args, f"{name}_steps"), args.batch, args.lr, args.ema,
                                                              generators[name], args.init)
            seconds[name] = round(time.time() - at)
        else:
            unets[name] = load_part(args.resume, os.path.basename(directory), "unet", UNet2DConditionModel)
        if unets[name] is None:
            return write_summary()
        save(unets[name], os.path.join(directory, "unet"), "diffusion_pytorch_model.safetensors")
        write_summary()
    summary["parameters"] = {"vae": sum(p.numel() for p in vae.parameters()),
                             "text_encoder": sum(p.numel() for p in text_encoder.parameters()),
                             "server_unet": sum(p.numel() for p in unets["server"].parameters()),
                             "device_unet": sum(p.numel() for p in unets["device"].parameters())}
    write_summary()
    print(json.dumps(summary, indent=2), flush=True)


if __name__ == "__main__":
    main()
