#!/usr/bin/env python3
"""Reference fixtures for obclip's SDXL-family parity tests (Tests/DiffusionTests/SDXLParityTests.swift).

Builds a tiny random-weight SDXL-shaped pipeline with diffusers/transformers and writes it in
the diffusers layout under Tests/DiffusionTests/Fixtures/sdxl/ (weights f16; references in f32
from exactly those weights):

  pipeline/text_encoder/    CLIPTextModel (2 layers, 8 wide, quick-GELU) — SDXL's ViT-L stand-in
  pipeline/text_encoder_2/  CLIPTextModelWithProjection (2 layers, 16 wide, GELU, projection 12)
  pipeline/unet/            SDXL-shaped UNet: DownBlock2D first, transformer depths [0, 1, 2]
                            (mid block depth 2), linear projections, text_time added embedding
                            (pooled 12 + 6 × 4 sinusoids), cross-attention width 8 + 16 = 24
  pipeline/vae/             AutoencoderKL with scaling_factor 0.13025, force_upcast true
  pipeline/model_index.json force_zeros_for_empty_prompt true; scheduler/ is SDXL's Euler "leading"
  lcm_unet/                 the same UNet shape plus time_cond_proj_dim 8 (LCM's w-embedding)
  koala_unet/               a KOALA-shaped device UNet: one resnet per down stage, depths [0, 1, 1],
                            no mid block
  ssd_unet/                 an SSD-1B-shaped UNet: per-layer (nested) transformer depths down
                            [[1, 1], [1, 2], [2, 1]] and up [[2, 1, 1], [1, 2, 1], [1, 1, 1]], and a
                            resnet-only "UNetMidBlock2D"
  reference.safetensors     inputs and outputs (see the keys below)

Token ids are explicit (vocabulary 1000, end-of-text 999; tokenizer 1 pads with 999, tokenizer 2
with 0 like SDXL's "!"), so the text encoders need no vocabulary files.

Run by developers only (needs torch, diffusers, transformers):  python3 tools/fixtures_sdxl.py
"""
import json
import os

import torch
from diffusers import (AutoencoderKL, DPMSolverMultistepScheduler, EulerDiscreteScheduler, LCMScheduler,
                       StableDiffusionXLPipeline, UNet2DConditionModel)
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from fixtures_unet_vae import randomise, save_model as save_diffusers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "DiffusionTests", "Fixtures", "sdxl")
PIPE = os.path.join(ROOT, "pipeline")

SDXL_SCHEDULER = {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
                  "beta_start": 0.00085, "clip_sample": False, "interpolation_type": "linear",
                  "num_train_timesteps": 1000, "prediction_type": "epsilon", "sample_max_value": 1.0,
                  "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
                  "timestep_spacing": "leading", "trained_betas": None, "use_karras_sigmas": False}


def save_transformers(model, directory):
    os.makedirs(directory, exist_ok=True)
    model.config.to_json_file(os.path.join(directory, "config.json"))
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items() if "position_ids" not in k}
    save_file(state, os.path.join(directory, "model.safetensors"))


def text_encoders():
    common = dict(vocab_size=1000, max_position_embeddings=77, num_hidden_layers=2, bos_token_id=998, eos_token_id=2)
    te1 = randomise(CLIPTextModel(CLIPTextConfig(hidden_size=8, intermediate_size=16, num_attention_heads=2,
                                                 hidden_act="quick_gelu", **common)), 1)
    te2 = randomise(CLIPTextModelWithProjection(CLIPTextConfig(hidden_size=16, intermediate_size=32, num_attention_heads=2,
                                                               hidden_act="gelu", projection_dim=12, **common)), 2)
    save_transformers(te1, os.path.join(PIPE, "text_encoder"))
    save_transformers(te2, os.path.join(PIPE, "text_encoder_2"))
    return te1, te2


def ids(words, pad):
    seq = [998] + words + [999]
    return seq + [pad] * (77 - len(seq))


def unet_config(**extra):
    config = dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=[4, 8, 8],
                  down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                  up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                  mid_block_type="UNetMidBlock2DCrossAttn", layers_per_block=2, transformer_layers_per_block=[0, 1, 2],
                  attention_head_dim=[1, 1, 2], use_linear_projection=True, cross_attention_dim=24, norm_num_groups=4,
                  addition_embed_type="text_time", addition_time_embed_dim=4, projection_class_embeddings_input_dim=36)
    config.update(extra)
    return config


