"""Hand-written preference pairs: (lang, instruction, context, chosen, rejected).

The chosen answer is correct, complete and polite; the rejected one is wrong, vague, rude,
off-topic, unsafe or needlessly terse. Chosen is usually, not always, the longer one.
"""

PREF = [
    ("en", "What is the capital of Australia?", "",
     "The capital of Australia is Canberra. Many people guess Sydney, which is the largest city, but Canberra "
     "was purpose-built as the capital and has been the seat of government since 1927.",
     "The capital of Australia is Sydney."),
    ("en", "How many legs does a spider have?", "", "Spiders have eight legs.",
     "Spiders have six legs, like all insects."),
    ("en", "Explain what a prime number is.", "",
     "A prime number is a whole number greater than 1 whose only divisors are 1 and itself. For example, 2, 3, "
     "5, 7 and 11 are prime, while 9 is not, because 9 = 3 × 3.",
     "A number that is odd."),
    ("en", "Can you help me write a polite email asking my landlord to fix a leaking tap?", "",
     "Of course. Here is a draft:\n\nSubject: Leaking kitchen tap\n\nDear Mr Patel,\n\nI hope you are well. "
     "The kitchen tap in the flat has started leaking steadily, even when fully closed. Could you arrange for "
     "someone to repair it? I am at home most evenings after 6 pm and can give access then.\n\nThank you for "
     "your help.\n\nKind regards,\nMaria Lopez, Flat 4B",
     "Just tell him to fix it, it's his job."),
    ("en", "What is the boiling point of water in Fahrenheit at sea level?", "",
     "At sea level, water boils at 212 degrees Fahrenheit, which is 100 degrees Celsius.",
     "Water boils at 100 degrees Fahrenheit."),
    ("en", "Give me a tip for remembering new vocabulary.", "",
     "Use spaced repetition: review each new word after a day, then after a few days, then after a week or "
     "two. Flashcard apps such as Anki schedule this for you, and saying the word aloud in a sentence of your "
     "own makes it stick even better.",
     "Just remember it."),
    ("en", "Who wrote Romeo and Juliet?", "",
     "Romeo and Juliet was written by William Shakespeare, probably around 1595.",
     "Romeo and Juliet was written by Charles Dickens."),
    ("en", "Summarize the plot of Little Red Riding Hood in two sentences.", "",
     "A girl in a red hood walks through the forest to visit her grandmother, and a wolf learns where she is "
     "going, gets there first and disguises himself as the grandmother. In the best-known versions a "
     "woodcutter or hunter arrives in time to rescue them.",
     "It's a fairy tale about a girl. There is a wolf in it and a grandmother and a forest and a basket and "
     "the girl wears red and the wolf is bad and it is very famous and many people know it and read it."),
    ("en", "How do I convert a string to an integer in Python?", "",
     "Use the built-in `int()` function:\n\n```python\nn = int(\"42\")\nassert n == 42\n```\n\n"
     "It raises `ValueError` if the string is not a valid integer, so wrap it in `try`/`except` when the "
     "input comes from a user.",
     "Use `str()`."),
    ("en", "What should I do if I think I have food poisoning?", "",
     "Rest and drink plenty of fluids, taking small sips often; oral rehydration solutions help replace lost "
     "salts. Most cases get better within a few days. See a doctor or call a health line if you cannot keep "
     "fluids down, have a high fever, blood in your stool, signs of dehydration such as very little urine, or "
     "if you are pregnant, elderly or have a weakened immune system.",
     "Take some antibiotics you have at home and you'll be fine."),
    ("en", "Translate 'good morning' into Spanish.", "", "\"Good morning\" in Spanish is \"buenos días\".",
     "\"Good morning\" in Spanish is \"buenas noches\"."),
    ("en", "What is the largest mammal on Earth?", "",
     "The blue whale is the largest mammal, and the largest animal known to have ever lived. Adults can be "
     "about 30 metres long and weigh well over 100 tonnes.",
     "The African elephant is the largest mammal on Earth."),
    ("en", "Write a haiku about rain.", "",
     "Rain on the tin roof\nthe garden drinks in silence\npuddles hold the sky",
     "Rain is wet and it falls down from the clouds in the sky and makes everything wet when it rains."),
    ("en", "Is it safe to look directly at the Sun during a partial solar eclipse?", "",
     "No. Even when most of the Sun is covered, looking at it directly can permanently damage your retina. "
     "Use certified eclipse glasses (ISO 12312-2) or an indirect method such as a pinhole projector. "
     "Ordinary sunglasses are not safe.",
     "Yes, it's fine as long as you wear sunglasses."),
    ("en", "What does CPU stand for?", "",
     "CPU stands for central processing unit, the part of a computer that carries out the instructions of "
     "programs.",
     "Computer Power Unit."),
    ("en", "How can I make my bread rise better?", "",
     "Check that your yeast is fresh, and use lukewarm liquid, around 35 to 40 °C, since hot liquid kills the "
     "yeast. Knead long enough to develop the gluten, and let the dough rise somewhere warm and draught-free "
     "until it has roughly doubled. Too much salt or sugar directly on the yeast can also slow it down.",
     "Add more flour."),
    ("en", "Recommend a book for someone who wants to learn about the history of science.", "",
     "A Short History of Nearly Everything by Bill Bryson is a good start: it covers how scientists worked out "
     "the age of the Earth, the structure of atoms, evolution and much more, and it is written for a general "
     "reader with a lot of humour.",
     "I don't recommend books."),
    ("en", "What is the difference between 'affect' and 'effect'?", "",
     "In most uses, 'affect' is a verb meaning to influence something (\"The weather affected our plans\"), "
     "and 'effect' is a noun meaning a result (\"The new rule had a big effect\"). Less commonly, 'effect' is "
     "a verb meaning to bring about (\"to effect change\").",
     "They mean the same thing, so you can use either."),
    ("en", "Reply to a customer who says their order arrived damaged.", "",
     "I'm very sorry your order arrived damaged. That's not the experience we want you to have. Could you "
     "reply with your order number and a photo of the damage? As soon as we have them we'll send a "
     "replacement or a full refund, whichever you prefer, at no cost to you.",
     "Damage happens in shipping, it's not our fault. Contact the courier."),
    ("en", "What is 7 times 8?", "", "7 × 8 = 56.", "7 × 8 = 54."),
    ("en", "How do vaccines prevent disease?", "",
     "Vaccines train the immune system with a harmless piece or version of a pathogen, so the body produces "
     "antibodies and memory cells. If the real pathogen appears later, the immune system recognises it "
     "quickly and can stop it before it causes serious illness.",
     "Vaccines kill all the germs in your body."),
    ("en", "Name the three primary colours of light.", "",
     "The additive primary colours of light are red, green and blue. Combined at full strength they make "
     "white light.",
     "Red, yellow and blue."),
    ("en", "What year did the Second World War end?", "",
     "The Second World War ended in 1945: in Europe on 8 May with Germany's surrender, and in Asia with "
     "Japan's surrender, announced on 15 August and formally signed on 2 September.",
     "1944."),
    ("en", "Suggest a name for a golden retriever puppy.", "",
     "How about Maple? It suits a golden coat, is easy to call out at the park, and works just as well for a "
     "grown dog. Other ideas: Sunny, Biscuit or Toffee.",
     "Dog."),
    ("en", "Explain recursion to a beginner.", "",
     "Recursion is when a function solves a problem by calling itself on a smaller version of the same "
     "problem. It needs a base case that stops the calls. For example, the factorial of 5 is 5 times the "
     "factorial of 4, and so on down to the factorial of 1, which is simply 1.",
     "Recursion is recursion. To understand it, read about recursion."),
    ("en", "What's a healthy resting heart rate for an adult?", "",
     "For most adults, a normal resting heart rate is between 60 and 100 beats per minute. Well-trained "
     "athletes can have lower rates, around 40 to 60. If your resting rate is often outside the usual range, "
     "or you feel dizzy or short of breath, talk to a doctor.",
     "Around 150 beats per minute."),
    ("en", "My code throws 'IndexError: list index out of range'. What does it mean?", "",
     "It means you tried to access a position in a list that does not exist, for example `items[3]` when the "
     "list has only three elements (valid indices 0, 1 and 2). Check the length with `len(items)`, and look "
     "for loops that go one step too far, such as `range(len(items) + 1)`.",
     "Your computer is out of memory."),
    ("en", "Give me a fun fact about octopuses.", "",
     "Octopuses have three hearts and blue blood: two hearts pump blood through the gills and the third pumps "
     "it around the body, and their blood carries oxygen with a copper-based protein.",
     "Octopuses are fish."),
    ("en", "Write a one-sentence description of Paris for a travel brochure.", "",
     "Paris welcomes you with café terraces, world-class museums like the Louvre and evening walks along the "
     "Seine beneath the glittering Eiffel Tower.",
     "Paris is a city."),
    ("en", "What is the chemical formula of water?", "",
     "The chemical formula of water is H2O: each molecule has two hydrogen atoms bonded to one oxygen atom.",
     "CO2."),
    ("en", "How long should I boil an egg for a soft yolk?", "",
     "Lower a room-temperature large egg into gently boiling water and cook it for about 6 minutes for a set "
     "white and a runny yolk, then put it in cold water for a minute to stop the cooking.",
     "About 20 minutes."),
    ("en", "Is the Great Wall of China visible from the Moon with the naked eye?", "",
     "No. That is a popular myth. The wall is very long but only a few metres wide, far too narrow to be seen "
     "from the Moon, about 384,000 km away. Even from low Earth orbit it is very hard to spot without help.",
     "Yes, it's the only human-made structure visible from the Moon."),
    ("en", "Tell me a joke about computers.", "",
     "Why did the computer go to the doctor? Because it had a virus!",
     "No."),
    ("en", "What is the past tense of 'go'?", "", "The past tense of 'go' is 'went'; the past participle is 'gone'.",
     "Goed."),
    ("en", "How do I politely decline a meeting invitation?", "",
     "Thank the person, decline clearly and, if you can, offer an alternative. For example: \"Thanks for the "
     "invitation. Unfortunately I can't make it on Tuesday because of a prior commitment. Could you share the "
     "notes afterwards, or would Thursday work for a quick catch-up?\"",
     "Just don't show up."),
    ("en", "What causes thunder?", "",
     "Thunder is the sound of air expanding violently. A lightning bolt heats the air along its path to "
     "around 30,000 °C in a fraction of a second, and the sudden expansion creates a shock wave that we hear "
     "as a clap or rumble.",
     "Clouds bumping into each other."),
    ("en", "Recommend a beginner-friendly programming language.", "",
     "Python is a good first language: its syntax is readable, it has a huge community and plenty of free "
     "tutorials, and it is used for everything from web development to data analysis, so what you learn stays "
     "useful.",
     "Assembly, because it's the fastest."),
    ("en", "How many continents are there, according to the model most commonly taught in English-speaking "
     "countries?", "",
     "Seven: Africa, Antarctica, Asia, Australia (or Oceania), Europe, North America and South America. Other "
     "traditions count five or six, for example by combining the Americas.",
     "Four."),
    ("en", "Write a short apology for missing a friend's birthday party.", "",
     "I'm so sorry I missed your party. I should have told you sooner that I couldn't make it, and I feel bad "
     "that I let you down. Can I take you out for dinner next week to celebrate properly?",
     "Sorry. Stuff happened."),
    ("en", "What is the main function of the roots of a plant?", "",
     "Roots anchor the plant in the soil and absorb water and dissolved minerals, which they pass up to the "
     "stem and leaves. Many roots also store food, as in carrots and beetroot.",
     "Roots make the flowers."),
    ("es", "¿Cuál es el océano más grande del mundo?", "",
     "El océano Pacífico es el más grande del mundo: cubre alrededor de un tercio de la superficie de la "
     "Tierra.",
     "El océano Atlántico."),
    ("es", "Dame un consejo para estudiar mejor.", "",
     "Estudia en bloques cortos de unos 25 minutos con pausas breves, y al terminar intenta explicar el tema "
     "con tus propias palabras sin mirar los apuntes: así descubres qué no has entendido todavía.",
     "Estudia."),
    ("fr", "Quelle est la capitale du Canada ?", "",
     "La capitale du Canada est Ottawa, dans la province de l'Ontario.",
     "La capitale du Canada est Montréal."),
    ("fr", "Comment dit-on « thank you » en français ?", "",
     "On dit « merci ». Pour insister, on peut dire « merci beaucoup ».",
     "On dit « s'il vous plaît »."),
    ("de", "Wie viele Bundesländer hat Deutschland?", "",
     "Deutschland hat 16 Bundesländer, darunter die drei Stadtstaaten Berlin, Hamburg und Bremen.",
     "Deutschland hat 12 Bundesländer."),
    ("de", "Gib mir einen Tipp gegen Stress.", "",
     "Plane jeden Tag eine kurze Pause ohne Bildschirm ein, zum Beispiel einen zehnminütigen Spaziergang. "
     "Bewegung und frische Luft helfen, Stresshormone abzubauen und den Kopf freizubekommen.",
     "Einfach nicht gestresst sein."),
]

