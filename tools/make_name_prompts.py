#!/usr/bin/env python3
"""Writes Tests/PrivacyTests/Data/name-prompts.txt: 320 prompts that mention people by first
name, for the privacy engine's name slots and the audit.

Names are drawn with a fixed seed from the bundled list (Sources/Privacy/Resources/first-names.json)
and, for one prompt in eight, from a few names outside it (which the engine must report, not
swap). Frames mix a name alone, a name given to a described person ("a young woman named ..."),
possessives, pronouns that agree with the name's gender, two named people, and full names of
public figures (left as written). Run from the repository root.
"""
import json
import random
from pathlib import Path

OUT = Path("Tests/PrivacyTests/Data/name-prompts.txt")
NAMES = json.loads(Path("Sources/Privacy/Resources/first-names.json").read_text(encoding="utf-8"))["names"]
OUTSIDE = [("Omar", "male"), ("Mohammed", "male"), ("Fatima", "female"), ("Leila", "female"), ("Layla", "female")]
FULL_NAMES = ["Taylor Swift", "Albert Einstein", "Frida Kahlo", "Marie Curie", "Nelson Mandela", "Bruce Lee"]
PRONOUNS = {"male": ("he", "him", "his"), "female": ("she", "her", "her")}
NOUNS = {"male": "man", "female": "woman"}
AGES = ["young", "middle-aged", "old"]
ETHNICITIES = ["Caucasian", "African", "Asian", "Indian", "European"]
SCENES = ["reading in a cafe", "walking a dog in the rain", "at the beach, golden hour", "on a stage, dramatic lighting",
          "cooking dinner, cinematic still", "playing the violin", "painting a mural", "riding a bicycle through Paris",
          "in a wheat field, 35mm", "at a birthday party"]
FRAMES = [
    "{N} {scene}",
    "portrait of {N}, 85mm, soft light",
    "{N} smiling, {sub} is {scene}",
    "{N} and {pos} dog {scene}",
    "a photo of {N}'s hands",
    "a {age} {noun} named {N} {scene}",
    "an oil painting of a {age} {eth} {noun} called {N}",
    "{N} hugging {pos} mother",
    "{N} and {M} {scene}",
    "{N} waves at {M}, who smiles at {obj}",
]


def main():
    rng = random.Random(2026)
    lines = []
    for index in range(320):
        if index % 16 == 15:
            lines.append(f"a portrait of {rng.choice(FULL_NAMES)} {rng.choice(SCENES)}")
            continue
        if index % 8 == 7:
            name, gender = rng.choice(OUTSIDE)
        else:
            entry = rng.choice(NAMES)
            name, gender = entry["name"], entry["gender"]
        other = rng.choice(NAMES)["name"]
        sub, obj, pos = PRONOUNS[gender]
        frame = FRAMES[index % len(FRAMES)]
        age = rng.choice(AGES)
        prompt = frame.format(N=name, M=other, sub=sub, obj=obj, pos=pos, scene=rng.choice(SCENES), age=age,
                              eth=rng.choice(ETHNICITIES), noun=NOUNS[gender])
        prompt = prompt.replace("a old", "an old")
        lines.append(prompt[0].upper() + prompt[1:] if rng.random() < 0.5 else prompt)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(lines)} prompts)")


if __name__ == "__main__":
    main()
