#!/usr/bin/env bash
# obclip next to its CPU peers, OpenVINO and PyTorch/diffusers, on the same architectures with
# random weights (issues #7 and #19). Each row runs every precision, obclip then OpenVINO then
# PyTorch, so drift of the shared machine hits all sides alike. Each side of each measurement
# runs in its own process, so its peak RSS is that measurement's (OpenVINO's conversion runs in a
# child process and is cached in /tmp/obclip-openvino-ir, so it is neither timed nor counted).
#
# Usage: scripts/bench-peers.sh [--rows LIST] [--precisions LIST] [--size PIXELS]
#                               [--repeats N] [--warmup N] [--no-torch] [--no-openvino] [--lock FILE]...
#   --rows        comma-separated, from: sd15:1 sd15:2 sd15:12 bk-sdm-small:1 bk-sdm-small:2
#                 bk-sdm-small:12 vae text-encoder (default: all). ARCH:BATCH is a UNet row for
#                 any architecture both sides build (sd15, bk-sdm-*, sdxl, koala-700m, koala-1b,
#                 ssd-1b, vega); ARCH:BATCH@PIXELS gives that row its own image size
#   --precisions  obclip precisions, each measured next to its peers: fp32 (OpenVINO inference
#                 precision f32, PyTorch fp32), bf16 (OpenVINO INFERENCE_PRECISION_HINT bf16,
#                 PyTorch with the model and inputs in bf16), f16 (both peers fp32: f16 is a
#                 weight-storage format here). Default: fp32,bf16
#   --size        image size in pixels (default 512, i.e. 64×64 latents)
#   --repeats     timed forwards per measurement (default 3); --warmup untimed first (default 1)
#   --no-torch, --no-openvino   leave that peer out
#   --lock FILE   run each measurement under `flock FILE`; repeat for several locks, taken in the
#                 order given (a shared machine's big-memory and benchmark locks)
# Peers (developers only): pip install torch diffusers transformers openvino
# Quick check: scripts/bench-peers.sh --rows bk-sdm-small:1,text-encoder --size 128 --repeats 1 --warmup 0
# The full table takes about two hours of both cores; run it on a quiet machine. OpenVINO's SD1.5
# rows peak near 7 GiB: on a shared machine pass --lock with its big-memory lock file.
# The SDXL family at 1024² (issue #13; OpenVINO left out: converting SDXL traces a 10 GB fp32
# model), each batch-12 forward minutes long, so one timed forward and no warm-up there:
#   scripts/bench-peers.sh --no-openvino --rows sdxl:1@1024,koala-700m:1@1024 --repeats 2 --warmup 1
#   scripts/bench-peers.sh --no-openvino --rows sdxl:12@1024,koala-700m:12@1024 --repeats 1 --warmup 0
# On a kernel with sched_autogroup_enabled=1, `nice` only ranks processes of one session; to give
# the measurements the CPU over other sessions' work, raise this session's autogroup first
# (e.g. `setsid bash -c 'echo -20 > /proc/self/autogroup; exec scripts/bench-peers.sh …'`).
set -euo pipefail
cd "$(dirname "$0")/.."

rows="sd15:1,sd15:2,sd15:12,bk-sdm-small:1,bk-sdm-small:2,bk-sdm-small:12,vae,text-encoder"
precisions="fp32,bf16" size=512 repeats=3 warmup=1 torch=1 openvino=1 locks=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) rows=$2; shift 2 ;;
        --precisions) precisions=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --repeats) repeats=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --no-torch) torch=0; shift ;;
        --no-openvino) openvino=0; shift ;;
        --lock) locks+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-peers: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for p in ${precisions//,/ }; do
    case "$p" in fp32|f16|bf16) ;; *) echo "bench-peers: unknown precision $p (fp32, f16, bf16)" >&2; exit 2 ;; esac
done

if [ "$torch" = 1 ] && ! python3 -c "import torch, diffusers, transformers" 2>/dev/null; then
    echo "PyTorch/diffusers/transformers are not importable by python3; measuring obclip only." >&2
    echo "Install them with: pip install --break-system-packages torch diffusers transformers" >&2
    echo "  (CPU-only wheels: add --index-url https://download.pytorch.org/whl/cpu for torch)" >&2
    torch=0
fi
if [ "$openvino" = 1 ] && ! python3 -c "import openvino, torch, diffusers, transformers" 2>/dev/null; then
    echo "OpenVINO (with torch/diffusers/transformers to convert from) is not importable; leaving it out." >&2
    echo "Install it with: pip install --break-system-packages openvino torch diffusers transformers" >&2
    openvino=0
fi

