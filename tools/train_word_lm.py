#!/usr/bin/env python3
"""Trains the privacy audit's word-level language model and writes it as
Sources/Privacy/Resources/word-lm.bin (+ word-lm.LICENSE.txt).

The model is an interpolated Kneser-Ney trigram model (Chen & Goodman 1998; one discount per
order, D = n1 / (n1 + 2 n2)) over a public English corpus that Debian packages ship:
- r-cran-janeaustenr 1.0.0-1: Jane Austen's six novels (public-domain texts; the R package is
  MIT, (c) 2016-2017 Julia Silge), read from its R lazy-load database with the pure-Python
  `rdata` reader;
- wordnet-base 3.0: every gloss and usage example of WordNet 3.0 (WordNet 3.0 licence,
  (c) 2006 Princeton University), which brings modern vocabulary (occupations, ethnic and
  national adjectives, photography words).

It is what a server-side adversary would use to rank the N candidates of a set by plausibility;
the Swift audit (`obclip audit-prompts`) loads it and reports the real candidate's MRR.

Pruning keeps it small: the vocabulary is the words seen at least 3 times, bigrams and trigrams
seen at least twice; back-off weights are renormalised after pruning (as SRILM does), and log10
probabilities and back-offs are quantised to 8 bits.

File layout (little-endian): b"OBLM1\\n"; u32 vocabulary size V, bigram count B, trigram count T;
f32 log10-probability range [pmin, 0] and back-off range [bmin, bmax]; u32 byte length then the
vocabulary as UTF-8 words joined by "\\n" (ids 0..V-1; id 0 is <unk>, 1 is <s>, 2 is </s>);
V × (u8 prob, u8 back-off); B × u32 key (w1·V + w2, sorted) then B × (u8 prob, u8 back-off);
T × u64 key ((w1·V + w2)·V + w3, sorted) then T × u8 prob.

Tokenisation (mirrored in WordNGramModel.swift): lower-case, "’" read as "'", words are runs of
letters/digits with inner hyphens, and "'s"-like suffixes are tokens of their own.

Run from the repository root: python3 tools/train_word_lm.py  (needs apt-get download, dpkg-deb
and pip; takes a few minutes of one core).
"""
import glob
import math
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter, defaultdict
from pathlib import Path

OUT = Path("Sources/Privacy/Resources/word-lm.bin")
LICENSE_OUT = Path("Sources/Privacy/Resources/word-lm.LICENSE.txt")
MIN_WORD, MIN_NGRAM = 3, 2
P_MIN, B_MIN, B_MAX = -7.0, -4.0, 2.0
TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*|'[^\W_]+")


def tokens(text):
    return TOKEN.findall(text.lower().replace("\u2019", "'"))


def austen_sentences(root, pylib):
    sys.path.insert(0, pylib)
    import rdata  # noqa: E402 (installed into the temporary directory)
    base = f"{root}/usr/lib/R/site-library/janeaustenr/data/Rdata"
    index = rdata.conversion.convert(rdata.parser.parse_file(base + ".rdx"))
    raw = Path(base + ".rdb").read_bytes()
    for offset, length in index["variables"].values():
        lines = rdata.conversion.convert(rdata.parser.parse_data(zlib.decompress(raw[offset + 4:offset + length])))
        text = " ".join(str(line) for line in lines)
        for sentence in re.split(r"(?<=[.!?;:])\s+|--", text):
            yield sentence


def wordnet_sentences(root):
    for path in glob.glob(f"{root}/usr/share/wordnet/data.*"):
        for line in open(path, encoding="latin-1"):
            if line.startswith("  ") or "|" not in line:
                continue
            gloss = line.split("|", 1)[1]
            for part in gloss.split(";"):
                yield part.strip().strip('"')


