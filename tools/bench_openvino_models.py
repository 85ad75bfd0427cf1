#!/usr/bin/env python3
"""OpenVINO peer for obclip's model benchmarks: the same random-weight diffusers/transformers
models as tools/bench_torch_models.py (its `build_case`), converted with `openvino.convert_model`
and run by the CPU plugin at f32 or bf16 inference precision, 2 threads, one stream.

Prints one line per measurement in the format `scripts/bench-peers.sh` parses. Needs (developers
only): pip install torch diffusers transformers openvino.

  python3 tools/bench_openvino_models.py unet --arch sd15 --batch 1 --size 512 --repeat 3
  python3 tools/bench_openvino_models.py vae --size 512 --bf16
  python3 tools/bench_openvino_models.py text-encoder

The conversion runs in a child process that saves the IR (f32 weights) under --cache, so the peak
RSS this process reports is OpenVINO's compile-and-infer alone (not PyTorch's copy of the model or
the tracer's), and the f32 and bf16 runs of a row convert once.
"""
import multiprocessing, os, pathlib, tempfile

import numpy as np
import openvino as ov
import torch

from bench_torch_models import arguments, build_case, report, timed


def ir_path(cache, a):
    return pathlib.Path(cache) / f"{a.what}-{a.arch if a.what == 'unet' else 'x'}-b{a.batch}-s{a.size}.xml"


def convert(a, path):
    """Traces the f32 model on its example inputs, fixes the shapes to them, and saves the IR and
    the inputs (the IR last, as the mark of a finished conversion)."""
    with torch.no_grad():
        name, forward, inputs = build_case(a.what, a.arch, a.batch, a.size)
        model = ov.convert_model(forward, example_input=tuple(inputs))
    model.reshape({i: ov.PartialShape(list(t.shape)) for i, t in enumerate(inputs)})
    np.savez(path.with_suffix(".npz"), name=name, *[t.numpy() for t in inputs])
    tmp = path.with_suffix(".tmp.xml")
    ov.save_model(model, tmp, compress_to_fp16=False)  # keep f32 weights: precision is the plugin's choice
    tmp.with_suffix(".bin").rename(path.with_suffix(".bin"))
    tmp.rename(path)


def main():
    p = arguments("OpenVINO peer; --bf16 sets INFERENCE_PRECISION_HINT bf16 (else f32)")
    p.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "obclip-openvino-ir"),
                   help="directory of converted IR (default %(default)s)")
    a = p.parse_args()
    path = ir_path(a.cache, a)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        child = multiprocessing.get_context("spawn").Process(target=convert, args=(a, path))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"openvino: converting {a.what} failed (exit {child.exitcode})")
    saved = np.load(path.with_suffix(".npz"))
    name, inputs = str(saved["name"]), [saved[f"arr_{i}"] for i in range(len(saved.files) - 1)]
    precision = "bf16" if a.bf16 else "f32"
    compiled = ov.Core().compile_model(path, "CPU", {
        "INFERENCE_PRECISION_HINT": precision,
        "INFERENCE_NUM_THREADS": a.threads,
        "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY",
    })
    request = compiled.create_infer_request()
    report(f"{name} {precision}", timed(lambda: request.infer(inputs), a.repeat, a.warmup),
           peer="openvino", threads=compiled.get_property("INFERENCE_NUM_THREADS"))


if __name__ == "__main__":
    main()