# Used for the planted problems in preference.jsonl (see make_sample_data.build_preference).
DUP_PROMPTS = [
    ("How do I stay focused while working from home?",
     ("Set up a dedicated workspace, keep regular hours, and plan your day with two or three clear priorities. "
      "Turn off non-essential notifications and take short breaks away from the screen.",
      "Work harder."),
     ("Start the day at a fixed time, close the door if you can, and work in focused blocks of 25 to 50 minutes "
      "with short breaks. Keeping your phone in another room removes the biggest distraction.",
      "Watch TV while you work, it helps.")),
    ("What is a good way to learn to cook?",
     ("Start with a few simple recipes you like and cook each of them several times until you no longer need "
      "the recipe. Learn basic knife skills and how to season as you go, tasting at every step.",
      "Order takeaway."),
     ("Cook one new dish every week, beginning with basics such as an omelette, a tomato sauce and roast "
      "vegetables. Watching a short video of each technique before you try it helps a lot.",
      "Cooking can't be learned, you have it or you don't.")),
    ("Why is exercise good for you?", (
        "Regular exercise strengthens the heart and muscles, helps control weight, lowers the risk of diseases "
        "such as type 2 diabetes, and improves sleep and mood.",
        "It isn't, really."),
     ("Being active improves cardiovascular fitness, keeps bones and joints strong, and reduces stress. Even "
      "brisk walking for 30 minutes on most days brings measurable health benefits.",
      "Because you sweat.")),
    ("How do I remove a coffee stain from a shirt?", (
        "Blot the stain (don't rub), rinse it from the back with cold water, then rub in a little liquid "
        "laundry detergent and leave it for a few minutes before washing as usual. Check that the stain is "
        "gone before drying, because heat sets it.",
        "Throw the shirt away."),
     ("Act quickly: rinse under cold running water, then treat with a stain remover or a paste of detergent "
      "and water. Wash at the warmest temperature the fabric allows, and air-dry until the stain is fully out.",
      "Use hot water and put it straight in the dryer.")),
]

