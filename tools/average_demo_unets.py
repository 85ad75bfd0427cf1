#!/usr/bin/env python3
"""Averages one demo UNet's weights between two bundles that were fine-tuned from the same start.

Writes (1 - weight) * FROM + weight * TO into OUT's <model>/unet/ (fp16, as the bundle keeps
it) and records the average in OUT/training_summary.json. Two fine-tunings of one model lie in
one basin, so their weight average is a model too, often better than either ("model soups",
Wortsman et al. 2022, arXiv 2203.05482). The bundled server UNet is such an average: the
previous UNet drew the middle skin tones too dark under guidance 7.5, its longer fine-tuning
too light, and the average neither (Models/demo-server/MODEL_CARD.md, where the weight was
chosen on a validation world seed).

    python3 tools/average_demo_unets.py --from /tmp/prev --to /tmp/run-server --weight 0.75 --out Models
"""
import argparse
import json
import os

from safetensors.torch import load_file, save_file

WEIGHTS = os.path.join("unet", "diffusion_pytorch_model.safetensors")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="start", required=True, help="bundle (an --out of train_demo_models.py) weighted 1 - weight")
    parser.add_argument("--to", required=True, help="bundle weighted `weight`")
    parser.add_argument("--weight", type=float, required=True, help="share of --to, in [0, 1]")
    parser.add_argument("--model", default="demo-server", choices=["demo-server", "demo-device"])
    parser.add_argument("--out", required=True, help="bundle whose <model>/unet/ weights are replaced")
    args = parser.parse_args()
    if not 0 <= args.weight <= 1:
        raise SystemExit(f"--weight {args.weight}: must lie in [0, 1]")

    configs = [json.load(open(os.path.join(d, args.model, "unet", "config.json"))) for d in (args.start, args.to)]
    if configs[0] != configs[1]:
        raise SystemExit(f"{args.model}/unet/config.json differs between --from and --to: not the same architecture")
    a, b = (load_file(os.path.join(d, args.model, WEIGHTS)) for d in (args.start, args.to))
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise SystemExit(f"{args.model}/{WEIGHTS}: the two bundles hold different tensors")
    averaged = {k: ((1 - args.weight) * a[k].float() + args.weight * b[k].float()).half().contiguous() for k in a}
    save_file(averaged, os.path.join(args.out, args.model, WEIGHTS), metadata={"format": "pt"})

    summary_path = os.path.join(args.out, "training_summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
    summary.setdefault("averaged", {})[args.model] = {"from": args.start, "to": args.to, "weight_of_to": args.weight}
    json.dump(summary, open(summary_path, "w"), indent=2)
    print(f"{args.model}/unet = {1 - args.weight:g} x {args.start} + {args.weight:g} x {args.to} -> {args.out}")


if __name__ == "__main__":
    main()
