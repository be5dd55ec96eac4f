"""Hand-written English rows for dolly_en.jsonl and eval.jsonl (facts checked by hand).

Each row is (category, instruction, response) or, for passages, a passage plus questions.
"""

OPEN_QA = [
    ("Why is the sky blue?",
     "Sunlight contains all visible colours. As it passes through the atmosphere, its light is scattered by "
     "gas molecules, and shorter wavelengths are scattered much more strongly than longer ones (Rayleigh "
     "scattering). Blue light is therefore scattered across the whole sky and reaches our eyes from every "
     "direction, which makes the sky look blue. Violet is scattered even more, but sunlight contains less of "
     "it and our eyes are less sensitive to it."),
    ("What causes the seasons on Earth?",
     "The seasons are caused by the tilt of Earth's rotation axis, about 23.4 degrees relative to the plane of "
     "its orbit. For part of the year one hemisphere leans towards the Sun, so sunlight hits it more directly "
     "and the days are longer: that is summer there. Six months later the same hemisphere leans away and has "
     "winter. The changing distance between Earth and the Sun plays only a very small role."),
    ("What is the difference between weather and climate?",
     "Weather is the state of the atmosphere at a particular place and time: today's temperature, rain, wind "
     "and cloud. Climate is the long-term pattern of weather in a region, usually described by averages and "
     "extremes over thirty years or more. Put simply, weather is what you get on a given day, climate is what "
     "you can expect."),
    ("How does a vaccine work?",
     "A vaccine exposes the immune system to a harmless form or part of a pathogen, such as an inactivated "
     "virus, a protein from its surface, or instructions (mRNA) for making that protein. The immune system "
     "responds by producing antibodies and memory cells. If the person later meets the real pathogen, those "
     "memory cells recognise it and mount a faster, stronger defence, which prevents or reduces illness."),
    ("What is photosynthesis?",
     "Photosynthesis is the process by which plants, algae and some bacteria use the energy of light to turn "
     "carbon dioxide and water into sugars, releasing oxygen as a by-product. In plants it takes place mainly "
     "in the chloroplasts of leaf cells, where the pigment chlorophyll absorbs the light."),
    ("Who was the first person to walk on the Moon?",
     "Neil Armstrong, commander of NASA's Apollo 11 mission, was the first person to walk on the Moon, on "
     "20 July 1969 (21 July in UTC). Buzz Aldrin joined him on the surface about twenty minutes later."),
    ("What is the speed of light in a vacuum?",
     "The speed of light in a vacuum is exactly 299,792,458 metres per second, roughly 300,000 kilometres per "
     "second. The value is exact because the metre has been defined in terms of it since 1983."),
    ("What is DNA?",
     "DNA (deoxyribonucleic acid) is the molecule that carries the genetic instructions of living organisms "
     "and many viruses. It is made of two strands wound into a double helix; each strand is a chain of "
     "nucleotides containing one of four bases: adenine, thymine, guanine and cytosine. The order of these "
     "bases encodes the information used to build proteins."),
    ("What is inflation in economics?",
     "Inflation is the general rise in the prices of goods and services over time, which means each unit of "
     "money buys less than before. It is usually measured as the yearly percentage change in a price index "
     "such as the consumer price index (CPI)."),
    ("Why do leaves change colour in autumn?",
     "During the growing season leaves are green because of chlorophyll. As days shorten and temperatures "
     "drop, many trees stop making chlorophyll and break down what is there. Yellow and orange pigments "
     "(carotenoids) that were present all along become visible, and some species also produce red and purple "
     "pigments called anthocyanins."),
    ("How many bones are in the adult human body?",
     "An adult human skeleton typically has 206 bones. Babies are born with more, around 270, but several of "
     "them fuse together during growth."),
    ("What is the tallest mountain in the world above sea level?",
     "Mount Everest, on the border between Nepal and China, is the highest mountain above sea level. A joint "
     "Chinese-Nepali survey in 2020 measured its height as 8,848.86 metres."),
    ("What is the Great Barrier Reef?",
     "The Great Barrier Reef is the world's largest coral reef system. It lies in the Coral Sea off the coast "
     "of Queensland, Australia, stretches for more than 2,000 kilometres, and is made up of thousands of "
     "individual reefs and hundreds of islands. It has been a UNESCO World Heritage Site since 1981."),
    ("What is the difference between a virus and a bacterium?",
     "Bacteria are single-celled living organisms that can grow and reproduce on their own; many are harmless "
     "or useful, and bacterial infections can often be treated with antibiotics. Viruses are much smaller, are "
     "not cells, and can only reproduce inside the cells of a host. Antibiotics do not work against viruses."),
    ("What is machine learning?",
     "Machine learning is a branch of artificial intelligence in which computer systems learn patterns from "
     "data instead of following rules written by hand. A model is trained on examples, adjusting its "
     "parameters to reduce its errors, and is then used to make predictions or decisions on new data."),
    ("What does a compiler do?",
     "A compiler translates a program written in one language, usually a high-level language such as C or "
     "Rust, into another form, typically machine code or bytecode that a computer or virtual machine can run. "
     "Along the way it checks the program for errors and often optimises it."),
    ("What is an API?",
     "An API (application programming interface) is a defined way for one piece of software to use another. "
     "It specifies which requests can be made, how to make them, and what comes back, so that programs can "
     "work together without knowing each other's internal details. Web APIs, for example, let a program ask a "
     "server for data over HTTP."),
    ("What is the difference between RAM and storage?",
     "RAM (random-access memory) is fast, temporary memory that holds the programs and data a computer is "
     "using right now; its contents are lost when the power is turned off. Storage, such as an SSD or a hard "
     "drive, is slower but keeps data permanently, including when the computer is off."),
    ("What is a black hole?",
     "A black hole is a region of space where gravity is so strong that nothing, not even light, can escape "
     "once it crosses the boundary called the event horizon. Black holes form when enough mass is squeezed "
     "into a small enough space, for example when a very massive star collapses at the end of its life."),
    ("Which language has the most native speakers?",
     "Mandarin Chinese has the most native speakers, with roughly a billion people speaking it as their first "
     "language. English has more speakers in total when second-language speakers are counted."),
    ("Tell me about Nairobi.",
     "Nairobi is the capital and largest city of Kenya. It grew from a railway depot built in 1899 on the "
     "Uganda Railway and replaced Mombasa as the capital of the British East Africa Protectorate in 1905. Nairobi National Park, home to "
     "lions, rhinos and giraffes, lies just south of the city centre."),
    ("What is the Pythagorean theorem?",
     "The Pythagorean theorem states that in a right-angled triangle, the square of the hypotenuse (the side "
     "opposite the right angle) equals the sum of the squares of the other two sides: a^2 + b^2 = c^2. For "
     "example, a triangle with legs of 3 and 4 has a hypotenuse of 5."),
    ("What is the difference between an alligator and a crocodile?",
     "Alligators have a wide, U-shaped snout, and when their mouth is closed the lower teeth are mostly "
     "hidden. Crocodiles have a narrower, V-shaped snout, and the fourth tooth of the lower jaw stays visible "
     "when the mouth is shut. Crocodiles also tolerate salt water better, while alligators live mainly in "
     "fresh water in the United States and China."),
    ("What is the water cycle?",
     "The water cycle is the continuous movement of water on, above and below the Earth's surface. Water "
     "evaporates from oceans, lakes and plants, condenses into clouds, falls back as rain or snow, and flows "
     "through rivers and the ground back to the sea, where the cycle starts again."),
    ("Why do we have leap years?",
     "A calendar year has 365 days, but the Earth takes about 365.2422 days to go around the Sun relative to "
     "the seasons. Adding a 29 February every fourth year keeps the calendar in step. The Gregorian calendar "
     "skips the leap day in century years that are not divisible by 400, so 1900 was not a leap year but 2000 "
     "was."),
    ("What is a haiku?",
     "A haiku is a short form of Japanese poetry. In Japanese it has seventeen sound units (on) arranged in "
     "three phrases of 5, 7 and 5. In English it is usually written as three lines of five, seven and five "
     "syllables, and it traditionally refers to nature or a season."),
    ("What do red blood cells do?",
     "Red blood cells carry oxygen from the lungs to the tissues of the body and bring some of the carbon "
     "dioxide back to the lungs. They are packed with haemoglobin, an iron-containing protein that binds "
     "oxygen and gives blood its red colour."),
    ("At what temperature does water boil on the summit of Mount Everest?",
     "Because air pressure at the summit of Everest is only about a third of that at sea level, water boils "
     "there at roughly 70 degrees Celsius instead of 100."),
    ("Who wrote One Hundred Years of Solitude?",
     "One Hundred Years of Solitude was written by the Colombian author Gabriel Garcia Marquez and first "
     "published in Spanish in 1967 as Cien anos de soledad."),
    ("What is the Rosetta Stone?",
     "The Rosetta Stone is a granite slab carved in 196 BC with a decree issued in Memphis, Egypt. The same "
     "text appears in three scripts: Egyptian hieroglyphs, Demotic and Ancient Greek. Because scholars could "
     "read the Greek, the stone became the key to deciphering hieroglyphs, a task completed by Jean-Francois "
     "Champollion in 1822. It is kept in the British Museum in London."),
    ("What is an index fund?",
     "An index fund is an investment fund that aims to match the performance of a market index, such as the "
     "S&P 500, by holding the same securities in the same proportions. Because it does not pay managers to "
     "pick investments, it usually has low fees."),
    ("What does GDP measure?",
     "Gross domestic product (GDP) measures the total market value of all final goods and services produced "
     "within a country in a given period, usually a quarter or a year. It is the most common measure of the "
     "size of an economy."),
    ("What is the largest desert in the world?",
     "If deserts are defined by low precipitation, the largest is the Antarctic polar desert, at about 14 "
     "million square kilometres. The largest hot desert is the Sahara in northern Africa, at about 9 million "
     "square kilometres."),
    ("What is the ozone layer?",
     "The ozone layer is a region of Earth's stratosphere, roughly 15 to 35 kilometres above the surface, that "
     "contains a relatively high concentration of ozone (O3). It absorbs most of the Sun's ultraviolet-B "
     "radiation, which protects living things from much of its harm."),
    ("Who developed the first successful polio vaccine?",
     "Jonas Salk developed the first successful polio vaccine, an inactivated (killed-virus) vaccine that was "
     "declared safe and effective in 1955. Albert Sabin later developed an oral vaccine using a weakened live "
     "virus."),
    ("Which money is used in Japan?", "Japan uses the yen, whose currency code is JPY. Its banknotes are issued by the Bank of Japan."),
    ("What is open-source software?",
     "Open-source software is software whose source code is published under a licence that lets anyone use, "
     "study, change and redistribute it. Examples include the Linux kernel, Python and Firefox."),
]

