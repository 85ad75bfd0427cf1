#!/usr/bin/env python3
"""Writes Tests/PrivacyTests/Data/word-lm-scores.json: natural-log probabilities of a few fixed
sentences under Sources/Privacy/Resources/word-lm.bin, computed by this independent Python
reader of the file (layout in tools/train_word_lm.py), so the Swift WordNGramModel is checked
against it (PromptAuditTests). Pure standard library; run from the repository root.
"""
import bisect
import json
import math
import re
import struct
from pathlib import Path

MODEL = Path("Sources/Privacy/Resources/word-lm.bin")
OUT = Path("Tests/PrivacyTests/Data/word-lm-scores.json")
TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*|'[^\W_]+")
SENTENCES = [
    "a photo of an old Indian woman reading a newspaper",
    "A young man and his father walking on the beach, golden hour",
    "she gave her daughter a hug",
    "the waitress smiled at him",
    "Keiko and her mother at the beach",
    "portrait of a middle-aged European man, 85mm, soft light",
    "zxqv unknownword woman's",
    "",
]


def main():
    data = MODEL.read_bytes()
    assert data[:6] == b"OBLM1\n"
    v, b, t, p_min, b_min, b_max = struct.unpack_from("<IIIfff", data, 6)
    offset = 6 + 24
    (length,) = struct.unpack_from("<I", data, offset)
    offset += 4
    vocab = data[offset:offset + length].decode("utf-8").split("\n")
    offset += length
    ids = {w: i for i, w in reversed(list(enumerate(vocab)))}

    def prob(q):
        return (p_min + q / 255 * (0 - p_min)) * math.log(10)

    def bow(q):
        return (b_min + q / 255 * (b_max - b_min)) * math.log(10)

    uni = data[offset:offset + 2 * v]
    offset += 2 * v
    keys2 = list(struct.unpack_from(f"<{b}I", data, offset))
    offset += 4 * b
    vals2 = data[offset:offset + 2 * b]
    offset += 2 * b
    keys3 = list(struct.unpack_from(f"<{t}Q", data, offset))
    offset += 8 * t
    vals3 = data[offset:offset + t]
    assert offset + t == len(data)

    def find(keys, key):
        i = bisect.bisect_left(keys, key)
        return i if i < len(keys) and keys[i] == key else None

    def logp(u, w1, w):
        i = find(keys3, (u * v + w1) * v + w)
        if i is not None:
            return prob(vals3[i])
        c = find(keys2, u * v + w1)
        backoff = bow(vals2[2 * c + 1]) if c is not None else 0.0
        j = find(keys2, w1 * v + w)
        if j is not None:
            return backoff + prob(vals2[2 * j])
        return backoff + bow(uni[2 * w1 + 1]) + prob(uni[2 * w])

    scores = []
    for sentence in SENTENCES:
        tokens = TOKEN.findall(sentence.lower().replace("\u2019", "'"))
        seq = [ids.get(w, 0) for w in tokens] + [2]
        u, w1, total = 1, 1, 0.0
        for w in seq:
            total += logp(u, w1, w)
            u, w1 = w1, w
        scores.append({"text": sentence, "tokens": tokens, "logProbability": total})
    OUT.write_text(json.dumps(scores, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(scores)} sentences)")


if __name__ == "__main__":
    main()