def main():
    refs = {}
    te1, te2 = text_encoders()
    words = [[5, 17, 300], [42, 7, 7, 801, 3], []]
    ids1 = torch.tensor([ids(w, 999) for w in words])
    ids2 = torch.tensor([ids(w, 0) for w in words])
    with torch.no_grad():
        out1 = te1(ids1, output_hidden_states=True)
        out2 = te2(ids2, output_hidden_states=True)
    refs["text.ids1"] = ids1.float()
    refs["text.ids2"] = ids2.float()
    refs["text.hidden"] = torch.cat([out1.hidden_states[-2], out2.hidden_states[-2]], dim=-1)
    refs["text.pooled"] = out2.text_embeds

    torch.manual_seed(0)
    unet = randomise(UNet2DConditionModel(**unet_config()), 3)
    lcm_unet = randomise(UNet2DConditionModel(**unet_config(time_cond_proj_dim=8)), 4)
    koala = randomise(UNet2DConditionModel(**unet_config(layers_per_block=1, transformer_layers_per_block=[0, 1, 1],
                                                         mid_block_type=None)), 5)
    save_diffusers(unet, os.path.join(PIPE, "unet"))
    save_diffusers(lcm_unet, os.path.join(ROOT, "lcm_unet"))
    ssd = randomise(UNet2DConditionModel(**unet_config(transformer_layers_per_block=[[1, 1], [1, 2], [2, 1]],
                                                       reverse_transformer_layers_per_block=[[2, 1, 1], [1, 2, 1], [1, 1, 1]],
                                                       mid_block_type="UNetMidBlock2D")), 8)
    save_diffusers(koala, os.path.join(ROOT, "koala_unet"))
    save_diffusers(ssd, os.path.join(ROOT, "ssd_unet"))
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, down_block_types=["DownEncoderBlock2D"] * 2,
                        up_block_types=["UpDecoderBlock2D"] * 2, block_out_channels=[8, 16], layers_per_block=1,
                        norm_num_groups=4, scaling_factor=0.13025, force_upcast=True)
    randomise(vae, 6)
    vae.encoder = None
    vae.quant_conv = None
    save_diffusers(vae, os.path.join(PIPE, "vae"))
    os.makedirs(os.path.join(PIPE, "scheduler"), exist_ok=True)
    with open(os.path.join(PIPE, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(SDXL_SCHEDULER, f, indent=2, sort_keys=True)
    with open(os.path.join(PIPE, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionXLPipeline", "force_zeros_for_empty_prompt": True}, f, indent=2)

    # One UNet forward, with and without the w-embedding.
    g = torch.Generator().manual_seed(7)
    latents = torch.randn(2, 4, 8, 8, generator=g)
    context = torch.randn(2, 77, 24, generator=g)
    pooled = torch.randn(2, 12, generator=g)
    time_ids = torch.tensor([[1024., 1024., 0., 0., 1024., 1024.], [768., 512., 16., 32., 1024., 896.]])
    w = torch.tensor([4.0, 0.5])
    with torch.no_grad():
        cond = {"text_embeds": pooled, "time_ids": time_ids}
        refs["unet.noise"] = unet(latents, torch.tensor([811.0, 17.5]), encoder_hidden_states=context, added_cond_kwargs=cond).sample
        pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None, tokenizer_2=None,
                                         unet=lcm_unet, scheduler=LCMScheduler.from_config(SDXL_SCHEDULER))
        w_embedding = pipe.get_guidance_scale_embedding(w, embedding_dim=8)
        refs["lcm_unet.noise"] = lcm_unet(latents, torch.tensor([499.0, 499.0]), encoder_hidden_states=context,
                                          added_cond_kwargs=cond, timestep_cond=w_embedding).sample
        refs["ssd_unet.noise"] = ssd(latents, torch.tensor([811.0, 17.5]), encoder_hidden_states=context, added_cond_kwargs=cond).sample
    refs.update({"unet.latents": latents, "unet.context": context, "unet.pooled": pooled, "unet.time_ids": time_ids,
                 "unet.w": w, "lcm_unet.w_embedding": w_embedding})

    # VAE decode (the pipeline divides by scaling_factor 0.13025).
    vae_latents = torch.randn(1, 4, 8, 8, generator=g)
    with torch.no_grad():
        image = vae.decode(vae_latents / vae.config.scaling_factor).sample
    refs["vae.latents"] = vae_latents
    refs["vae.image"] = (image / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)

    # Pipelines on precomputed embeddings, output_type="latent", 16×16 images (8×8 latents).
    prompt = torch.randn(1, 77, 24, generator=g)
    prompt_pooled = torch.randn(1, 12, generator=g)
    negative = torch.randn(1, 77, 24, generator=g)
    negative_pooled = torch.randn(1, 12, generator=g)
    refs.update({"pipe.prompt": prompt, "pipe.prompt_pooled": prompt_pooled, "pipe.negative": negative,
                 "pipe.negative_pooled": negative_pooled})

    def run(name, model, scheduler, steps, guidance, seed, **kw):
        p = StableDiffusionXLPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None, tokenizer_2=None,
                                      unet=model, scheduler=scheduler, force_zeros_for_empty_prompt=True)
        with torch.no_grad():
            refs[name] = p(prompt_embeds=prompt, pooled_prompt_embeds=prompt_pooled, height=16, width=16,
                           num_inference_steps=steps, guidance_scale=guidance, output_type="latent",
                           generator=torch.Generator().manual_seed(seed), **kw).images

    # Euler "leading", CFG against zeros (no negative prompt: force_zeros_for_empty_prompt).
    run("pipe.euler", unet, EulerDiscreteScheduler.from_config(SDXL_SCHEDULER), 3, 5.0, 11)
    # DPM-Solver++ 2M with an explicit negative and non-default micro-conditioning.
    run("pipe.dpm", unet, DPMSolverMultistepScheduler.from_config(SDXL_SCHEDULER), 3, 4.0, 12,
        negative_prompt_embeds=negative, negative_pooled_prompt_embeds=negative_pooled,
        original_size=(64, 48), crops_coords_top_left=(4, 8), target_size=(32, 32))
    # LCM: 4 steps, guidance 3 as a w-embedding (no CFG).
    run("pipe.lcm", lcm_unet, LCMScheduler.from_config(SDXL_SCHEDULER), 4, 3.0, 13)

    # The hybrid hand-off: LCM server steps 0..<k of 4, then the KOALA-shaped device continues
    # with DPM-Solver++ 2M (10 steps) from device step j, fresh solver history, with CFG 5.
    lcm = LCMScheduler.from_config(SDXL_SCHEDULER)
    lcm.set_timesteps(4)
    k, device_steps, j, g_server, g_device = 2, 10, 5, 3.0, 5.0
    gen = torch.Generator().manual_seed(14)
    x = torch.randn(1, 4, 8, 8, generator=gen) * lcm.init_noise_sigma
    time1 = torch.tensor([[16., 16., 0., 0., 16., 16.]])
    w_emb = pipe.get_guidance_scale_embedding(torch.tensor([g_server - 1]), embedding_dim=8)
    with torch.no_grad():
        for t in lcm.timesteps[:k]:
            eps = lcm_unet(x, t, encoder_hidden_states=prompt, timestep_cond=w_emb,
                           added_cond_kwargs={"text_embeds": prompt_pooled, "time_ids": time1}).sample
            x = lcm.step(eps, t, x, generator=gen).prev_sample
        refs["handoff.server_latents"] = x.clone()
        dpm = DPMSolverMultistepScheduler.from_config(SDXL_SCHEDULER)
        dpm.set_timesteps(device_steps)
        both = torch.cat([torch.zeros_like(prompt), prompt])
        both_pooled = torch.cat([torch.zeros_like(prompt_pooled), prompt_pooled])
        for t in dpm.timesteps[j:]:
            e = koala(torch.cat([x, x]), t, encoder_hidden_states=both,
                      added_cond_kwargs={"text_embeds": both_pooled, "time_ids": torch.cat([time1, time1])}).sample
            u, c = e.chunk(2)
            x = dpm.step(u + g_device * (c - u), t, x).prev_sample
    refs["handoff.latents"] = x
    refs["handoff.lcm_timesteps"] = lcm.timesteps.float()
    refs["handoff.device_timesteps"] = dpm.timesteps.float()
    save_file({k: v.contiguous().float() for k, v in refs.items()}, os.path.join(ROOT, "reference.safetensors"),
              metadata={"handoff": json.dumps({"k": k, "device_steps": device_steps, "j": j, "server_guidance": g_server,
                                              "device_guidance": g_device, "seed": 14, "server_steps": 4})})


if __name__ == "__main__":
    main()