def discount(counts):
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    return n1 / (n1 + 2 * n2) if n1 + n2 else 0.5


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", "r-cran-janeaustenr", "wordnet-base"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        for deb in glob.glob(f"{tmp}/*.deb"):
            subprocess.run(["dpkg-deb", "-x", deb, f"{tmp}/root"], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", f"{tmp}/pylib", "rdata"], check=True)
        sentences = [tokens(s) for s in list(austen_sentences(f"{tmp}/root", f"{tmp}/pylib")) + list(wordnet_sentences(f"{tmp}/root"))]
        wordnet_copyright = Path(f"{tmp}/root/usr/share/doc/wordnet-base/copyright").read_text(errors="replace")
    sentences = [s for s in sentences if s]
    word_counts = Counter(w for s in sentences for w in s)
    vocab = ["<unk>", "<s>", "</s>"] + sorted(w for w, c in word_counts.items() if c >= MIN_WORD)
    ids = {w: i for i, w in enumerate(vocab)}
    V = len(vocab)
    tri, bi = Counter(), Counter()
    for s in sentences:
        seq = [1, 1] + [ids.get(w, 0) for w in s] + [2]
        for i in range(2, len(seq)):
            tri[(seq[i - 2], seq[i - 1], seq[i])] += 1
        for i in range(1, len(seq)):
            bi[(seq[i - 1], seq[i])] += 1
    total_tokens = sum(len(s) + 1 for s in sentences)
    # Kneser-Ney continuation counts for the lower orders (raw counts after <s>).
    bi_cont = Counter()
    for (u, v, w) in tri:
        bi_cont[(v, w)] += 1
    for (v, w), c in bi.items():
        if v == 1:
            bi_cont[(v, w)] = c
    uni_cont = Counter()
    for (v, w) in bi:
        uni_cont[w] += 1
    d3, d2, d1 = discount(tri), discount(bi_cont), discount(uni_cont)
    uni_total = sum(uni_cont.values())
    p1 = [0.0] * V
    for w in range(V):
        p1[w] = (max(uni_cont[w] - d1, 0) + d1 * len(uni_cont) / V) / uni_total
    p1[1] = 1e-7  # <s> is never predicted
    norm = sum(p1)
    p1 = [p / norm for p in p1]
    ctx2_total, ctx2_types = Counter(), Counter()
    for (v, w), c in bi_cont.items():
        ctx2_total[v] += c
        ctx2_types[v] += 1
    p2 = {(v, w): max(c - d2, 0) / ctx2_total[v] + d2 * ctx2_types[v] / ctx2_total[v] * p1[w] for (v, w), c in bi_cont.items()}
    ctx3_total, ctx3_types = Counter(), Counter()
    for (u, v, w), c in tri.items():
        ctx3_total[(u, v)] += c
        ctx3_types[(u, v)] += 1

    def lower2(v, w):
        return p2.get((v, w), (d2 * ctx2_types[v] / ctx2_total[v] if ctx2_total[v] else 1.0) * p1[w])

    p3 = {}
    for (u, v, w), c in tri.items():
        if c >= MIN_NGRAM:
            t = ctx3_total[(u, v)]
            p3[(u, v, w)] = max(c - d3, 0) / t + d3 * ctx3_types[(u, v)] / t * lower2(v, w)
    kept2 = {k: p for k, p in p2.items() if bi[k] >= MIN_NGRAM or k[0] == 1}
    # Back-offs renormalised over what was kept.
    by_ctx2 = defaultdict(list)
    for (v, w), p in kept2.items():
        by_ctx2[v].append((w, p))
    bow1 = [1.0] * V
    for v, items in by_ctx2.items():
        kept_mass = sum(p for _, p in items)
        lower_mass = sum(p1[w] for w, _ in items)
        bow1[v] = max(1e-12, 1 - kept_mass) / max(1e-12, 1 - lower_mass)

    def backed2(v, w):
        return kept2[(v, w)] if (v, w) in kept2 else bow1[v] * p1[w]

    by_ctx3 = defaultdict(list)
    for (u, v, w), p in p3.items():
        by_ctx3[(u, v)].append((w, p))
    bow2 = {}
    for ctx, items in by_ctx3.items():
        kept_mass = sum(p for _, p in items)
        lower_mass = sum(backed2(ctx[1], w) for w, _ in items)
        bow2[ctx] = max(1e-12, 1 - kept_mass) / max(1e-12, 1 - lower_mass)
    for ctx in bow2:
        if ctx not in kept2:
            kept2[ctx] = backed2(*ctx)  # a context needs its bigram entry to hold its back-off

    def q(value, low, high):
        return max(0, min(255, round((value - low) / (high - low) * 255)))

    def qp(p):
        return q(math.log10(max(p, 1e-300)), P_MIN, 0.0)

    def qb(b):
        return q(math.log10(b), B_MIN, B_MAX)

    out = bytearray(b"OBLM1\n")
    out += struct.pack("<IIIfff", V, len(kept2), len(p3), P_MIN, B_MIN, B_MAX)
    words = "\n".join(vocab).encode("utf-8")
    out += struct.pack("<I", len(words)) + words
    for w in range(V):
        out += bytes([qp(p1[w]), qb(bow1[w])])
    keys2 = sorted(kept2, key=lambda k: k[0] * V + k[1])
    out += b"".join(struct.pack("<I", v * V + w) for v, w in keys2)
    out += b"".join(bytes([qp(kept2[k]), qb(bow2.get(k, 1.0))]) for k in keys2)
    keys3 = sorted(p3, key=lambda k: (k[0] * V + k[1]) * V + k[2])
    out += b"".join(struct.pack("<Q", (u * V + v) * V + w) for u, v, w in keys3)
    out += bytes(qp(p3[k]) for k in keys3)
    OUT.write_bytes(bytes(out))
    LICENSE_OUT.write_text(
        "word-lm.bin is a language model trained by tools/train_word_lm.py on two texts shipped by Debian packages.\n\n"
        "1. Jane Austen's novels (Emma, Mansfield Park, Northanger Abbey, Persuasion, Pride and Prejudice, Sense and\n"
        "   Sensibility): public domain. Taken from the Debian package r-cran-janeaustenr (R package janeaustenr,\n"
        "   MIT License, Copyright 2016-2017 Julia Silge).\n\n"
        "2. The glosses and examples of WordNet 3.0, from the Debian package wordnet-base. Its copyright file:\n\n"
        + wordnet_copyright)
    print(f"corpus {total_tokens} tokens in {len(sentences)} sentences; vocabulary {V}; kept {len(kept2)} bigrams, "
          f"{len(p3)} trigrams; discounts {d1:.3f} {d2:.3f} {d3:.3f}; wrote {OUT} ({len(out)} bytes)")


if __name__ == "__main__":
    main()
