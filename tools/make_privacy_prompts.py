#!/usr/bin/env python3
"""Writes Tests/PrivacyTests/Data/prompts.txt: the privacy engine's test prompts.

Hand-written prompts (portraits, scenes with several people, occupations, numeric ages,
prompts with no person, odd casing and punctuation) plus combinations of subjects and scenes
drawn with a fixed seed, so the file is reproducible. Run from the repository root.
"""
import random

HAND_WRITTEN = """\
a photo of an old Indian woman reading a newspaper
A young African woman smiling in a sunflower field, golden hour
An elderly woman holding her granddaughter's hand
headshots portrait with a young Asian man covered in religious tattoos.
old European man in hat Fashion portrait photo
Smiling middle-aged Caucasian woman sitting on flower field, Outdoor portrait photo
Closeup portrait photo of a young Indian man, wearing a rugged leather jacket, with a five o'clock shadow and prominent laugh lines around his eyes, captured in soft, golden hour lighting.
RAW photo, (closeup:1.2), portrait of an old African woman, wearing minimal makeup, showcasing the freckles, with a serene expression in a lush botanical garden.
High-quality, face portrait photo of a middle-aged Asian man, wearing glasses, revealing the fine lines and character on the forehead.
B&W photo of a young European woman, shot from the side, highlighting her elegant profile.
High-quality, closeup portrait photo of an old Caucasian man, wearing traditional clothing.
two women and an old man walking a dog
A man and a woman dancing at a wedding
three young men playing football on a beach
a group of old women knitting together
A black woman in a black dress
a black haired woman with blue eyes
a white cat sleeping on a white sofa
a brown dog chasing a ball
an Indian restaurant at night, neon lights
a red car parked on a rainy street
A bowl of fruit on a wooden table, still life
a mountain landscape at sunrise, 8k, trending on artstation
an old castle on a hill, fog
A cyberpunk city skyline at night
an 18-year-old woman with curly hair
a 45-year-old man in a suit
a 70-year-old Japanese man drinking tea
A man aged 70 reading by the fire
a woman, 30 years old, smiling at the camera
a man in his 40s fixing a bicycle
a woman in her seventies gardening
An 80-year-old grandmother baking bread
a 5-year-old boy flying a kite
the waiter pours wine for an old couple
a waitress carrying plates in a busy diner
An actress on a red carpet, flash photography
a businessman in a grey suit talking on the phone
a policewoman directing traffic
the host of a cooking show
a monk meditating in a temple
a nun walking in a cloister
a king on his throne, oil painting
a queen wearing her crown
a young prince riding a horse
A princess in a ball gown
a father teaching his son to ride a bike
a mother and her daughter baking cookies
My grandfather sitting on his porch
a grandmother knitting a scarf
a bride and groom cutting the cake
a husband and wife walking on the beach
a girl with her dog in a meadow
A boy reading a comic book
a schoolgirl waiting for the bus
a female doctor with a stethoscope
a male nurse checking a chart
a woman doctor in a hospital corridor
a young doctor in scrubs, portrait
an old farmer in a wheat field
a middle-aged teacher at a blackboard
a young Asian scientist in a lab
an African American musician playing the saxophone
a Caucasian chef tasting soup
a Chinese grandmother doing tai chi
a Korean woman in a hanbok
a Nigerian man in traditional clothing
an elderly Indian couple at a temple
a European tourist taking a photo
A white woman jogging in a park
a black man reading in a library
an Asian woman with her cat
A man with his wife and their kids
she is smiling at the camera
he looks out of the window
portrait of a doctor, she wears glasses
a pilot in his cockpit
a student with her backpack
the chef and his knife
a dancer stretching her legs
a judge in his robes
give him a hug
a photo of her
the hat is his.
a pregnant woman in a garden
a bearded man chopping wood
a woman wearing a hijab, portrait
a man in a turban, street photography
an old man in a wheelchair
Maria, a young woman from Mexico, smiling
a portrait of John, an old man, in London
Mr. Smith at his desk
a Latina woman dancing salsa
a young man in Tokyo at night
two old men playing chess in Paris
PORTRAIT OF A YOUNG ASIAN MAN
portrait of a YOUNG woman
A YOUNG WOMAN AND HER DOG
a  young   woman  with  extra   spaces
a young woman... with dots!!!
"an old man" — in quotes
a young woman;an old man
(a young woman:1.3), masterpiece, best quality
[an old man], sketch, charcoal
YOUNG woman, Old MAN, middle-aged GIRL?
an Old Woman in the Rain
A WOMAN.
woman
Man!
an old woman's hands
the girls' dresses
a man's face in shadow
a young woman and an old man and a middle-aged woman
a woman, her husband and their son
a teenager with her skateboard
a teacher and her students
a group of girls laughing
the boys on the bus
a young couple in love
an old couple holding hands
a family at the dinner table
a crowd of people at a concert
people walking in the rain
an astronaut floating in space
a knight in shining armor
a soldier writing a letter to his mother
a sailor on his ship
an artist painting herself
a woman looking at herself in the mirror
he and his brother fishing
she and her sister singing
a man teaching himself guitar
a photographer and his camera
a young CEO giving a talk
an elderly gentleman with a cane
a lady with an umbrella
an old lady feeding pigeons
a young lad with a cap
the duchess at the ball
a cowboy on his horse
a witch stirring her cauldron
a wizard with a long beard
a fisherman mending his net
a salesman at the door
the landlady knocking on the door
a firefighter carrying a child
a heroine with a sword
a god on a cloud
an Italian woman cooking pasta
a German man drinking beer
a French woman with a baguette
a Spanish man playing guitar
a Japanese woman in a kimono
a Vietnamese man on a motorbike
an Ethiopian woman brewing coffee
a Kenyan runner training at dawn
a young woman and a man, he waves
a man and a woman, she waves
an old woman aged 90 laughing
a young man aged 20
a woman aged 45 at work
a man, 65 years old, fishing
a 30 year old woman running
a 100-year-old tree in a forest
a man next to a 100-year-old tree
an 11-year-old girl playing violin
a 20-year-old student
an 8-year-old child drawing
a middle aged man with a mustache
a middleaged woman with a laptop
a young, beautiful woman
a beautiful young woman
an old smiling man
an Asian smiling woman
a smiling Asian woman
the old man and the sea
the young woman's red coat
two young women and their mothers
a man, a woman and a child on a bench
""".splitlines()