GENERAL_QA = [
    ("How can I improve my sleep?",
     "Keep a regular schedule, going to bed and getting up at the same times every day, weekends included. "
     "Make your bedroom dark, quiet and cool. Avoid caffeine in the afternoon and large meals or alcohol "
     "close to bedtime. Get daylight and some exercise during the day, and put screens away for the last half "
     "hour before sleep. If poor sleep lasts for weeks, talk to a doctor."),
    ("What should I check when buying a used car?",
     "Ask for the service history and check that the mileage is consistent with it. Look for rust, uneven "
     "panel gaps and mismatched paint, which can point to accident repairs. Check the tyres for uneven wear, "
     "start the engine from cold, and take a test drive that includes braking, higher speeds and parking. "
     "Verify that the seller owns the car and that there is no outstanding finance, and if you can, have an "
     "independent mechanic inspect it."),
    ("How do I start learning a new language?",
     "Start with the most common words and phrases and practise a little every day rather than a lot once a "
     "week. Use spaced-repetition flashcards for vocabulary, listen to simple audio such as podcasts for "
     "learners, and speak from the first week, even if only to yourself or a language partner. Read and watch "
     "things you enjoy in the language as soon as you can follow them."),
    ("How should I prepare for a job interview?",
     "Research the company and the role, and reread the job description to see which of your experiences "
     "match it. Prepare short stories that show how you solved problems, using a structure such as situation, "
     "task, action, result. Practise answering common questions out loud, prepare a few questions of your "
     "own, and plan your route or test your video setup in advance."),
    ("How often should I water a succulent?",
     "Water a succulent thoroughly and then wait until the soil is completely dry before watering again. In "
     "spring and summer that is often every one to two weeks; in winter, when growth slows, it can be once a "
     "month or less. Use a pot with a drainage hole, because sitting in wet soil rots the roots."),
    ("What are good habits for writing maintainable code?",
     "Give things clear names, keep functions small and focused on one job, and write tests for the behaviour "
     "that matters. Avoid duplicating logic, handle errors explicitly, and leave short comments that explain "
     "why something is done rather than what it does. Use version control with small, well-described commits, "
     "and let a formatter and a linter enforce a consistent style."),
    ("How do I back up my files safely?",
     "A common rule is 3-2-1: keep three copies of your data, on two different kinds of storage, with one copy "
     "off-site, for example in cloud storage or on a drive kept at another address. Automate the backups so "
     "they actually happen, and test from time to time that you can restore files from them."),
    ("How can I reduce food waste at home?",
     "Plan meals and write a shopping list before you shop, and check what you already have. Store food "
     "properly, put older items at the front of the fridge, and freeze bread, leftovers and ripe fruit before "
     "they spoil. Learn the difference between 'use by' dates, which are about safety, and 'best before' "
     "dates, which are about quality."),
    ("Why should I use version control for my projects?",
     "Version control, such as Git, records every change to your files, so you can see what changed, when and "
     "why, and go back to an earlier version if something breaks. It lets several people work on the same "
     "project without overwriting each other's work, makes it safe to try ideas on branches, and gives you a "
     "backup when the repository is pushed to a remote server."),
    ("How do I choose a strong password?",
     "Use a long password, at least 12 to 16 characters; a passphrase of four or more random, unrelated words "
     "is long and easy to remember. Never reuse a password across sites, because a leak on one site then "
     "exposes the others. A password manager can generate and store unique passwords for you, and you should "
     "turn on two-factor authentication wherever it is offered."),
    ("How can I tell if an egg is still fresh?",
     "Put it in a bowl of cold water. A fresh egg sinks and lies on its side; an older egg stands on one end, "
     "because its air cell has grown; an egg that floats is old. Floating does not prove that an egg is "
     "spoiled, so crack it into a separate bowl: a bad egg has an unmistakable sulphurous smell."),
    ("How do I keep houseplants alive while I am away for two weeks?",
     "Water the plants well just before you leave and move them out of direct sun so they dry out more "
     "slowly. Group them together to keep the air around them humid. For thirsty plants, use self-watering "
     "spikes, a wick running from a bowl of water into the soil, or stand the pots on a tray of wet pebbles. "
     "Succulents and cacti will usually be fine without any help."),
    ("Is it a good idea to stretch before running?",
     "Long static stretches right before running are not necessary and may slightly reduce power. A better "
     "warm-up is five to ten minutes of easy jogging plus dynamic movements such as leg swings, lunges and "
     "high knees. Static stretching is more useful after the run or as a separate routine to maintain "
     "flexibility."),
    ("How do I make a good cup of black tea?",
     "Use freshly boiled water, pour it over the tea straight away, and steep for three to five minutes, "
     "depending on how strong you like it. Use about one teaspoon of loose tea or one bag per cup. Remove the "
     "leaves when the time is up so it does not turn bitter, then add milk, lemon or sugar to taste."),
    ("What is a good way to learn touch typing?",
     "Learn the home-row position first, with your fingers resting on A S D F and J K L ;, and use a typing "
     "tutor that introduces a few keys at a time. Do not look at the keyboard, even though it is slower at "
     "first. Aim for accuracy before speed, and practise for 15 to 20 minutes a day; most people become "
     "comfortable within a few weeks."),
]

