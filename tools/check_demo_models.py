#!/usr/bin/env python3
"""Checks that obclip reproduces diffusers on the bundled demo models.

For a few portrait prompts, runs diffusers' StableDiffusionPipeline on Models/demo-server
(DPM++ 2M, guidance 7.5, 64x64) — once with the server UNet throughout and once switching to
Models/demo-device's UNet after k steps (Hybrid SD) — and `obclip txt2img` with the same seed
and settings, and prints the largest latent difference of each pair.

    swift build -c release --product obclip
    nice -n 15 python3 tools/check_demo_models.py --obclip .build/release/obclip
"""
import argparse
import os
import subprocess
import tempfile

import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline, UNet2DConditionModel
from safetensors.torch import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PROMPTS = [
    ("on a blue background, a portrait of an old Asian woman with glasses in a red shirt", 1),
    ("photo of a young Nigerian man wearing a hat, green backdrop, in a yellow shirt", 2),
    ("a 45-year-old French lady against a purple background, a yellow sweater", 3),
]


def diffusers_latents(pipe, prompt, seed, steps, guidance, device_unet=None, switch=None):
    server_unet = pipe.unet

    def swap(pipeline, i, t, kwargs):
        if device_unet is not None and i + 1 == switch:
            pipeline.unet = device_unet
        return kwargs

    try:
        return pipe(prompt, height=64, width=64, num_inference_steps=steps, guidance_scale=guidance,
                    generator=torch.Generator().manual_seed(seed), output_type="latent",
                    callback_on_step_end=swap).images
    finally:
        pipe.unet = server_unet


def obclip_latents(binary, models, prompt, seed, steps, guidance, switch=None):
    with tempfile.TemporaryDirectory() as tmp:
        latents = os.path.join(tmp, "latents.safetensors")
        command = [binary, "txt2img", "--model", os.path.join(models, "demo-server"), "--size", "64x64",
                   "--seed", str(seed), "--steps", str(steps), "--scheduler", "dpm++2m", "--guidance", str(guidance),
                   "--output", os.path.join(tmp, "image.png"), "--latents", latents, prompt]
        if switch is not None:
            command[2:2] = ["--device-model", os.path.join(models, "demo-device"), "--switch", str(switch)]
        subprocess.run(command, check=True, capture_output=True)
        return load_file(latents)["latents"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--obclip", required=True, help="path of the obclip executable")
    parser.add_argument("--models", default=os.path.join(ROOT, "Models"))
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--switch", type=int, default=10)
    parser.add_argument("--guidance", type=float, default=7.5)
    args = parser.parse_args()
    torch.set_num_threads(1)

    server = os.path.join(args.models, "demo-server")
    pipe = StableDiffusionPipeline.from_pretrained(server, safety_checker=None, requires_safety_checker=False)
    pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    device_unet = UNet2DConditionModel.from_pretrained(os.path.join(args.models, "demo-device", "unet"))
    worst = 0.0
    for prompt, seed in PROMPTS:
        for switch in (None, args.switch):
            reference = diffusers_latents(pipe, prompt, seed, args.steps, args.guidance, device_unet, switch)
            ours = obclip_latents(args.obclip, args.models, prompt, seed, args.steps, args.guidance, switch)
            diff = (reference - ours).abs().max().item()
            scale = reference.abs().max().item()
            worst = max(worst, diff / scale)
            label = "server only" if switch is None else f"switch at {switch}"
            print(f"{label:13} seed {seed}: max |Δlatent| {diff:.2e} (latents up to {scale:.2f})  {prompt}")
    print(f"worst relative difference {worst:.2e}")


if __name__ == "__main__":
    main()
