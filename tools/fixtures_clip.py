#!/usr/bin/env python3
"""Reference fixtures for obclip's CLIP tokenizer, CLIP text encoder and safetensors reader.

Run by developers only (needs torch, transformers, safetensors, open_clip_torch from PyPI):

    python3 tools/fixtures_clip.py

Writes Tests/DiffusionTests/Fixtures/clip/:
  tokenizer_ids.json        prompts and the ids transformers' CLIPTokenizer gives them (77 each),
                            plus a sample of the vocabulary (token -> id) to check obclip's
                            bundled vocabulary against
  text_encoder/             a tiny random-weight CLIPTextModel with CLIP's real 49 408-token
                            vocabulary (config.json + model.safetensors; bf16 token embedding)
  text_encoder_outputs.safetensors
                            its last_hidden_state for a few prompts ("hidden.<i>", [1, 77, d])
  text_encoder_wide/        a second random model (3 heads of 16 channels, exact GELU, f16
                            weights, an I64 position_ids entry to be skipped) and
  text_encoder_wide_outputs.safetensors / text_encoder_wide_ids.json
                            its last_hidden_state for explicit id sequences
  interop.safetensors       a file written by the reference safetensors library (F32/F16/BF16/
                            I64 entries and metadata) and interop.json with its expected values

The tokenizer files themselves are not committed: the tokenizer directory is rebuilt here from
open_clip's bpe_simple_vocab_16e6.txt.gz (the same file obclip bundles) in the exact
transformers on-disk format, with the tokenizer config Stable Diffusion ships.
"""
import gzip
import json
import os
import tempfile

import numpy as np
import open_clip
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "DiffusionTests", "Fixtures", "clip")

PROMPTS = [
    "",
    "a photo of a cat",
    "A Photo Of A CAT",
    "a photograph of an astronaut riding a horse",
    "Portrait of a 35-year-old woman, oil painting, 4k, highly detailed",
    "hello   world",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nmixed",
    "don't stop believin'",
    "it's the dog's bone, they're here, we've been, I'm fine, you'll see, he'd go",
    "IT'S LOUD, DON'T SHOUT",
    "rock'n'roll",
    "'quoted' \"double quoted\" `backticks`",
    "punctuation!!! ??? ... ,,, ;;; :::",
    "a,b.c;d:e!f?g",
    "(parentheses) [brackets] {braces} <angles>",
    "email@example.com and https://example.com/path?q=1&r=2#frag",
    "#hashtag @mention $100 50% 3*4=12 a+b-c/d\\e",
    "1234567890",
    "3.14159 and 2,718 and 1e-10",
    "room 101, floor 7, year 2024",
    "café naïve résumé façade jalapeño",
    "Crème Brûlée à la française",
    "e\u0301cole (decomposed accent)",
    "Ünïcödé ÜBER straße STRASSE",
    "İstanbul ıi ΟΔΟΣ σοφός",
    "Привет, мир! Москва",
    "東京タワーの夜景",
    "中文提示：一只猫坐在窗台上。",
    "한국어 프롬프트",
    "مرحبا بالعالم",
    "שלום עולם",
    "हिन्दी पाठ",
    "ไทย ภาษา",
    "emoji 😀😃😄 party 🎉🎊",
    "thumbs 👍🏽 family 👨‍👩‍👧‍👦 flag 🇯🇵",
    "heart ❤️ star ⭐ check ✔︎",
    "math ∑∫√∞≠≤≥ ±×÷",
    "superscripts ¹²³ fractions ½¼ roman Ⅻ arabic-indic ٣٤",
    "full-width ＡＢＣ１２３ ideographic\u3000space",
    "non\u00a0breaking and zero\u200bwidth and narrow\u202fspace",
    "em—dash en–dash ellipsis… bullets • · ‣",
    "currency € £ ¥ ₹ ₿",
    "©®™ § ¶ † ‡",
    "a <|endoftext|> b",
    "<|startoftext|>prefix and <|STARTOFTEXT|> upper",
    "shout <|ENDOFTEXT|> not special",
    "x!<|endoftext|>",
    "under_score snake_case CamelCase kebab-case",
    "repeated aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa letters",
    "masterpiece, best quality, ultra-detailed, 8k uhd, dslr, soft lighting, film grain, Fujifilm XT3",
    "a red car; a blue car; a green car",
    "John Smith, a 45 year old doctor from Nigeria, smiling",
    "a woman wearing a hijab reading a book in a library",
    "an elderly man in a wheelchair at the beach at sunset",
    "a  b   c    d     e",
    "a\u2028line separator and\u2029paragraph",
    "control\u0001chars\u007fhere",
    "mixed123numbers456in789words",
    "v1.5 sd-xl 2.1-base",
    "ALLCAPS WORDS EVERYWHERE",
    "Ｆｕｌｌｗｉｄｔｈ Ｌａｔｉｎ",
    "ﬁ ligature ﬂ and Ⅷ",
    " ".join(["word"] * 90),
    " ".join(f"token{i}" for i in range(60)),
    "a very long prompt " + ", ".join(f"detail number {i} with some extra description" for i in range(30)),
    "😀" * 100,
]