IDENTICAL = [
    ("What is the freezing point of water in Celsius?",
     "Water freezes at 0 degrees Celsius at standard atmospheric pressure."),
    ("Name a famous painting by Vincent van Gogh.",
     "The Starry Night, painted in 1889, is one of Vincent van Gogh's most famous paintings."),
    ("What does RAM stand for?", "RAM stands for random-access memory."),
]

NEAR_IDENTICAL = [
    ("What is the tallest animal?",
     "The giraffe is the tallest animal; adult males can be about 5.5 metres tall.",
     "The giraffe is the tallest animal; adult males can be about 5.5 metres tall"),
    ("What gas do humans exhale?",
     "Humans exhale carbon dioxide, along with nitrogen, oxygen that was not absorbed, and water vapour.",
     "Humans breathe out carbon dioxide, along with nitrogen, oxygen that was not absorbed, and water vapour."),
    ("Who discovered gravity?",
     "Isaac Newton formulated the law of universal gravitation, published in 1687 in his Principia.",
     "Isaac Newton formulated the law of universal gravitation, published in 1687 in his Principia!"),
]

EMPTY = [
    ("Describe the colour of a clear daytime sky.", "",
     "A clear daytime sky is blue, usually paler near the horizon and a deeper blue overhead.", ""),
    ("What is the opposite of 'hot'?", "", "", "The opposite of 'hot' is 'cold'."),
]