BRAINSTORMING = [
    ("Give me some ideas for a rainy-day activity with young children.",
     "- Build a blanket fort and read stories inside it\n- Bake simple cookies or muffins together\n"
     "- Hold an indoor treasure hunt with picture clues\n- Make a collage from old magazines\n"
     "- Put on a puppet show with socks\n- Have a dance party with freeze-dance rules\n"
     "- Do a simple science experiment, such as a baking-soda volcano"),
    ("Suggest some names for a small neighbourhood bakery.",
     "- The Rolling Pin\n- Rise & Shine Bakery\n- Crumb Corner\n- Golden Crust\n- The Daily Loaf\n"
     "- Flour & Ember\n- Knead to Know"),
    ("What are some ways to save money on groceries?",
     "1. Plan the week's meals and shop with a list.\n2. Compare unit prices rather than package prices.\n"
     "3. Buy store brands for staples.\n4. Cook larger batches and freeze portions.\n"
     "5. Buy fruit and vegetables that are in season.\n6. Avoid shopping when you are hungry.\n"
     "7. Use up what is already in the cupboard before buying more."),
    ("Give me ideas for a ten-minute icebreaker for a new team.",
     "- Two truths and a lie: each person says three things about themselves and the others guess the lie.\n"
     "- Show and tell: everyone shares one object on their desk and its story.\n"
     "- Desert-island picks: one book, one song and one tool each person would take.\n"
     "- Common ground: in pairs, find three things you have in common that are not work-related.\n"
     "- One-word check-in: each person describes their week in one word and explains it."),
    ("What are some ways to spend less time on my phone?",
     "- Turn off notifications for everything except calls and messages from people.\n"
     "- Move social media apps off the home screen, or delete them and use the browser.\n"
     "- Set the screen to greyscale, which makes it less appealing.\n"
     "- Charge the phone outside the bedroom and use a separate alarm clock.\n"
     "- Use the built-in screen-time limits.\n"
     "- Replace the habit: keep a book or a puzzle where you usually reach for the phone."),
    ("Give me five project ideas for practising Python.",
     "1. A command-line to-do list that saves tasks to a JSON file.\n"
     "2. A script that renames and sorts the photos in a folder by the date they were taken.\n"
     "3. A web scraper that tracks the price of a product and emails you when it drops.\n"
     "4. A text adventure game with rooms, items and a simple parser.\n"
     "5. A small Flask or FastAPI web app that shortens URLs."),
    ("Suggest some themes for a children's birthday party.",
     "- Pirates, with a treasure map hunt\n- Outer space, with planet decorations and astronaut helmets\n"
     "- Dinosaurs, with a fossil dig in a sandpit\n- Superheroes, with capes to decorate\n"
     "- Under the sea\n- A science lab, with safe experiments\n- Jungle safari"),
    ("What can I do with an old glass jar?",
     "- Store dry food such as rice, pasta or spices\n- Use it as a vase for flowers\n"
     "- Make a candle holder or a lantern\n- Keep pens, brushes or craft supplies in it\n"
     "- Plant a small terrarium\n- Pack salads or overnight oats for lunch\n"
     "- Sort screws, nails and buttons"),
    ("What can I cook with eggs, spinach and cheese?",
     "- A spinach and cheese omelette\n- A frittata, finished in the oven\n- Baked eggs on a bed of wilted "
     "spinach with grated cheese on top\n- Savoury muffins or egg cups for breakfast\n- A quiche, if you also "
     "have pastry\n- Shakshuka-style eggs with spinach instead of tomato"),
    ("How can I make a small apartment feel bigger?",
     "- Use light colours on the walls and ceiling\n- Hang a large mirror opposite a window\n"
     "- Choose furniture with visible legs and slim profiles\n- Use vertical storage and keep surfaces clear\n"
     "- Pick pieces that do two jobs, such as a storage ottoman or a sofa bed\n"
     "- Hang curtains high and wide so the windows look larger"),
    ("Suggest some science fair projects for a ten-year-old.",
     "- Which paper towel brand absorbs the most water?\n- Do plants grow faster with music playing?\n"
     "- How does the temperature of water affect how fast sugar dissolves?\n"
     "- Which household liquids are acids and which are bases, tested with red-cabbage indicator?\n"
     "- Does the shape of a paper airplane change how far it flies?\n"
     "- Which materials are the best insulators for keeping ice from melting?"),
    ("What are good gifts for someone who loves hiking?",
     "- Merino wool hiking socks\n- A headlamp\n- A lightweight insulated water bottle\n"
     "- A guidebook or map of a trail they want to do\n- Trekking poles\n- A compact first-aid kit\n"
     "- A packable rain jacket"),
    ("How can I stay motivated to keep running?",
     "- Sign up for a race a few months away so you have a goal\n- Run with a friend or join a running club\n"
     "- Follow a structured plan that builds up gradually\n- Track your runs and look back at your progress\n"
     "- Vary your routes and try trails\n- Save a favourite podcast or playlist for runs only"),
    ("What are some simple ways to practise gratitude?",
     "- Write down three things you are grateful for each evening\n- Send a thank-you message to someone who "
     "helped you\n- Notice one good thing during your commute or walk\n- Say thank you specifically, naming "
     "what the person did\n- Keep a jar of notes about good moments and read them at the end of the year"),
    ("Name some board games that work well for six adults.",
     "- Codenames (team word game, plays well with 4 to 8)\n- Dixit (up to 6 in the base game, storytelling)\n"
     "- 7 Wonders (up to 7 players, quick simultaneous turns)\n- Just One (cooperative word guessing)\n"
     "- Wavelength (teams guess where a clue sits on a scale)\n- The Resistance (hidden roles, 5 to 10)"),
]

