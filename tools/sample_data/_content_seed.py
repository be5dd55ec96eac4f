"""Seed tasks for self-instruct (category, instruction, context, output) and hand-written prose paragraphs."""

SEEDS = [
    ("open_qa", "Explain why the Moon has phases.", "",
     "The Moon does not make its own light; we see the half lit by the Sun. As the Moon orbits Earth, about "
     "once every 29.5 days, we see different portions of that lit half, from none at new moon to all of it at "
     "full moon."),
    ("open_qa", "What is the difference between a simile and a metaphor?", "",
     "A simile compares two things using 'like' or 'as' (\"brave as a lion\"); a metaphor says one thing is "
     "another (\"he is a lion in battle\")."),
    ("brainstorming", "List five ways to make a long train journey more enjoyable.", "",
     "1. Download films or podcasts in advance.\n2. Bring snacks and a refillable water bottle.\n3. Pack a "
     "neck pillow.\n4. Start a book you have been saving.\n5. Watch the landscape and keep a travel journal."),
    ("brainstorming", "Suggest three names for a podcast about personal finance for students.", "",
     "1. Broke No More\n2. Budget Between Classes\n3. The Ramen Fund"),
    ("classification", "Classify the tone of this sentence as formal or informal: \"Hey, can u send me the file "
     "asap?\"", "", "Informal."),
    ("classification", "Sort these words into animals and tools: hammer, otter, wrench, falcon, saw, beetle.", "",
     "Animals: otter, falcon, beetle\nTools: hammer, wrench, saw"),
    ("closed_qa", "How many people work at the company?",
     "Founded in 2012 in Porto, Lumen Labs builds software for small clinics. It employs 48 people and has "
     "customers in nine countries.",
     "48 people."),
    ("closed_qa", "When does the library close on Saturdays?",
     "Opening hours: Monday to Friday 9:00-20:00, Saturday 10:00-16:00, closed on Sundays and public holidays.",
     "At 16:00."),
    ("information_extraction", "Extract every date mentioned in the text.",
     "The contract was signed on 4 March 2021, renewed on 1 April 2023, and will expire on 31 March 2026.",
     "4 March 2021, 1 April 2023, 31 March 2026"),
    ("information_extraction", "Extract the name, email and phone number from this signature.",
     "Best, Dana Whitfield | Operations Lead | dana.w@example.org | +44 20 7946 0321",
     "Name: Dana Whitfield\nEmail: dana.w@example.org\nPhone: +44 20 7946 0321"),
    ("summarization", "Summarize the paragraph in one sentence.",
     "The city council voted on Tuesday to turn the car park behind the station into a public garden. Work "
     "will start in the spring and is expected to take six months. The 120 parking spaces will move to a new "
     "multi-storey car park on Mill Road.",
     "The council will replace the station car park with a public garden from the spring, moving its 120 "
     "spaces to a new car park on Mill Road."),
    ("summarization", "Write a headline for this news item.",
     "Volunteers planted 3,000 trees along the river on Saturday, the largest single planting in the town's "
     "history.",
     "Volunteers plant record 3,000 trees along the river"),
    ("creative_writing", "Write a four-line poem about a train at night.", "",
     "A string of lights across the dark,\nthe rails hum low, a passing spark;\nthe sleeping towns slide "
     "softly by,\nbeneath a cold and starry sky."),
    ("creative_writing", "Write a one-paragraph story that begins with the sentence \"The lift stopped between "
     "floors.\"", "",
     "The lift stopped between floors. Mrs Adeyemi sighed, put down her shopping and offered the nervous "
     "teenager beside her a clementine. By the time the engineer pried the doors open forty minutes later, "
     "they had swapped recipes, discovered they lived on the same corridor and agreed to share a taxi to the "
     "market on Saturdays."),
    ("general_qa", "How do I politely ask a colleague to stop interrupting me in meetings?", "",
     "Talk to them privately and keep it specific and friendly: \"I've noticed I sometimes get cut off before "
     "I finish in meetings. Could you let me wrap up my point first? I'll do the same for you.\""),
    ("general_qa", "What should I pack for a day hike?", "",
     "Water, snacks, a map or offline map app, sun protection, a warm layer, a rain jacket, a small first-aid "
     "kit, a charged phone and a headlamp in case you are out later than planned."),
    ("open_qa", "Write a Python function that returns the largest number in a list without using max().", "",
     "```python\ndef largest(numbers):\n    if not numbers:\n        raise ValueError(\"empty list\")\n"
     "    best = numbers[0]\n    for n in numbers[1:]:\n        if n > best:\n            best = n\n"
     "    return best\n\nassert largest([3, 9, 2]) == 9\n```"),
    ("open_qa", "Explain what a hash table is in two sentences.", "",
     "A hash table stores key-value pairs in an array, using a hash function to turn each key into the index "
     "where its value is kept. This makes looking up, inserting and deleting a key take constant time on "
     "average."),
    ("closed_qa", "What does this shell command do?", "du -sh * | sort -h",
     "It shows the disk usage of each file and folder in the current directory in human-readable units "
     "(`du -sh *`) and sorts the list from smallest to largest (`sort -h` understands sizes such as 4K, 12M "
     "and 1.5G)."),
    ("open_qa", "Convert 3.5 hours into minutes.", "", "3.5 hours is 210 minutes (3.5 × 60)."),
    ("open_qa", "If a shirt costs 40 euros and is 25% off, what is the sale price?", "",
     "25% of 40 euros is 10 euros, so the sale price is 30 euros."),
    ("classification", "Is the following statement a fact or an opinion? \"Chocolate ice cream is the best "
     "flavour.\"", "", "Opinion."),
    ("brainstorming", "Give three ideas for reusing old t-shirts.", "",
     "1. Cut them into cleaning rags.\n2. Sew them into a tote bag without cutting a pattern: just stitch the "
     "bottom and cut off the sleeves.\n3. Make a memory quilt from shirts with special prints."),
    ("general_qa", "How can I make my emails clearer?", "",
     "Put the main point or request in the first two lines, use a subject line that says what the email is "
     "about, keep paragraphs short, and end with a clear next step and deadline if there is one."),
    ("information_extraction", "List the ingredients mentioned in the recipe.",
     "Whisk two eggs with a pinch of salt. Melt a knob of butter in a pan, pour in the eggs and stir gently "
     "until just set. Serve on toast with chopped chives.",
     "Eggs, salt, butter, toast (bread), chives."),
    ("open_qa", "Why do cats purr?", "",
     "Cats purr when they are content, but also when they are stressed, hurt or giving birth, so purring seems "
     "to be a way of communicating and of soothing themselves. The sound is produced by rapid twitching of the "
     "muscles of the larynx."),
    ("creative_writing", "Write a short product review of a pair of wireless headphones you were happy with.", "",
     "These headphones were a great buy. They paired with my phone in seconds, the battery easily lasts a "
     "week of commuting, and the noise cancelling makes the train bearable. The only drawback is that the case "
     "is a bit bulky. Four and a half stars."),
    ("summarization", "Give a one-line summary of this bug report.",
     "Steps: open Settings, switch the language to German, restart the app. Expected: menus in German. "
     "Actual: the app crashes on start and stays broken until it is reinstalled.",
     "Switching the language to German makes the app crash on every start until it is reinstalled."),
    ("classification", "Label each transaction as income or expense: salary 2,100; rent -850; freelance "
     "payment 300; groceries -95.", "",
     "Salary: income\nRent: expense\nFreelance payment: income\nGroceries: expense"),
    ("open_qa", "What is the difference between a list and a tuple in Python?", "",
     "Lists are mutable, so you can add, remove and change items; tuples are immutable once created. Tuples "
     "can therefore be used as dictionary keys, and are often used for fixed groups of values such as "
     "coordinates."),
    ("general_qa", "How do I write a good commit message?", "",
     "Write a short summary line of about 50 characters in the imperative mood (\"Fix crash when the file is "
     "empty\"), leave a blank line, then explain what changed and why in the body."),
    ("closed_qa", "Which team won, and by how much?",
     "In Saturday's final the Harbour Hawks beat the Valley Foxes 78-71 after trailing at half-time.",
     "The Harbour Hawks won by 7 points (78-71)."),
    ("brainstorming", "Suggest four questions to ask at the end of a job interview.", "",
     "1. What does a typical week look like in this role?\n2. How will success be measured in the first six "
     "months?\n3. What do you enjoy most about working here?\n4. What are the next steps in the hiring "
     "process?"),
    ("summarization", "Explain the main idea of the passage to a ten-year-old.",
     "Photosynthesis is the process by which green plants use light energy to convert carbon dioxide and "
     "water into glucose and oxygen.",
     "Plants make their own food from sunlight, air and water, and while they do it they give off the oxygen "
     "we breathe."),
]

