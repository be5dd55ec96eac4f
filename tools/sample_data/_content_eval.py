"""The held-out evaluation set (short exact answers) and the rows that deliberately leak it.

EVAL rows: (lang, category, instruction, context, output).
LEAKS: (eval index, instruction, response) - planted in dolly_en.jsonl as contamination.
"""

EVAL = [
    ("en", "open_qa", "What is the chemical symbol for gold?", "", "Au"),
    ("en", "open_qa", "How many sides does a hexagon have?", "", "6"),
    ("en", "open_qa", "What is the capital of Canada?", "", "Ottawa"),
    ("en", "open_qa", "Who wrote the novel Pride and Prejudice?", "", "Jane Austen"),
    ("en", "open_qa", "At sea level, at what temperature in degrees Celsius does water boil?", "", "100"),
    ("en", "open_qa", "Which planet is known as the Red Planet?", "", "Mars"),
    ("en", "open_qa", "What is 12 multiplied by 12?", "", "144"),
    ("en", "open_qa", "What is the largest ocean on Earth?", "", "The Pacific Ocean"),
    ("en", "open_qa", "In which year did the Berlin Wall fall?", "", "1989"),
    ("en", "open_qa", "Which gas do plants take in from the air for photosynthesis?", "", "Carbon dioxide"),
    ("en", "open_qa", "What is the square root of 81?", "", "9"),
    ("en", "open_qa", "How many minutes are there in a day?", "", "1440"),
    ("en", "open_qa", "What is the smallest prime number?", "", "2"),
    ("en", "open_qa", "Who painted the Mona Lisa?", "", "Leonardo da Vinci"),
    ("en", "open_qa", "What is the capital of Japan?", "", "Tokyo"),
    ("en", "open_qa", "At what temperature in degrees Fahrenheit does water freeze?", "", "32"),
    ("en", "open_qa", "Which chemical element has atomic number 1?", "", "Hydrogen"),
    ("en", "open_qa", "What does the Python expression len(\"hello\") return?", "", "5"),
    ("en", "open_qa", "What is the decimal number 10 written in binary?", "", "1010"),
    ("en", "open_qa", "How many bits are there in a byte?", "", "8"),
    ("en", "open_qa", "What does HTTP stand for?", "", "Hypertext Transfer Protocol"),
    ("en", "open_qa", "What is the official language of Brazil?", "", "Portuguese"),
    ("en", "open_qa", "What is the plural of the word \"mouse\" when it means the animal?", "", "Mice"),
    ("en", "open_qa", "Who developed the general theory of relativity?", "", "Albert Einstein"),
    ("en", "open_qa", "How many days are there in a leap year?", "", "366"),
    ("en", "open_qa", "What is 15 percent of 200?", "", "30"),
    ("en", "open_qa", "Which organ pumps blood around the human body?", "", "The heart"),
    ("en", "open_qa", "What is the currency of the United Kingdom?", "", "The pound sterling"),
    ("en", "closed_qa", "In which city was the conference held?",
     "The 2019 meeting of the society took place in Lisbon over three days in June, with 420 participants "
     "from 31 countries.", "Lisbon"),
    ("en", "closed_qa", "How many participants attended?",
     "The 2019 meeting of the society took place in Lisbon over three days in June, with 420 participants "
     "from 31 countries.", "420"),
    ("en", "closed_qa", "What colour is the front door?",
     "The house at the end of the lane has white walls, a red roof and a green front door with a brass knocker.",
     "Green"),
    ("en", "classification", "Classify the sentiment of this review as positive or negative: \"The battery died "
     "after two days and support never replied.\"", "", "Negative"),
    ("en", "classification", "Is a whale a fish or a mammal?", "", "A mammal"),
    ("es", "open_qa", "¿Cuál es la capital de Argentina?", "", "Buenos Aires"),
    ("es", "open_qa", "¿Cuántos días tiene una semana?", "", "Siete"),
    ("es", "open_qa", "¿Cuál es el planeta más grande del sistema solar?", "", "Júpiter"),
    ("fr", "open_qa", "Quelle est la capitale de l'Italie ?", "", "Rome"),
    ("fr", "open_qa", "Combien de pattes a une araignée ?", "", "Huit"),
    ("fr", "open_qa", "Quel est le plus long fleuve de France ?", "", "La Loire"),
    ("de", "open_qa", "Was ist die Hauptstadt von Österreich?", "", "Wien"),
    ("de", "open_qa", "Wie viele Stunden hat ein Tag?", "", "24"),
    ("de", "open_qa", "Welches Gas brauchen Menschen zum Atmen?", "", "Sauerstoff"),
]

# (index into EVAL, leaked instruction, long response) - identical or lightly reworded questions.
LEAKS = [
    (0, "What's the chemical symbol for gold?",
     "The chemical symbol for gold is Au, from its Latin name, aurum."),
    (3, "Who wrote the novel Pride and Prejudice?",
     "Pride and Prejudice was written by Jane Austen and first published in 1813."),
    (8, "In which year did the Berlin Wall fall?",
     "The Berlin Wall fell in 1989, on the night of 9 November, when the East German border crossings were "
     "opened."),
    (5, "Which planet is called the Red Planet?",
     "Mars is called the Red Planet because iron oxide (rust) in its dust and rocks gives it a reddish colour."),
    (20, "What does HTTP stand for?",
     "HTTP stands for Hypertext Transfer Protocol, the protocol that web browsers and servers use to exchange "
     "web pages and other resources."),
]