CLASSIFICATION = [
    ("Classify each of these as a fruit or a vegetable: carrot, apple, broccoli, banana, spinach, mango.",
     "Carrot: vegetable\nApple: fruit\nBroccoli: vegetable\nBanana: fruit\nSpinach: vegetable\nMango: fruit"),
    ("Which of these animals are mammals: dolphin, shark, bat, penguin, whale, salmon?",
     "The mammals are the dolphin, the bat and the whale. The shark and the salmon are fish, and the penguin "
     "is a bird."),
    ("Classify these instruments as string, woodwind or brass: violin, flute, cello, clarinet, harp, trumpet.",
     "Violin: string\nFlute: woodwind\nCello: string\nClarinet: woodwind\nHarp: string\nTrumpet: brass"),
    ("Which of these are programming languages and which are markup languages: HTML, Python, Markdown, "
     "Rust, XML, Go?",
     "Programming languages: Python, Rust, Go.\nMarkup languages: HTML, Markdown, XML."),
    ("Classify the sentiment of this review as positive, negative or mixed: \"The food was delicious, but we "
     "waited an hour for a table.\"",
     "Mixed"),
    ("Classify the sentiment of this review as positive or negative: \"Setup took two minutes and it has "
     "worked perfectly every day since.\"",
     "Positive"),
    ("Which of these countries are in Africa: Kenya, Peru, Ghana, Nepal, Morocco, Chile?",
     "Kenya, Ghana and Morocco are in Africa. Peru and Chile are in South America, and Nepal is in Asia."),
    ("Classify each animal as a herbivore, carnivore or omnivore: cow, lion, brown bear, rabbit, pig, eagle.",
     "Cow: herbivore\nLion: carnivore\nBrown bear: omnivore\nRabbit: herbivore\nPig: omnivore\n"
     "Eagle: carnivore"),
    ("Sort these planets into rocky planets and giant planets: Mercury, Jupiter, Earth, Saturn, Mars, Neptune.",
     "Rocky planets: Mercury, Earth, Mars.\nGiant planets: Jupiter and Saturn (gas giants) and Neptune (an "
     "ice giant)."),
    ("Is this email spam or not spam? \"Congratulations! You have been selected to receive a $1,000 gift "
     "card. Click the link and enter your bank details to claim it today.\"",
     "Spam. It promises an unexpected prize, creates urgency, and asks for bank details through a link, which "
     "are typical signs of a phishing email."),
    ("Is this email spam or not spam? \"Hi Sam, the meeting has moved to 3 pm on Thursday in room 2B. The "
     "agenda is attached. Thanks, Priya\"",
     "Not spam. It is an ordinary message between colleagues about a meeting."),
    ("Which of these energy sources are renewable: solar, coal, wind, natural gas, hydroelectric, geothermal?",
     "Renewable: solar, wind, hydroelectric and geothermal.\nNon-renewable: coal and natural gas, which are "
     "fossil fuels."),
    ("Classify each element as a metal or a nonmetal: iron, oxygen, copper, carbon, sodium, sulfur.",
     "Iron: metal\nOxygen: nonmetal\nCopper: metal\nCarbon: nonmetal\nSodium: metal\nSulfur: nonmetal"),
    ("Classify each sentence as a question, a statement or a command: \"Close the door.\" \"The train leaves "
     "at six.\" \"Have you eaten yet?\"",
     "\"Close the door.\": command\n\"The train leaves at six.\": statement\n\"Have you eaten yet?\": question"),
    ("Classify these as mammals, birds, reptiles or amphibians: frog, eagle, tortoise, kangaroo, salamander, "
     "ostrich.",
     "Frog: amphibian\nEagle: bird\nTortoise: reptile\nKangaroo: mammal\nSalamander: amphibian\nOstrich: bird"),
    ("Which of these are file formats for images: PNG, CSV, JPEG, MP3, GIF, DOCX?",
     "The image formats are PNG, JPEG and GIF. CSV is a text format for tables, MP3 is an audio format, and "
     "DOCX is a word-processing document format."),
    ("Classify the following customer messages by topic (billing, delivery or technical): \"I was charged "
     "twice this month.\" \"My parcel still hasn't arrived.\" \"The app crashes when I open settings.\"",
     "\"I was charged twice this month.\": billing\n\"My parcel still hasn't arrived.\": delivery\n"
     "\"The app crashes when I open settings.\": technical"),
    ("Which of these are citrus fruits: lemon, grape, lime, cherry, grapefruit, orange?",
     "The citrus fruits are the lemon, the lime, the grapefruit and the orange. Grapes and cherries are not "
     "citrus fruits."),
]

