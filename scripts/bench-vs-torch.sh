#!/usr/bin/env bash
# obclip next to PyTorch/diffusers on the same architectures with random weights (issue #7's
# table), one row at a time, obclip then PyTorch, so drift of the shared machine hits both sides
# alike. Each side of each row runs in its own process, so its peak RSS is that row's.
#
# Usage: scripts/bench-vs-torch.sh [--rows LIST] [--size PIXELS] [--repeats N] [--warmup N]
#                                  [--precision fp32|f16|bf16] [--torch-bf16] [--no-torch]
#   --rows       comma-separated, from: sd15:1 sd15:2 sd15:12 bk-sdm-small:1 bk-sdm-small:2
#                bk-sdm-small:12 vae text-encoder (ARCH:BATCH is a UNet row; default: all)
#   --size       image size in pixels (default 512, i.e. 64×64 latents)
#   --repeats    timed forwards per row and side (default 2); --warmup untimed first (default 1)
#   --precision  obclip's weight storage (default fp32); --torch-bf16 runs PyTorch under bf16 autocast
#   --no-torch   obclip only
# Quick check: scripts/bench-vs-torch.sh --rows bk-sdm-small:1,text-encoder --size 128 --repeats 1 --warmup 0
# The full table takes about 40 minutes of both cores.
set -euo pipefail
cd "$(dirname "$0")/.."

rows="sd15:1,sd15:2,sd15:12,bk-sdm-small:1,bk-sdm-small:2,bk-sdm-small:12,vae,text-encoder"
size=512 repeats=2 warmup=1 precision=fp32 torch_flags=() torch=1
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) rows=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --precision) precision=$2; shift 2 ;;
        --torch-bf16) torch_flags=(--bf16); shift ;;
        --no-torch) torch=0; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-vs-torch: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$torch" = 1 ] && ! python3 -c "import torch, diffusers, transformers" 2>/dev/null; then
    echo "PyTorch/diffusers/transformers are not importable by python3; measuring obclip only." >&2
    echo "Install them with: pip install --break-system-packages torch diffusers transformers" >&2
    echo "  (CPU-only wheels: add --index-url https://download.pytorch.org/whl/cpu for torch)" >&2
    torch=0
fi

swift build -c release --product obclip 2>&1 | grep -E "error" || true
obclip="$(swift build -c release --show-bin-path)/obclip"
common=(--repeats "$repeats" --warmup "$warmup")

# Prints "median min max rss" parsed from a result line of either side (or "- - - -").
parse() {
    local line=$1
    local median min max rss
    median=$(sed -nE 's/.*median ([0-9.]+) s.*/\1/p' <<<"$line")
    min=$(sed -nE 's/.*\(min ([0-9.]+),.*/\1/p' <<<"$line")
    max=$(sed -nE 's/.*, max ([0-9.]+),.*/\1/p' <<<"$line")
    rss=$(sed -nE 's/.*peak RSS ([0-9.]+) GiB.*/\1/p' <<<"$line")
    echo "${median:--} ${min:--} ${max:--} ${rss:--}"
}

table=()
for row in ${rows//,/ }; do
    case "$row" in
        vae)
            label="VAE decode $((size / 8))→$size"
            ours=("$obclip" bench vae --size "$size" --precision "$precision" "${common[@]}")
            theirs=(python3 tools/bench_torch_models.py vae --size "$size") ;;
        text-encoder)
            label="CLIP text encoder (77 tokens)"
            ours=("$obclip" bench text-encoder --precision "$precision" "${common[@]}")
            theirs=(python3 tools/bench_torch_models.py text-encoder) ;;
        *:*)
            arch=${row%%:*} batch=${row##*:}
            label="UNet $arch batch $batch, $((size / 8))×$((size / 8))"
            ours=("$obclip" bench unet --arch "$arch" --batch "$batch" --size "$size" --precision "$precision" "${common[@]}")
            theirs=(python3 tools/bench_torch_models.py unet --arch "$arch" --batch "$batch" --size "$size") ;;
        *) echo "bench-vs-torch: unknown row $row (see --help)" >&2; exit 2 ;;
    esac
    echo "== $label"
    line=$("${ours[@]}" 2>&1 | grep "per forward" || echo "obclip failed")
    echo "$line"
    read -r om omin omax orss <<<"$(parse "$line")"
    tm=- tmin=- tmax=- trss=- ratio=-
    if [ "$torch" = 1 ]; then
        line=$("${theirs[@]}" --repeat "$repeats" --warmup "$warmup" "${torch_flags[@]}" 2>&1 | grep "per forward" || echo "torch failed")
        echo "$line"
        read -r tm tmin tmax trss <<<"$(parse "$line")"
        if [ "$om" != - ] && [ "$tm" != - ]; then ratio=$(awk -v a="$om" -v b="$tm" 'BEGIN { printf "%.2f", a / b }'); fi
    fi
    table+=("| $label | $om ($omin–$omax) | $tm ($tmin–$tmax) | $ratio | $orss | $trss |")
done

torch_kind="fp32"; [ ${#torch_flags[@]} -gt 0 ] && torch_kind="bf16 autocast"
echo
echo "obclip weights $precision, PyTorch $torch_kind; seconds per forward: median (min–max) of $repeats after $warmup warm-up; $(nproc) cores"
echo "| row | obclip s | PyTorch s | ratio obclip/PyTorch | obclip peak RSS GiB | PyTorch peak RSS GiB |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