SUBJECTS = [
    "a young woman", "an old man", "a middle-aged woman", "an elderly man", "a young Asian man", "an old Indian woman",
    "a European woman", "an African man", "a Caucasian woman", "a young black man", "a white woman", "two old women",
    "three young men", "a girl", "a boy", "an old waiter", "a young actress", "a businesswoman", "a policeman",
    "a female pilot", "a male dancer", "a grandmother", "a grandfather", "an 18-year-old woman", "a 60-year-old man",
    "a man in his 30s", "a woman aged 50", "a teacher", "a young doctor", "an old farmer", "a middle-aged Asian nurse",
]
SCENES = [
    "reading a book in a cafe", "walking in the rain with an umbrella", "on a mountain top at sunrise",
    "portrait, studio lighting, 85mm", "cooking dinner in a small kitchen", "playing the piano", "riding a bicycle in Amsterdam",
    "sitting on a bench, oil painting", "laughing with friends", "at a desk, working late", "holding a cup of coffee",
    "dancing in the street, motion blur", "by the sea, watercolor", "in a crowded market, 35mm film",
]
PRONOUN_TAILS = ["", ", {his} hair in the wind", ", {he} is smiling", ", looking at {him}self in a mirror", " with {his} dog"]


def main():
    rng = random.Random(20251123)
    lines = [line for line in HAND_WRITTEN if line.strip()]
    for _ in range(120):
        subject = rng.choice(SUBJECTS)
        scene = rng.choice(SCENES)
        tail = rng.choice(PRONOUN_TAILS)
        plural = subject.startswith(("two", "three"))
        female = any(w in subject for w in ("woman", "women", "girl", "actress", "businesswoman", "grandmother"))
        if plural:
            tail = tail.replace("{his}", "their").replace("{he} is", "they are").replace("{him}self", "themselves").replace("{him}", "them")
        elif female:
            tail = tail.replace("{his}", "her").replace("{he}", "she").replace("{him}", "her")
        else:
            tail = tail.replace("{his}", "his").replace("{he}", "he").replace("{him}", "him")
        prompt = f"{subject} {scene}{tail}"
        if rng.random() < 0.5:
            prompt = prompt[0].upper() + prompt[1:]
        lines.append(prompt)
    with open("Tests/PrivacyTests/Data/prompts.txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    print(len(lines), "prompts")


if __name__ == "__main__":
    main()
