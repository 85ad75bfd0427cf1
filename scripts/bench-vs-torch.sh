#!/usr/bin/env bash
# obclip next to PyTorch/diffusers on the same architectures with random weights, alternating
# row by row so machine drift hits both sides alike. Needs: pip install torch diffusers transformers.
# Usage: scripts/bench-vs-torch.sh [SIZE]   (default 512, i.e. 64×64 latents)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512}
swift build -c release --product obclip 2>&1 | grep -E "error" || true
obclip="$(swift build -c release --show-bin-path)/obclip"
for row in "sd15 1" "bk-sdm-small 1" "sd15 2" "bk-sdm-small 2"; do
    set -- $row
    echo "== unet $1 batch $2"
    "$obclip" bench unet --arch "$1" --batch "$2" --size "$size" --repeats 2 2>/dev/null | grep "per forward"
    python3 tools/bench_torch_models.py unet --arch "$1" --batch "$2" --size "$size" --repeat 2
done
echo "== vae decode"
"$obclip" bench vae --size "$size" 2>/dev/null | grep "per forward"
python3 tools/bench_torch_models.py vae --size "$size" --repeat 1
echo "== text encoder"
"$obclip" bench text-encoder --repeats 3 2>/dev/null | grep "per forward"
python3 tools/bench_torch_models.py text-encoder --repeat 3
