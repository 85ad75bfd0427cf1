#!/usr/bin/env python3
"""Reference fixtures for obclip's schedulers and torch-compatible random generator.

Writes Tests/DiffusionTests/Fixtures/schedulers/{schedulers,randn}.safetensors from diffusers and
PyTorch (CPU). Run by developers only (`python3 tools/fixtures_schedulers.py`); the Swift tests
read the committed output.

schedulers.safetensors — for each case (scheduler × config variant × step count), built with
diffusers' `from_config` from SD1.5's PNDM scheduler config plus overrides:
  <case>/timesteps, <case>/sigmas (if the scheduler has them), <case>/model_inputs (the
  `scale_model_input` result of every call), <case>/model_outputs (a deterministic fake model
  output per call), <case>/samples (initial latents then the result of every step).
The initial latents are `torch.randn(shape, generator=g) * init_noise_sigma` and the same
generator `g` is passed to every `step`, so stochastic samplers' noise is covered too.
Metadata `cases` is a JSON list of {name, kind, steps, seed, init_noise_sigma, config}.
Also `alphas_cumprod/<beta_schedule>` for the training schedules.

randn.safetensors — torch.randn references for several seeds and sizes, including consecutive
draws on one generator (`<case>/draw<i>`), for PyTorch's AVX2 kernel (this machine) and, via a
subprocess with ATEN_CPU_CAPABILITY=default, for its generic kernel (`generic/...`).
"""
import json
import os
import subprocess
import sys

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "DiffusionTests", "Fixtures", "schedulers")

SD15 = {
    "_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
    "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
    "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
}

RANDN_CASES = [  # (seed, [sizes drawn consecutively from one generator])
    (0, [7]), (0, [16]), (0, [17]), (42, [64]), (1234, [4 * 64 * 64]),
    (7, [7, 7, 3, 17, 5]), (2**32 + 5, [33, 1, 16]), (123456789, [1000, 2, 31]),
]


def randn_tensors(prefix):
    tensors, cases = {}, []
    for seed, sizes in RANDN_CASES:
        g = torch.Generator().manual_seed(seed)
        name = f"{prefix}seed{seed}_" + "_".join(map(str, sizes))
        for i, n in enumerate(sizes):
            tensors[f"{name}/draw{i}"] = torch.randn(n, generator=g).contiguous()
        cases.append({"name": name, "seed": seed, "sizes": sizes})
    return tensors, cases


def fake_model_output(sample_in, t, call):
    """A smooth, sample-dependent stand-in for the UNet's ε (any deterministic function works)."""
    k = torch.arange(sample_in.numel(), dtype=torch.float32).reshape(sample_in.shape)
    return (0.6 * sample_in + 0.3 * torch.sin(k * 0.37 + float(t) / 97.0 + call)).to(torch.float32)


def scheduler_cases():
    from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                           EulerDiscreteScheduler, LCMScheduler, PNDMScheduler)
    kinds = {"ddim": DDIMScheduler, "pndm": PNDMScheduler, "euler": EulerDiscreteScheduler,
             "euler-a": EulerAncestralDiscreteScheduler, "dpm++2m": DPMSolverMultistepScheduler, "lcm": LCMScheduler}
    variants = [(kind, "sd15", {}) for kind in kinds] + [
        ("euler", "karras", {"use_karras_sigmas": True}),
        ("euler", "leading", {"timestep_spacing": "leading"}),
        ("dpm++2m", "karras", {"use_karras_sigmas": True}),
        ("dpm++2m", "vpred", {"prediction_type": "v_prediction"}),
        ("dpm++2m", "heun", {"solver_type": "heun"}),
        ("ddim", "trailing", {"timestep_spacing": "trailing"}),
        ("ddim", "vpred_clip", {"prediction_type": "v_prediction", "clip_sample": True}),
        ("euler-a", "trailing", {"timestep_spacing": "trailing"}),
        ("pndm", "linspace", {"timestep_spacing": "linspace"}),
    ]
    shape = (1, 4, 2, 4)
    tensors, cases = {}, []
    for kind, variant, overrides in variants:
        for steps in (4, 10, 25):
            config = dict(SD15, **overrides)
            scheduler = kinds[kind].from_config(config)
            scheduler.set_timesteps(steps)
            seed = 1000 + steps
            g = torch.Generator().manual_seed(seed)
            sample = torch.randn(shape, generator=g) * scheduler.init_noise_sigma
            name = f"{kind}/{variant}/{steps}"
            inputs, outputs, samples = [], [], [sample]
            for call, t in enumerate(scheduler.timesteps):
                model_in = scheduler.scale_model_input(sample, t)
                eps = fake_model_output(model_in, t, call)
                extra = {"generator": g} if kind in ("euler-a", "lcm") else {}
                sample = scheduler.step(eps, t, sample, return_dict=False, **extra)[0]
                inputs.append(model_in); outputs.append(eps); samples.append(sample)
            tensors[f"{name}/timesteps"] = scheduler.timesteps.to(torch.float32).contiguous()
            if hasattr(scheduler, "sigmas") and kind in ("euler", "euler-a", "dpm++2m"):
                tensors[f"{name}/sigmas"] = scheduler.sigmas.to(torch.float32).contiguous()
            tensors[f"{name}/model_inputs"] = torch.stack(inputs).contiguous()
            tensors[f"{name}/model_outputs"] = torch.stack(outputs).contiguous()
            tensors[f"{name}/samples"] = torch.stack(samples).contiguous()
            cases.append({"name": name, "kind": kind, "steps": steps, "seed": seed,
                          "init_noise_sigma": float(scheduler.init_noise_sigma), "config": config})
    for schedule in ("linear", "scaled_linear", "squaredcos_cap_v2"):
        s = DDIMScheduler.from_config(dict(SD15, beta_schedule=schedule))
        tensors[f"alphas_cumprod/{schedule}"] = s.alphas_cumprod.to(torch.float32).contiguous()
    return tensors, cases


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--generic-randn":
        tensors, cases = randn_tensors("generic/")
        save_file(tensors, sys.argv[2], metadata={"cases": json.dumps(cases)})
        return
    os.makedirs(OUT, exist_ok=True)
    assert torch.backends.cpu.get_cpu_capability() == "AVX2", "run on an AVX2 machine without AVX-512"
    tensors, cases = randn_tensors("avx2/")
    generic_path = os.path.join(OUT, "randn_generic.tmp.safetensors")
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    subprocess.run([sys.executable, __file__, "--generic-randn", generic_path], env=env, check=True)
    from safetensors.torch import load_file
    from safetensors import safe_open
    tensors.update(load_file(generic_path))
    with safe_open(generic_path, "pt") as f:
        generic_cases = json.loads(f.metadata()["cases"])
    os.remove(generic_path)
    save_file(tensors, os.path.join(OUT, "randn.safetensors"),
              metadata={"avx2": json.dumps(cases), "generic": json.dumps(generic_cases)})

    tensors, cases = scheduler_cases()
    save_file(tensors, os.path.join(OUT, "schedulers.safetensors"), metadata={"cases": json.dumps(cases)})


if __name__ == "__main__":
    main()
