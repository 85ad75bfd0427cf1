#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (one executable per decoder, Swift with
# -sanitize=fuzzer,address) straight from the module sources, then runs them.
#
#   scripts/fuzz.sh [TARGET] [--seconds S] [--runs N] [--timeout S] [--build-only]
#
# TARGET is a folder name under Fuzz/ (default: every target). Each run starts from the
# committed seed corpus Fuzz/TARGET/corpus plus the inputs earlier runs found (kept in
# .build-fuzz/corpus/TARGET, never in the repository); a crash, leak or hang (a single input over
# --timeout seconds of wall-clock time, default 60; raise it for campaigns run under nice on a
# busy machine, where a starved process can take that long for a fast input) fails the run and
# leaves its input in .build-fuzz/artifacts/TARGET/. Only the modules the
# targets need are compiled (not Hummingbird or the models), so `swift build`/`swift test` are
# untouched and CI's short runs stay within a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swiftc >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH

target="" seconds=30 runs="" timeout=60 build_only=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --timeout) timeout="$2"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) target="$1"; shift ;;
    esac
done
targets=$(ls Fuzz | grep -v '\.' || true)
if [[ -n $target ]]; then
    [[ -d Fuzz/$target ]] || { echo "fuzz.sh: no target Fuzz/$target (have: $(echo $targets))" >&2; exit 2; }
    targets=$target
fi

root=$PWD
out=$root/.build-fuzz
mkdir -p "$out/lib" "$out/CKernels"
sanitized=(-O -g -parse-as-library -sanitize=fuzzer,address -swift-version 5)

# Module sources, one static library each. The kernels and TensorCore are compiled without
# instrumentation: the config target links WeightStore's types but never runs a kernel.
library() {  # name, flags…, sources…
    local name=$1; shift
    swiftc -emit-library -static -emit-module -module-name "$name" -I "$out/lib" -I "$out/CKernels" \
        -emit-module-path "$out/lib/$name.swiftmodule" -o "$out/lib/lib$name.a" "$@"
}
bundle_shim() {  # module source folder → a Bundle.module pointing at its resources
    local file=$out/$(basename "$1")-bundle.swift
    printf 'import Foundation\nextension Foundation.Bundle {\n    /// The module'"'"'s resources in the checkout (SwiftPM generates this accessor; fuzz builds do not use SwiftPM).\n    static let module = Bundle(path: "%s")!\n}\n' "$root/$1" > "$file"
    echo "$file"
}

# Up to date: every requested target's executable is newer than every source it is built from
# (and this script), so a long campaign started after a short run does not rebuild for minutes.
up_to_date=1
for t in $targets; do
    [[ -x $out/fuzz-$t ]] || { up_to_date=0; break; }
    if [[ -n $(find Fuzz/$t Sources/SafeTensors Sources/SharedSettings Sources/WireProtocol Sources/Privacy Sources/Diffusion Sources/TensorCore \
                    Sources/CKernels scripts/fuzz.sh -newer "$out/fuzz-$t" -print -quit) ]]; then up_to_date=0; break; fi
done
if [[ $up_to_date == 1 ]]; then
    echo "fuzz.sh: targets up to date"
    [[ $build_only == 1 ]] && exit 0
else
echo "fuzz.sh: building modules"
started=$SECONDS
kernels() {
    printf 'module CKernels {\n    header "%s/Sources/CKernels/include/ckernels.h"\n    export *\n}\n' "$root" > "$out/CKernels/module.modulemap"
    local objects=() c o
    for c in Sources/CKernels/*.c; do
        o=$out/CKernels/$(basename "$c" .c).o
        clang -O2 -fno-math-errno -ffp-contract=off -I Sources/CKernels/include -c "$c" -o "$o"
        objects+=("$o")
    done
    ar rcs "$out/lib/libCKernels.a" "${objects[@]}"
    library TensorCore -O -parse-as-library -swift-version 5 Sources/TensorCore/*.swift
}
wire() {
    library SafeTensors "${sanitized[@]}" Sources/SafeTensors/*.swift
    library SharedSettings "${sanitized[@]}" Sources/SharedSettings/*.swift
    library WireProtocol "${sanitized[@]}" Sources/WireProtocol/*.swift
}
# The parsers of Diffusion (model configs, schedulers, model directory, weight index, CLIP
# tokenizer) as a module of that name, without the models.
parsers() {
    local D=Sources/Diffusion
    library Diffusion "${sanitized[@]}" \
        $D/UNet/UNetConfiguration.swift $D/UNet/UNetError.swift $D/UNet/UNetPresets.swift \
        $D/TextEncoder/CLIPTextConfiguration.swift $D/TextEncoder/TextEncoderError.swift \
        $D/VAE/AutoencoderKLConfiguration.swift $D/Schedulers/*.swift $D/Random/*.swift $D/Loading/LoadError.swift \
        $D/Loading/ModelDirectory.swift $D/Loading/WeightStore.swift $D/Loading/RandomWeights.swift \
        $D/Tokenizer/*.swift $D/BundledResources.swift "$(bundle_shim $D)"
}
# Independent chains in parallel (two cores); `wait PID` carries each chain's failure.
kernels & k=$!
wire & w=$!
library Privacy "${sanitized[@]}" Sources/Privacy/*.swift "$(bundle_shim Sources/Privacy)" & p=$!
wait $k; wait $w
parsers
wait $p
libraries=(-lDiffusion -lPrivacy -lWireProtocol -lSharedSettings -lSafeTensors -lTensorCore -lCKernels)
for t in $targets; do
    swiftc "${sanitized[@]}" -I "$out/lib" -I "$out/CKernels" Fuzz/$t/*.swift -L "$out/lib" "${libraries[@]}" -o "$out/fuzz-$t" 2>&1 \
        | grep -v "Cannot export local symbol" || true
    [[ -x $out/fuzz-$t ]] || { echo "fuzz.sh: building $t failed" >&2; exit 1; }
done
echo "fuzz.sh: built $(echo $targets | wc -w) targets in $((SECONDS - started)) s"
[[ $build_only == 1 ]] && exit 0
fi

status=0
for t in $targets; do
    mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
    limit=(-max_total_time="$seconds")
    [[ -n $runs ]] && limit=(-runs="$runs")
    log=$out/fuzz-$t.log
    set +e
    # Inputs up to 64 KiB, but 4 KiB for the tokenizer: the target encodes every text in full,
    # and BPE is quadratic in a word's length (a 16 KiB word is seconds); the server never
    # encodes such a word (CLIPTokenizer.tokenCount stops first), the device only its own prompt.
    max_len=65536
    [[ $t == CLIPTokenizer ]] && max_len=4096
    "$out/fuzz-$t" "$out/corpus/$t" "Fuzz/$t/corpus" "${limit[@]}" -timeout="$timeout" -rss_limit_mb=4096 -max_len=$max_len \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" > "$log" 2>&1
    code=$?
    set -e
    executions=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    if [[ $code == 0 ]]; then
        echo "fuzz $t: ${executions:-?} executions, 0 crashes, 0 leaks, 0 time-outs ($(ls "$out/corpus/$t" | wc -l) corpus inputs found)"
    else
        echo "fuzz $t: FAILED after ${executions:-?} executions (exit $code); last lines of $log:" >&2
        grep -E "ERROR|SUMMARY|Test unit written|panic|Fatal error|Assertion" "$log" | head -20 >&2
        status=1
    fi
done
exit $status
