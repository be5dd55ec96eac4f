"""Hand-written reference passages with questions answered only from the passage.

Each entry: (passage, [(category, instruction, response), ...]). Categories: closed_qa,
information_extraction, summarization.
"""

PASSAGES = [
    ("Python is a high-level, general-purpose programming language created by Guido van Rossum. Work on it "
     "began in the late 1980s at CWI in the Netherlands, and the first public release, version 0.9.0, came "
     "out in February 1991. Python 2.0 was released in 2000 and Python 3.0 in December 2008; Python 2 "
     "reached its end of life on 1 January 2020. The language is known for using indentation to delimit "
     "blocks and for its large standard library. Its name comes from the British comedy group Monty Python, "
     "not from the snake.",
     [("closed_qa", "When was the first public release of Python?",
       "The first public release, version 0.9.0, came out in February 1991."),
      ("information_extraction", "List every Python version mentioned in the passage with its release date.",
       "- Python 0.9.0: February 1991\n- Python 2.0: 2000\n- Python 3.0: December 2008"),
      ("closed_qa", "Where does the name Python come from?",
       "It comes from the British comedy group Monty Python, not from the snake.")]),
    ("The western honey bee (Apis mellifera) lives in colonies that can contain tens of thousands of "
     "individuals. A colony normally has a single queen, who lays the eggs; a few hundred males, called "
     "drones, whose role is to mate with queens from other colonies; and many thousands of female worker "
     "bees. Workers do everything else: they build the wax comb, clean the hive, feed the larvae, guard the "
     "entrance and forage for nectar and pollen. Foragers tell their nest-mates where food is by performing "
     "the waggle dance, whose angle and duration encode the direction and distance of the source.",
     [("closed_qa", "What is the role of drones in a honey bee colony?",
       "Drones are the males of the colony; their role is to mate with queens from other colonies."),
      ("information_extraction", "Extract the tasks carried out by worker bees as a bulleted list.",
       "- Building the wax comb\n- Cleaning the hive\n- Feeding the larvae\n- Guarding the entrance\n"
       "- Foraging for nectar and pollen"),
      ("summarization", "Summarize this passage in one sentence.",
       "A honey bee colony has one egg-laying queen, a few hundred male drones and thousands of female workers "
       "who do all the other work, and foragers use the waggle dance to show where food is.")]),
    ("Marie Curie was born Maria Sklodowska in Warsaw in 1867 and moved to Paris in 1891 to study at the "
     "Sorbonne. With her husband Pierre Curie she discovered two new elements, polonium and radium, in 1898. "
     "In 1903 she shared the Nobel Prize in Physics with Pierre Curie and Henri Becquerel for their work on "
     "radioactivity, becoming the first woman to win a Nobel Prize. In 1911 she received the Nobel Prize in "
     "Chemistry on her own, and she remains the only person to have won Nobel Prizes in two different "
     "sciences. She died in 1934.",
     [("closed_qa", "Which two elements did Marie and Pierre Curie discover?",
       "They discovered polonium and radium, in 1898."),
      ("closed_qa", "How many Nobel Prizes did Marie Curie win, and in which fields?",
       "She won two: the Nobel Prize in Physics in 1903, shared with Pierre Curie and Henri Becquerel, and the "
       "Nobel Prize in Chemistry in 1911."),
      ("information_extraction", "Extract the years mentioned in the passage and what happened in each.",
       "- 1867: Marie Curie was born in Warsaw.\n- 1891: she moved to Paris to study at the Sorbonne.\n"
       "- 1898: she and Pierre Curie discovered polonium and radium.\n- 1903: she shared the Nobel Prize in "
       "Physics.\n- 1911: she received the Nobel Prize in Chemistry.\n- 1934: she died.")]),
    ("The Amazon rainforest covers much of the Amazon basin in South America, an area of about 5.5 million "
     "square kilometres of forest. Around 60 percent of it lies in Brazil, followed by Peru and Colombia, with "
     "smaller parts in Venezuela, Ecuador, Bolivia, Guyana, Suriname and French Guiana. It is the largest "
     "tropical rainforest in the world and holds an enormous share of the planet's species. Deforestation, "
     "mostly for cattle pasture and farmland, has removed a significant part of the forest since the 1970s.",
     [("closed_qa", "Which country contains the largest share of the Amazon rainforest?",
       "Brazil, which contains around 60 percent of it."),
      ("information_extraction", "List the countries that the passage says contain part of the Amazon rainforest.",
       "Brazil, Peru, Colombia, Venezuela, Ecuador, Bolivia, Guyana, Suriname and French Guiana (a French "
       "overseas region)."),
      ("closed_qa", "According to the passage, what is the main cause of deforestation in the Amazon?",
       "Clearing land for cattle pasture and farmland.")]),
    ("Johannes Gutenberg, a goldsmith from Mainz, developed a printing system with movable metal type in "
     "Europe around 1440. His system combined a hand mould for casting large numbers of identical letters, an "
     "oil-based ink, and a press adapted from those used to make wine and olive oil. The most famous product "
     "of his workshop is the Gutenberg Bible, printed in the 1450s, of which around 180 copies were made. "
     "Printing spread quickly: by 1500, presses were operating in more than 250 European towns.",
     [("closed_qa", "What was Johannes Gutenberg's original trade?",
       "He was a goldsmith, from Mainz."),
      ("information_extraction", "What three elements did Gutenberg's printing system combine?",
       "- A hand mould for casting large numbers of identical metal letters\n- An oil-based ink\n"
       "- A press adapted from wine and olive-oil presses"),
      ("closed_qa", "How many copies of the Gutenberg Bible were made?",
       "Around 180 copies.")]),
    ("The Panama Canal is an artificial waterway of about 82 kilometres that crosses the Isthmus of Panama and "
     "connects the Atlantic Ocean, through the Caribbean Sea, with the Pacific Ocean. A French attempt to "
     "build a canal in the 1880s failed because of engineering problems and disease. The United States took "
     "over the project in 1904 and opened the canal on 15 August 1914. Ships are raised and lowered by locks "
     "to Gatun Lake, 26 metres above sea level. Control of the canal passed from the United States to Panama "
     "at the end of 1999.",
     [("closed_qa", "When did the Panama Canal open?", "It opened on 15 August 1914."),
      ("closed_qa", "Why did the French attempt to build the canal fail?",
       "It failed because of engineering problems and disease."),
      ("summarization", "Summarize the history of the Panama Canal in two sentences.",
       "After a failed French attempt in the 1880s, the United States took over the project in 1904 and "
       "opened the 82-kilometre canal between the Atlantic and Pacific in 1914. Control passed to Panama at "
       "the end of 1999.")]),
    ("The International Space Station (ISS) is a crewed research laboratory in low Earth orbit, at an "
     "altitude of roughly 400 kilometres. Its first module, the Russian-built Zarya, was launched in November "
     "1998, and people have lived on board continuously since November 2000. The station is a joint project "
     "of five space agencies: NASA (United States), Roscosmos (Russia), ESA (Europe), JAXA (Japan) and CSA "
     "(Canada). It circles the Earth about every 90 minutes, so its crew sees around sixteen sunrises a day.",
     [("closed_qa", "How long does the ISS take to orbit the Earth?", "About 90 minutes."),
      ("information_extraction", "List the space agencies that run the ISS and their countries or regions.",
       "- NASA: United States\n- Roscosmos: Russia\n- ESA: Europe\n- JAXA: Japan\n- CSA: Canada"),
      ("closed_qa", "Since when has the ISS been continuously inhabited?", "Since November 2000.")]),
    ("Coffee comes from the roasted seeds, usually called beans, of plants of the genus Coffea. The two most "
     "widely grown species are Coffea arabica, which produces most of the world's coffee and is prized for "
     "its flavour, and Coffea canephora, known as robusta, which is hardier and contains more caffeine. "
     "According to legend, coffee was discovered in Ethiopia, and by the 15th century it was being drunk in "
     "Sufi monasteries in Yemen. Today Brazil is by far the largest producer, followed by Vietnam, which "
     "grows mainly robusta.",
     [("closed_qa", "Which coffee species contains more caffeine?",
       "Coffea canephora, known as robusta, contains more caffeine than arabica."),
      ("closed_qa", "Which country is the largest coffee producer?", "Brazil."),
      ("summarization", "Summarize the passage in one sentence.",
       "Coffee is made from the roasted seeds of Coffea plants, mainly arabica and the hardier, more "
       "caffeinated robusta; it was first drunk in Yemen by the 15th century and is now produced above all "
       "by Brazil and Vietnam.")]),
    ("Linux is a family of operating systems built around the Linux kernel, which Linus Torvalds, then a "
     "student at the University of Helsinki, first released in 1991. The kernel is distributed under the GNU "
     "General Public License, version 2. A complete system, called a distribution, bundles the kernel with "
     "tools and libraries, many from the GNU Project. Well-known distributions include Debian, Fedora and "
     "Ubuntu. Linux runs on most of the world's servers, all of the 500 fastest supercomputers, and, through "
     "Android, on billions of phones.",
     [("closed_qa", "Who first released the Linux kernel, and when?",
       "Linus Torvalds, then a student at the University of Helsinki, first released it in 1991."),
      ("information_extraction", "Which Linux distributions does the passage name?", "Debian, Fedora and Ubuntu."),
      ("closed_qa", "Under which licence is the Linux kernel distributed?",
       "The GNU General Public License, version 2.")]),
    ("The Danube is Europe's second-longest river after the Volga, flowing for about 2,850 kilometres. It "
     "rises in the Black Forest in Germany and flows generally eastwards to the Black Sea, where it forms a "
     "large delta in Romania and Ukraine. It passes through or along the borders of ten countries, more than "
     "any other river in the world, and four capital cities lie on its banks: Vienna, Bratislava, Budapest "
     "and Belgrade.",
     [("closed_qa", "Where does the Danube rise?", "In the Black Forest in Germany."),
      ("information_extraction", "Which capital cities lie on the Danube according to the passage?",
       "Vienna, Bratislava, Budapest and Belgrade."),
      ("closed_qa", "Which European river is longer than the Danube?", "The Volga.")]),
    ("The octopus is a soft-bodied mollusc with eight arms. It has three hearts: two pump blood through the "
     "gills and the third pumps it through the rest of the body. Its blood is blue because it uses a "
     "copper-containing protein, haemocyanin, to carry oxygen. Octopuses are known for their intelligence; "
     "they can solve puzzles, open jars and escape from tanks. Most of their neurons are in their arms rather "
     "than in their central brain. Many species can change the colour and texture of their skin within a "
     "fraction of a second to blend in with their surroundings.",
     [("closed_qa", "Why is octopus blood blue?",
       "Because it carries oxygen with haemocyanin, a protein that contains copper."),
      ("closed_qa", "How many hearts does an octopus have, and what do they do?",
       "Three: two pump blood through the gills, and the third pumps it through the rest of the body."),
      ("summarization", "Summarize the passage in one sentence.",
       "The octopus is an intelligent eight-armed mollusc with three hearts, copper-based blue blood, most of "
       "its neurons in its arms, and skin that can change colour and texture in an instant.")]),
    ("RMS Titanic was a British passenger liner operated by the White Star Line. On her maiden voyage from "
     "Southampton to New York, she struck an iceberg late on 14 April 1912 and sank in the early hours of 15 "
     "April in the North Atlantic. More than 1,500 of the roughly 2,200 people on board died, partly because "
     "the ship carried lifeboats for only about half of them. The disaster led to the first International "
     "Convention for the Safety of Life at Sea (SOLAS) in 1914, which required enough lifeboat places for "
     "everyone on board.",
     [("closed_qa", "Where was the Titanic sailing from and to on her maiden voyage?",
       "From Southampton to New York."),
      ("closed_qa", "What safety rule came out of the Titanic disaster?",
       "The 1914 International Convention for the Safety of Life at Sea (SOLAS) required enough lifeboat "
       "places for everyone on board."),
      ("information_extraction", "Extract the numbers of people mentioned in the passage.",
       "- Roughly 2,200 people were on board.\n- More than 1,500 died.")]),
    ("In September 1928, Alexander Fleming, a Scottish bacteriologist at St Mary's Hospital in London, noticed "
     "that a mould had contaminated one of his culture plates of Staphylococcus bacteria, and that the "
     "bacteria around the mould had been destroyed. The mould was Penicillium, and Fleming named the "
     "substance it produced penicillin. Turning it into a usable drug took another decade: Howard Florey, "
     "Ernst Chain and their team in Oxford purified it and tested it from 1939 onwards, and mass production "
     "during the Second World War saved many lives. Fleming, Florey and Chain shared the 1945 Nobel Prize in "
     "Physiology or Medicine.",
     [("closed_qa", "What did Fleming observe on his culture plate?",
       "A mould had contaminated a plate of Staphylococcus bacteria, and the bacteria around the mould had "
       "been destroyed."),
      ("information_extraction", "Extract the names of the people in the passage and their roles.",
       "- Alexander Fleming: Scottish bacteriologist who discovered penicillin in 1928\n- Howard Florey: led "
       "the Oxford team that purified and tested penicillin from 1939\n- Ernst Chain: member of that team\n"
       "All three shared the 1945 Nobel Prize in Physiology or Medicine."),
      ("summarization", "Summarize the passage in one sentence.",
       "Alexander Fleming discovered penicillin in 1928 when a mould killed bacteria on a culture plate, and "
       "Florey and Chain's team turned it into a mass-produced drug, earning all three the 1945 Nobel Prize.")]),
    ("Wikipedia is a free online encyclopedia written and maintained by volunteers. It was launched on 15 "
     "January 2001 by Jimmy Wales and Larry Sanger and is hosted by the Wikimedia Foundation, a non-profit "
     "organisation. Anyone can edit most of its articles. Its content is available under a Creative Commons "
     "Attribution-ShareAlike licence. There are editions in more than 300 languages, and the English edition "
     "alone contains more than six million articles.",
     [("closed_qa", "Who launched Wikipedia, and when?",
       "Jimmy Wales and Larry Sanger launched it on 15 January 2001."),
      ("closed_qa", "Which organisation hosts Wikipedia?", "The Wikimedia Foundation, a non-profit organisation."),
      ("information_extraction", "Under what licence is Wikipedia's content available?",
       "A Creative Commons Attribution-ShareAlike licence.")]),
    ("Git is a distributed version control system created by Linus Torvalds in 2005 to manage the "
     "development of the Linux kernel, after the free licence for the proprietary tool the project had been "
     "using was withdrawn. In Git, every clone of a repository contains the full history, so most operations "
     "are local and fast. Changes are recorded as commits, each identified by a hash of its content, and work "
     "can proceed in parallel on branches that are later merged. Junio Hamano has maintained Git since July "
     "2005.",
     [("closed_qa", "Why was Git created?",
       "Linus Torvalds created it in 2005 to manage Linux kernel development after the free licence for the "
       "proprietary version control tool the project had been using was withdrawn."),
      ("closed_qa", "Who maintains Git?", "Junio Hamano, since July 2005."),
      ("summarization", "Explain in one sentence what makes Git distributed, based on the passage.",
       "Every clone of a Git repository holds the full history, so most operations happen locally without a "
       "central server.")]),
    ("Ada Lovelace (1815-1852), the daughter of the poet Lord Byron, was an English mathematician. In 1843 she "
     "translated an Italian article about Charles Babbage's proposed Analytical Engine, a mechanical "
     "general-purpose computer, and added her own notes, which were three times longer than the article. "
     "Note G contained a method for calculating Bernoulli numbers with the engine, often described as the "
     "first published computer program. She also suggested that such a machine could manipulate symbols other "
     "than numbers, such as musical notes.",
     [("closed_qa", "What was in Ada Lovelace's Note G?",
       "A method for calculating Bernoulli numbers with the Analytical Engine, often described as the first "
       "published computer program."),
      ("closed_qa", "Whose machine was the Analytical Engine?", "Charles Babbage's."),
      ("information_extraction", "Extract Ada Lovelace's birth and death years and her father's name.",
       "Born 1815, died 1852; her father was the poet Lord Byron.")]),
    ("Mount Kilimanjaro, in north-eastern Tanzania, is the highest mountain in Africa, rising to 5,895 metres "
     "at Uhuru Peak on the Kibo cone. It is a dormant volcano made up of three cones: Kibo, Mawenzi and Shira. "
     "The first recorded ascent to the summit was made in 1889 by Hans Meyer and Ludwig Purtscheller, guided "
     "by Yohani Kinyala Lauwo. The mountain's glaciers have shrunk dramatically during the twentieth and "
     "twenty-first centuries.",
     [("closed_qa", "How high is Mount Kilimanjaro?", "5,895 metres, at Uhuru Peak."),
      ("information_extraction", "Name the three volcanic cones of Kilimanjaro.", "Kibo, Mawenzi and Shira."),
      ("closed_qa", "Who made the first recorded ascent of Kilimanjaro?",
       "Hans Meyer and Ludwig Purtscheller, in 1889, guided by Yohani Kinyala Lauwo.")]),
    ("Tea is made by pouring hot water over the cured leaves of Camellia sinensis, an evergreen shrub native "
     "to East Asia. The main types differ in how the leaves are processed. For green tea, the leaves are "
     "heated soon after picking to stop oxidation. Oolong tea is partially oxidised, and black tea is fully "
     "oxidised, which gives it a darker colour and stronger flavour. Herbal infusions such as peppermint or "
     "chamomile are often called tea but contain no Camellia sinensis leaves.",
     [("closed_qa", "What is the difference between green tea and black tea?",
       "Green tea leaves are heated soon after picking to stop oxidation, while black tea leaves are fully "
       "oxidised, giving a darker colour and stronger flavour."),
      ("classification", "Based on the passage, classify these drinks as true tea or herbal infusion: "
                         "oolong, peppermint, green tea, chamomile.",
       "Oolong: true tea\nPeppermint: herbal infusion\nGreen tea: true tea\nChamomile: herbal infusion"),
      ("closed_qa", "Which plant is tea made from?", "Camellia sinensis, an evergreen shrub native to East Asia.")]),
    ("The Hubble Space Telescope was launched by the Space Shuttle Discovery on 24 April 1990. Soon after, "
     "engineers found that its 2.4-metre primary mirror had been ground to a slightly wrong shape, which "
     "blurred its images. A servicing mission in December 1993 installed corrective optics, and Hubble went "
     "on to make some of the most important observations in astronomy, including helping to measure the rate "
     "at which the universe is expanding. It was built by NASA with contributions from the European Space "
     "Agency.",
     [("closed_qa", "What was wrong with Hubble after its launch?",
       "Its 2.4-metre primary mirror had been ground to a slightly wrong shape, which blurred its images."),
      ("closed_qa", "When was Hubble's optical problem fixed?",
       "A servicing mission in December 1993 installed corrective optics."),
      ("summarization", "Summarize the passage in one sentence.",
       "Launched in 1990 with a flawed mirror that was corrected in 1993, the NASA-ESA Hubble Space Telescope "
       "became one of astronomy's most productive instruments.")]),
    ("Sourdough bread is leavened by a starter, a fermented mixture of flour and water that contains wild "
     "yeasts and lactic acid bacteria, instead of commercial baker's yeast. The yeasts produce the carbon "
     "dioxide that makes the dough rise, while the bacteria produce lactic and acetic acids that give the "
     "bread its sour taste. A starter is kept alive by regularly discarding part of it and feeding it fresh "
     "flour and water. Because fermentation is slow, a sourdough loaf often takes a day or more from mixing "
     "to baking.",
     [("closed_qa", "What gives sourdough its sour taste?",
       "Lactic and acetic acids produced by the lactic acid bacteria in the starter."),
      ("closed_qa", "How is a sourdough starter kept alive?",
       "By regularly discarding part of it and feeding it fresh flour and water."),
      ("information_extraction", "List the microorganisms in a sourdough starter and what each produces.",
       "- Wild yeasts: carbon dioxide, which makes the dough rise\n- Lactic acid bacteria: lactic and acetic "
       "acids, which make the bread sour")]),
    ("Meeting notes, 3 March. Attendees: Priya (product), Tom (engineering), Ana (design). Decisions: the "
     "mobile app release moves from 10 March to 17 March so that the login bug can be fixed; Ana will deliver "
     "the final onboarding screens by 7 March. Action items: Tom to fix the login bug and add a regression "
     "test; Priya to tell the support team about the new date; Ana to share the screens in the design "
     "channel. Next meeting: 10 March.",
     [("information_extraction", "List the action items with the person responsible for each.",
       "- Tom: fix the login bug and add a regression test\n- Priya: tell the support team about the new "
       "release date\n- Ana: deliver the final onboarding screens by 7 March and share them in the design "
       "channel"),
      ("closed_qa", "Why was the release moved?", "So that the login bug can be fixed."),
      ("summarization", "Summarize these meeting notes in one sentence.",
       "The mobile app release moves to 17 March to allow the login bug to be fixed, with Tom fixing it, Ana "
       "delivering the onboarding screens by 7 March and Priya informing support.")]),
    ("Return policy: Items bought online can be returned within 30 days of delivery for a full refund, "
     "provided they are unused and in their original packaging. Sale items can be exchanged but not refunded. "
     "To start a return, log in to your account and choose 'Return an item'; we will email you a prepaid "
     "label. Refunds are made to the original payment method within 5 to 7 working days after we receive the "
     "item. Personalised items cannot be returned unless they arrive damaged.",
     [("closed_qa", "Can I get a refund on a sale item?", "No. Sale items can be exchanged but not refunded."),
      ("closed_qa", "How long do I have to return an item bought online?",
       "30 days from delivery, as long as the item is unused and in its original packaging."),
      ("information_extraction", "Extract the steps for returning an item.",
       "1. Log in to your account.\n2. Choose 'Return an item'.\n3. Use the prepaid label that is emailed to "
       "you to send the item back.\nThe refund then goes to the original payment method within 5 to 7 working "
       "days after the item is received.")]),
]