PROSE = [
    "Bicycles are one of the most efficient machines ever built for turning human effort into movement. A "
    "rider on a flat road uses less energy per kilometre than a person walking, because the wheels roll with "
    "little friction and the legs work in a smooth, circular motion. The modern design, with two wheels of "
    "equal size and a chain driving the rear wheel, appeared in the 1880s and has changed surprisingly little "
    "since.",
    "A good night's sleep is built on habits more than on any single trick. The body keeps time with an "
    "internal clock that responds to daylight, meals and activity, so going to bed and getting up at the same "
    "hours every day makes it easier to fall asleep. Caffeine can stay in the blood for many hours, which is "
    "why an afternoon coffee may still be felt at midnight.",
    "Maps are models, and every model leaves something out. A flat map of the round Earth must stretch or "
    "squeeze some regions: the familiar Mercator projection keeps the shapes of small areas and the angles "
    "needed for navigation, but it makes countries near the poles look far larger than they are. Greenland "
    "appears about the size of Africa, although Africa is roughly fourteen times bigger.",
    "Bread is one of the oldest prepared foods. Flour, water and salt become a dough, and yeast or a "
    "sourdough culture makes it rise by producing gas. Kneading develops gluten, a network of proteins that "
    "traps the gas and gives the loaf its structure, and baking sets that structure while the crust browns.",
    "Compound interest means earning interest on interest. If you save money at five percent a year and "
    "leave the interest in the account, the second year's interest is calculated on a slightly larger sum, "
    "and so on. Over a few years the effect is small, but over decades it becomes large: at that rate, money "
    "roughly doubles in fourteen years.",
    "Libraries lend far more than books. Many public libraries offer free internet access, quiet places to "
    "study, language courses, help with job applications and activities for children. For people without a "
    "computer at home, the library is often the only place where they can fill in an online form or print a "
    "document.",
    "Honey never really goes bad when it is stored in a sealed container. It contains very little water and "
    "a lot of sugar, which makes it hard for bacteria and moulds to grow, and bees add an enzyme that produces "
    "small amounts of hydrogen peroxide. Over time honey may crystallise, but gentle warming turns it liquid "
    "again.",
    "Learning to play a musical instrument trains more than the fingers. A beginner must read notation, keep "
    "a steady beat, listen to the sound they make and correct it, all at the same time. Short daily practice "
    "works better than one long session a week, because the brain consolidates new movements between "
    "sessions, especially during sleep.",
    "Tides are caused mainly by the gravity of the Moon, with a smaller contribution from the Sun. The Moon "
    "pulls hardest on the side of the Earth facing it and least on the far side, and the difference stretches "
    "the oceans into two bulges. As the Earth turns, most coasts pass through both bulges each day and see two "
    "high tides and two low tides.",
    "A password manager is a program that remembers passwords so that you do not have to. It stores them in "
    "an encrypted vault protected by one strong master password, fills them in on websites, and can generate "
    "long random passwords for each account. Because every password is different, a leak at one website no "
    "longer puts all your other accounts at risk.",
    "Composting turns kitchen scraps and garden waste into a dark, crumbly material that improves soil. "
    "Bacteria, fungi, worms and insects break the material down, and they work best with a mix of green "
    "waste, such as vegetable peelings and grass, and brown waste, such as dry leaves and cardboard. A compost "
    "heap that is turned now and then and kept as damp as a wrung-out sponge can be ready within a few months.",
    "Volcanoes form where molten rock from deep inside the Earth reaches the surface. Most lie along the "
    "edges of tectonic plates, where one plate slides beneath another or where plates pull apart, but some, "
    "like those of Hawaii, sit above hot spots in the middle of a plate. The style of an eruption depends "
    "largely on how runny the magma is and how much gas it contains.",
    "Spreadsheets were one of the first reasons people bought personal computers. A spreadsheet arranges "
    "numbers and text in a grid of cells, and a cell can hold a formula that is recalculated whenever the "
    "values it depends on change. This simple idea lets people build budgets, schedules and forecasts without "
    "writing a program.",
    "Walking is an underrated form of exercise. It needs no equipment, it is gentle on the joints, and brisk "
    "walking raises the heart rate enough to improve fitness. Studies consistently find that people who walk "
    "regularly have a lower risk of heart disease, and many report that a walk clears their head better than "
    "any other break.",
    "Recycling works best when materials are clean and sorted. A greasy pizza box or a jar with food left in "
    "it can contaminate a whole batch of paper or glass, which may then end up in landfill. Checking the local "
    "rules matters, because what can be recycled depends on the equipment of each sorting facility.",
    "The human eye sees only a narrow band of the electromagnetic spectrum, from violet light at about 380 "
    "nanometres to red light at about 750 nanometres. Bees can see ultraviolet light, which reveals patterns "
    "on flowers that are invisible to us, and some snakes can sense infrared radiation, the heat given off by "
    "warm-blooded prey.",
    "Good documentation answers the questions a reader actually has, in the order they have them. A "
    "newcomer wants to know what a tool does and how to try it in five minutes; a regular user wants a "
    "reference they can search; someone debugging wants to know what each error means and what to do about "
    "it. Writing for each of them separately is usually clearer than one long page for everyone.",
    "Rivers shape the land they flow through. Fast water in the mountains cuts deep, narrow valleys and "
    "carries rocks and sand downstream. As the river reaches flatter ground it slows, drops its load and "
    "starts to wind back and forth in wide loops called meanders. Near the sea it may split into many "
    "channels and build a delta from the sediment it brings.",
    "Fermentation is one of the oldest ways of preserving food. Microorganisms such as lactic acid bacteria "
    "and yeasts convert sugars into acids, alcohol or gas, which changes the flavour and texture of the food "
    "and makes it harder for spoilage organisms to grow. Yoghurt, sauerkraut, kimchi, soy sauce, cheese, "
    "bread and beer all depend on fermentation.",
    "Time zones exist because the Sun reaches its highest point at different moments in different places. "
    "Before railways, most towns kept their own local time, set by the Sun. Train timetables made that "
    "impractical, and in the late nineteenth century countries began to adopt standard zones, most of them "
    "whole hours apart from Greenwich Mean Time.",
    "Plants can tell which way is up. Special cells in roots and shoots contain dense starch grains that "
    "settle at the bottom of the cell, and the plant uses their position to sense gravity. Roots grow towards "
    "it and shoots grow away from it, which is why a seedling comes up the right way no matter how the seed "
    "was planted.",
    "The printing of paper money began in China around the eleventh century, when merchants found heavy "
    "strings of coins impractical for large trades. Paper notes were promises that could be exchanged for "
    "coins or goods. Today most money exists only as entries in bank computers, and notes and coins make up "
    "a small share of the total.",
    "Unit tests check small pieces of a program in isolation, such as a single function, by calling them "
    "with known inputs and comparing the results with the expected outputs. A good test fails when the code "
    "is wrong and passes when it is right, runs quickly, and explains in its name what behaviour it protects. "
    "A suite of such tests lets developers change code with confidence.",
    "Snow is not frozen rain. Snowflakes grow directly from water vapour that freezes onto tiny particles "
    "high in a cloud, building six-sided ice crystals whose shapes depend on the temperature and humidity "
    "they pass through. Because each flake follows its own path, no two complex snowflakes are likely to be "
    "exactly alike.",
    "Museums do much more than display objects. Behind the galleries, conservators clean and repair "
    "artworks, researchers study collections to learn about the past, and registrars keep track of every item "
    "and its history. Only a small part of most large museums' collections is on show at any one time.",
]