# The tokenizer config of Stable Diffusion's tokenizer/ directory (openai/clip-vit-large-patch14).
TOKENIZER_CONFIG = {
    "add_prefix_space": False,
    "bos_token": {"__type": "AddedToken", "content": "<|startoftext|>", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    "do_lower_case": True,
    "eos_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    "errors": "replace",
    "model_max_length": 77,
    "pad_token": "<|endoftext|>",
    "tokenizer_class": "CLIPTokenizer",
    "unk_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
}
SPECIAL_TOKENS_MAP = {
    "bos_token": {"content": "<|startoftext|>", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    "eos_token": {"content": "<|endoftext|>", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    "pad_token": "<|endoftext|>",
    "unk_token": {"content": "<|endoftext|>", "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
}


def write_tokenizer_dir(path):
    """vocab.json + merges.txt exactly as in SD's tokenizer/, rebuilt from open_clip's BPE file."""
    bpe = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    lines = gzip.open(bpe).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
    vocab = list(open_clip.tokenizer.bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(path, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump(TOKENIZER_CONFIG, f, indent=2)
    with open(os.path.join(path, "special_tokens_map.json"), "w") as f:
        json.dump(SPECIAL_TOKENS_MAP, f, indent=2)
    return vocab


def tokenizer_fixture(tokenizer, vocab):
    ids = [tokenizer(p, padding="max_length", max_length=77, truncation=True).input_ids for p in PROMPTS]
    assert all(len(i) == 77 for i in ids)
    # Cross-check: open_clip's own tokenizer (ftfy-based clean-up) agrees on plain prompts.
    simple = open_clip.tokenizer.SimpleTokenizer()
    for p, i in zip(PROMPTS[:5], ids):
        ours = simple(p)[0].tolist()  # open_clip pads with 0 rather than <|endoftext|>
        end = ours.index(49407) + 1
        assert ours[:end] == i[:end] and set(i[end:]) <= {49407}, p
    rng = np.random.default_rng(0)
    sample_ids = sorted(set(rng.choice(len(vocab), 600, replace=False).tolist()) | set(range(256)) | set(range(49152 - 40, 49408)))
    hf_vocab = tokenizer.get_vocab()
    assert len(hf_vocab) == 49408
    sample = {vocab[i]: hf_vocab[vocab[i]] for i in sample_ids}
    with open(os.path.join(ROOT, "tokenizer_ids.json"), "w", encoding="utf-8") as f:
        json.dump({"prompts": PROMPTS, "ids": ids, "vocabulary_sample": sample}, f, ensure_ascii=False, indent=0)


def rounded_state(model, dtypes):
    """Rounds each parameter to its storage dtype (chosen by `dtypes(name)`) in place; returns the
    state dict to save, so the reference runs on exactly the weights obclip will load."""
    out = {}
    with torch.no_grad():
        for name, p in model.state_dict().items():
            stored = p.to(dtypes(name)).contiguous()
            p.copy_(stored.to(torch.float32))
            out[name] = stored
    return out


def save_model(path, model, state, key_prefix="", extra=None):
    """config.json + model.safetensors. transformers 5 writes CLIPTextModel keys without the
    `text_model.` prefix that every existing SD checkpoint (saved by transformers 4) carries;
    fixtures use both spellings. Reloading with transformers proves the files are well-formed."""
    os.makedirs(path, exist_ok=True)
    model.config.save_pretrained(path)
    tensors = {key_prefix + k: v for k, v in state.items()}
    if extra:
        tensors.update(extra)
    save_file(tensors, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    reloaded = CLIPTextModel.from_pretrained(path, dtype=torch.float32).eval()
    ids = torch.arange(77)[None] % model.config.vocab_size
    with torch.no_grad():
        assert torch.equal(reloaded(ids).last_hidden_state, model(ids).last_hidden_state), path


def random_init(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif p.ndim == 1:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (0.5 if "embedding" in name else 1 / p.shape[1] ** 0.5))


def text_encoder_fixture(tokenizer):
    torch.manual_seed(0)
    config = CLIPTextConfig(vocab_size=49408, hidden_size=8, intermediate_size=32, num_hidden_layers=2,
                            num_attention_heads=2, max_position_embeddings=77, hidden_act="quick_gelu",
                            layer_norm_eps=1e-5, projection_dim=8, bos_token_id=49406, eos_token_id=49407, pad_token_id=1)
    model = CLIPTextModel(config).eval()
    random_init(model, 1)
    state = rounded_state(model, lambda n: torch.bfloat16 if "token_embedding" in n else torch.float32)
    save_model(os.path.join(ROOT, "text_encoder"), model, state, key_prefix="text_model.")
    prompts = ["", "a photo of a cat", "Portrait of a 35-year-old woman, oil painting 😀",
               " ".join(f"token{i}" for i in range(60))]
    outputs = {}
    with torch.no_grad():
        for i, p in enumerate(prompts):
            ids = tokenizer(p, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
            outputs[f"hidden.{i}"] = model(ids).last_hidden_state.contiguous()
    save_file(outputs, os.path.join(ROOT, "text_encoder_outputs.safetensors"),
              metadata={"prompts": json.dumps(prompts, ensure_ascii=False)})


def wide_text_encoder_fixture():
    torch.manual_seed(1)
    config = CLIPTextConfig(vocab_size=500, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                            num_attention_heads=3, max_position_embeddings=77, hidden_act="gelu",
                            layer_norm_eps=1e-5, projection_dim=48, bos_token_id=498, eos_token_id=499, pad_token_id=1)
    model = CLIPTextModel(config).eval()
    random_init(model, 2)
    state = rounded_state(model, lambda n: torch.float16)
    save_model(os.path.join(ROOT, "text_encoder_wide"), model, state,
               extra={"text_model.embeddings.position_ids": torch.arange(77, dtype=torch.int64)[None]})
    g = torch.Generator().manual_seed(3)
    sequences = []
    for length in (1, 20, 75):
        body = torch.randint(0, 498, (length,), generator=g).tolist()
        sequences.append(([498] + body + [499] + [499] * 77)[:77])
    with torch.no_grad():
        hidden = model(torch.tensor(sequences)).last_hidden_state.contiguous()
    save_file({"hidden": hidden}, os.path.join(ROOT, "text_encoder_wide_outputs.safetensors"))
    with open(os.path.join(ROOT, "text_encoder_wide_ids.json"), "w") as f:
        json.dump(sequences, f)


def interop_fixture():
    rng = np.random.default_rng(4)
    f32 = rng.standard_normal((3, 5)).astype(np.float32)
    f16 = rng.standard_normal((2, 3, 1)).astype(np.float16)
    bf16 = torch.randn(7, generator=torch.Generator().manual_seed(5)).to(torch.bfloat16)
    tensors = {"layer.weight": torch.from_numpy(f32), "half": torch.from_numpy(f16), "brain": bf16,
               "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3), "steps": torch.arange(4, dtype=torch.int64)}
    save_file(tensors, os.path.join(ROOT, "interop.safetensors"), metadata={"producer": "safetensors", "n": "6"})
    expected = {name: {"shape": list(t.shape), "values": t.to(torch.float32).flatten().tolist()}
                for name, t in tensors.items() if t.dtype != torch.int64}
    with open(os.path.join(ROOT, "interop.json"), "w") as f:
        json.dump({"metadata": {"producer": "safetensors", "n": "6"}, "tensors": expected}, f)


def main():
    os.makedirs(ROOT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = write_tokenizer_dir(os.path.join(tmp, "tokenizer"))
        tokenizer = CLIPTokenizer.from_pretrained(os.path.join(tmp, "tokenizer"))
        tokenizer_fixture(tokenizer, vocab)
        text_encoder_fixture(tokenizer)
    wide_text_encoder_fixture()
    interop_fixture()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {ROOT} ({total / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