CREATIVE_WRITING = [
    ("Write a haiku about the first snow of winter.",
     "Silent flakes drifting\nthe garden forgets its paths\nmorning holds its breath"),
    ("Write a short poem about a lighthouse.",
     "It stands where the land gives up,\na white stroke against the grey,\nturning its one bright sentence\n"
     "over the water, night after night:\nhere are the rocks, here is the way home."),
    ("Write a two-sentence story about a lost key.",
     "For thirty years the brass key hung on a nail in Grandma's kitchen, opening nothing anyone knew of. "
     "The week after her funeral, we found the little locked tin under the floorboards, full of letters she "
     "had never sent."),
    ("Write a short, friendly out-of-office email reply.",
     "Hello,\n\nThank you for your message. I am out of the office until Monday 14 April with limited access "
     "to email. I will reply when I am back. If your message is urgent, please contact my colleague Alex at "
     "alex@example.com.\n\nBest regards,\nJordan"),
    ("Write a limerick about a cat who loves boxes.",
     "A tabby who lived in Devizes\nloved boxes of all shapes and sizes.\nWhen we bought her a bed,\n"
     "she ignored it and said,\n'The carton's the best of the prizes.'"),
    ("Write the opening paragraph of a mystery novel set in a small fishing village.",
     "The boats came back at dawn, as they always did, except for the Marie-Louise. By nine o'clock the whole "
     "harbour knew, and by ten the rumours had started: that Tom Carrick had been seen arguing on the quay the "
     "night before, that the nets had been cut, that the old man had finally done what he always said he "
     "would. Only Elsie Ward, who ran the bait shop and noticed everything, wondered why the harbour master "
     "had locked his office for the first time in twenty years."),
    ("Write a short motivational message for a friend who is starting a new job.",
     "Good luck tomorrow! Remember that they chose you for a reason. Nobody expects you to know everything on "
     "day one, so ask questions, be curious and give yourself time to settle in. I can't wait to hear how it "
     "goes."),
    ("Describe a busy market in the morning in three sentences.",
     "Before the sun is fully up, the stalls are already stacked with pyramids of oranges, crates of "
     "glistening fish and bunches of herbs still wet with dew. Vendors call out prices over the rattle of "
     "carts and the hiss of a coffee stand. Shoppers weave between them with baskets on their arms, pausing to "
     "squeeze a melon or taste a slice of cheese."),
    ("Write a product description for a reusable water bottle.",
     "Meet the bottle that keeps up with you. Double-walled stainless steel keeps drinks cold for 24 hours and "
     "hot for 12, the leak-proof lid goes safely into any bag, and the wide mouth fits ice cubes and a "
     "cleaning brush. It holds 750 ml, weighs less than 400 grams and replaces hundreds of single-use plastic "
     "bottles a year."),
    ("Write a haiku about a cup of coffee.",
     "Dark steam curls upward\nthe kitchen still half asleep\nfirst sip, the day starts"),
    ("Write a short fable about a tortoise that teaches a lesson about patience.",
     "A young tortoise watched the swallows cross the sky and begged his grandmother to teach him to fly. "
     "\"Plant this acorn,\" she said, \"and each morning bring it water.\" He grumbled, but he did it, every "
     "day for many years. One summer afternoon, resting in the shade of a tall oak, he watched the swallows "
     "nest in its branches and understood: some gifts only arrive for those who wait."),
    ("Write a thank-you note to a teacher.",
     "Dear Ms Okafor,\n\nThank you for a wonderful year. You made maths feel like a puzzle instead of a chore, "
     "and you always found time to explain things one more time when I was stuck. I'm going into next year "
     "feeling confident, and that is thanks to you.\n\nWith gratitude,\nLena"),
]