PROSE += [
    "Lighthouses once needed keepers who lived beside the lamp, trimmed the wicks and wound the clockwork "
    "that turned the lens. Today almost all of them are automated, and satellite navigation has made them "
    "less essential, but they still mark dangerous coasts and each one flashes its own pattern so that "
    "sailors can tell them apart at night.",
    "Glaciers are rivers of ice that move slowly downhill under their own weight. As they flow they scrape "
    "the rock beneath them and carve wide, U-shaped valleys. Many of the world's glaciers are shrinking "
    "because more ice melts in summer than snow replaces in winter.",
    "A budget is simply a plan for money. Writing down what comes in and what goes out for a month usually "
    "reveals a few surprises, such as subscriptions nobody uses. The point is not to cut every pleasure but "
    "to decide in advance where the money should go, so that saving happens on purpose rather than by luck.",
    "Chess is played on a board of sixty-four squares by two players who each start with sixteen pieces. "
    "The aim is to checkmate the opposing king, trapping it so that it cannot escape capture. Although the "
    "rules fit on a single page, the number of possible games is far larger than the number of atoms in the "
    "observable universe.",
    "Wind turbines turn the movement of air into electricity. The wind pushes the blades round, the rotor "
    "drives a generator, and the power produced rises steeply with wind speed, so turbines are placed on "
    "hills, open plains and at sea, where the wind is strong and steady.",
    "Good posture at a desk is less about sitting perfectly straight than about changing position often. A "
    "screen at eye level, feet flat on the floor and elbows at roughly a right angle help, but the most "
    "useful habit is to stand up and move for a few minutes every half hour.",
    "Coral reefs are built by tiny animals called polyps, which produce hard skeletons of calcium carbonate. "
    "Many corals live in partnership with algae that sit inside their tissues and supply them with food made "
    "by photosynthesis. When the water becomes too warm, the corals expel the algae and turn white, a process "
    "known as bleaching.",
    "Handwriting is slower than typing, and that is part of its value. Studies of note-taking suggest that "
    "students who write by hand are forced to summarise rather than copy, and often remember ideas better as "
    "a result. For long documents, however, the keyboard wins easily.",
    "A marathon is 42.195 kilometres long. The distance was fixed after the 1908 London Olympics, where the "
    "course reportedly ran from Windsor Castle to the royal box in the stadium, and it became the standard "
    "in 1921. Most runners train for several months before their first one.",
    "Soap cleans because its molecules have two different ends. One end is attracted to water and the other "
    "to oil and grease. When you wash your hands, the oily ends surround dirt and fat, and the water-loving "
    "ends let the rinse water carry them away.",
    "Owls hunt mainly at night and rely on hearing as much as on sight. In many species the ear openings sit "
    "at different heights on each side of the head, which lets the bird pinpoint the source of a sound in "
    "the dark. Soft, fringed feathers make their flight almost silent.",
    "Electric cars replace the fuel tank and engine with a battery and an electric motor. The motor delivers "
    "its full pulling power from a standstill, which makes these cars quick to accelerate, and braking can "
    "recover some energy back into the battery. Their range depends strongly on speed and outside "
    "temperature.",
    "Podcasts grew from a simple idea: audio files published with a feed that listeners can subscribe to, so "
    "new episodes arrive automatically. Because recording needs little more than a microphone and a quiet "
    "room, people have made shows about almost every subject imaginable.",
    "Earthquakes happen when rocks along a fault suddenly slip past each other, releasing energy that has "
    "built up over years. The energy travels outwards as seismic waves. Scientists can say which regions "
    "are at risk, but they still cannot predict the exact time of a particular earthquake.",
    "Kindness at work is often practical rather than sentimental. Answering a question patiently, giving "
    "credit to the person who did the work, or warning a colleague early about a problem all make a team "
    "run more smoothly, and they cost very little.",
    "Salt has been valuable for most of human history because it preserves food. Before refrigeration, "
    "meat and fish were salted to keep them through the winter, and trade routes, taxes and even wars were "
    "organised around salt. The word salary is often said to come from the Latin word for salt.",
    "Most spiders spin silk, and many use it to build webs, but silk also serves as a safety line, a nest "
    "lining and even a sail: young spiders of some species release threads into the wind and drift for "
    "kilometres. Weight for weight, some spider silk is stronger than steel.",
    "Cities can be several degrees warmer than the countryside around them, an effect called the urban heat "
    "island. Dark roofs and roads absorb sunlight, buildings block the wind, and engines and air conditioners "
    "release heat. Trees, parks and light-coloured surfaces help to cool a city down.",
    "The first photographs required exposures of many minutes, so early portraits show sitters holding "
    "perfectly still, sometimes with hidden supports behind their heads. As lenses and light-sensitive "
    "materials improved, exposure times shrank to fractions of a second.",
    "A good recipe is tested, not just written. Quantities that look right on paper can produce a dry cake "
    "or a runny sauce, and ovens vary, so careful recipe writers cook each dish several times and describe "
    "what the food should look like at each stage, not only how long it takes.",
    "Seeds can wait. Many stay dormant for months or years until the conditions are right: enough water, "
    "the right temperature, and sometimes a period of cold, fire or passage through an animal's gut. Some "
    "seeds recovered from ancient deposits have germinated after hundreds of years.",
    "Public transport works best when it is frequent. A bus that comes every ten minutes needs no timetable, "
    "because people simply walk to the stop, while one that comes every hour must be planned around. Planners "
    "often say that frequency is freedom.",
    "Keyboards still use the QWERTY layout, designed for mechanical typewriters in the 1870s. Other layouts, "
    "such as Dvorak, place the most common letters under the strongest fingers, but the advantage has never "
    "been large enough to make most people relearn how to type.",
    "Whales are mammals, not fish. They breathe air through blowholes, give birth to live young and feed "
    "them with milk. Their ancestors lived on land around fifty million years ago, and the bones of tiny "
    "hind limbs can still be found inside the bodies of some species.",
    "Rainbows appear when sunlight enters raindrops, bends, reflects off the back of each drop and bends "
    "again on the way out. Each colour bends by a slightly different amount, so the light spreads into a "
    "band of colours. To see a rainbow, the Sun must be behind you and the rain in front of you.",
    "A timeline is one of the simplest tools for understanding history. Placing events in order, with the "
    "gaps between them drawn to scale, often corrects mistaken impressions: Cleopatra, for example, lived "
    "closer in time to the Moon landing than to the building of the Great Pyramid of Giza.",
    "Allergies are the immune system overreacting to something harmless, such as pollen, dust mites or "
    "certain foods. The body treats the substance as a threat and releases histamine and other chemicals, "
    "which cause sneezing, itching or swelling. Severe reactions need immediate medical help.",
    "Most of a tree is made from air. Through photosynthesis, leaves take in carbon dioxide and use the "
    "carbon to build wood, while the roots supply water and small amounts of minerals. When wood burns, that "
    "carbon returns to the air as carbon dioxide.",
]