swift build -c release --product obclip 2>&1 | grep -E "error" || true
obclip="$(swift build -c release --show-bin-path)/obclip"
common=(--repeats "$repeats" --warmup "$warmup")
measure() {
    local held=()
    for lock in "${locks[@]}"; do held+=(flock "$lock"); done
    "${held[@]}" "$@"
}

# Prints "median min max rss cpu" parsed from a result line of either side (or "- - - - -").
parse() {
    local line=$1
    local median min max rss cpu
    median=$(sed -nE 's/.*median ([0-9.]+) s.*/\1/p' <<<"$line")
    min=$(sed -nE 's/.*\(min ([0-9.]+),.*/\1/p' <<<"$line")
    max=$(sed -nE 's/.*, max ([0-9.]+),.*/\1/p' <<<"$line")
    rss=$(sed -nE 's/.*peak RSS ([0-9.]+) GiB.*/\1/p' <<<"$line")
    cpu=$(sed -nE 's/.*CPU ([0-9.]+) s per forward.*/\1/p' <<<"$line")
    echo "${median:--} ${min:--} ${max:--} ${rss:--} ${cpu:--}"
}
ratio() { if [ "$1" != - ] && [ "$2" != - ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else echo -; fi; }

table=() speedups=() isa="kernels ?"
for row in ${rows//,/ }; do
    case "$row" in
        vae)
            label="VAE decode $((size / 8))→$size"
            ours=("$obclip" bench vae --size "$size")
            peer_args=(vae --size "$size") ;;
        text-encoder)
            label="CLIP text encoder (77 tokens)"
            ours=("$obclip" bench text-encoder)
            peer_args=(text-encoder) ;;
        *:*)
            arch=${row%%:*} batch=${row#*:} pixels=$size
            case "$batch" in *@*) pixels=${batch#*@} batch=${batch%@*} ;; esac
            label="UNet $arch batch $batch, $((pixels / 8))×$((pixels / 8))"
            ours=("$obclip" bench unet --arch "$arch" --batch "$batch" --size "$pixels")
            peer_args=(unet --arch "$arch" --batch "$batch" --size "$pixels") ;;
        *) echo "bench-peers: unknown row $row (see --help)" >&2; exit 2 ;;
    esac
    fp32_median=-
    for precision in ${precisions//,/ }; do
        echo "== $label, $precision (load average $(cut -d" " -f1-3 /proc/loadavg))"
        line=$(measure "${ours[@]}" --precision "$precision" "${common[@]}" 2>&1 | grep "per forward" || echo "obclip failed")
        echo "$line"
        read -r om omin omax orss ocpu <<<"$(parse "$line")"
        isa=$(grep -o 'kernels [a-z0-9]*' <<<"$line" || echo "kernels ?")
        flags=() peer=fp32
        [ "$precision" = bf16 ] && flags=(--bf16) && peer=bf16
        vm=- vmin=- vmax=- vrss=- vcpu=-
        if [ "$openvino" = 1 ]; then
            line=$(measure python3 tools/bench_openvino_models.py "${peer_args[@]}" --repeat "$repeats" --warmup "$warmup" "${flags[@]}" 2>&1 | grep "per forward" || echo "openvino failed")
            echo "$line"
            read -r vm vmin vmax vrss vcpu <<<"$(parse "$line")"
        fi
        tm=- tmin=- tmax=- trss=- tcpu=-
        if [ "$torch" = 1 ]; then
            line=$(measure python3 tools/bench_torch_models.py "${peer_args[@]}" --repeat "$repeats" --warmup "$warmup" "${flags[@]}" 2>&1 | grep "per forward" || echo "torch failed")
            echo "$line"
            read -r tm tmin tmax trss tcpu <<<"$(parse "$line")"
        fi
        table+=("| $label | $precision / $peer | $om ($omin–$omax) | $vm ($vmin–$vmax) | $tm ($tmin–$tmax) | $(ratio "$om" "$vm") | $(ratio "$om" "$tm") | $ocpu / $vcpu / $tcpu | $orss / $vrss / $trss |")
        [ "$precision" = fp32 ] && fp32_median=$om
        [ "$precision" != fp32 ] && [ "$fp32_median" != - ] && speedups+=("| $label | $precision | $(ratio "$fp32_median" "$om")× |")
    done
done

echo
echo "seconds per forward: median (min–max) of $repeats after $warmup warm-up; $(nproc) cores; obclip $isa"
echo "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //'); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| row | obclip / peer precision | obclip s | OpenVINO s | PyTorch s | obclip/OpenVINO | obclip/PyTorch | CPU s per forward obclip / OpenVINO / PyTorch | peak RSS GiB obclip / OpenVINO / PyTorch |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${table[@]}"
if [ ${#speedups[@]} -gt 0 ]; then
    echo
    echo "| row | obclip precision | speed-up over obclip fp32 |"
    echo "|---|---|---|"
    printf '%s\n' "${speedups[@]}"
fi
