"""Hand-written multilingual rows (instruction shape). (lang, category, instruction, context, output)."""

ML = [
    # Spanish
    ("es", "open_qa", "¿Por qué el cielo es azul?", "",
     "Porque la atmósfera dispersa la luz del sol, y la luz azul, de longitud de onda más corta, se dispersa "
     "mucho más que la roja. Ese fenómeno se llama dispersión de Rayleigh, y hace que la luz azul nos llegue "
     "desde todas las direcciones del cielo."),
    ("es", "general_qa", "¿Cómo puedo mejorar mi pronunciación en inglés?", "",
     "Escucha mucho inglés real, como pódcasts o series, y repite frases en voz alta imitando el ritmo y la "
     "entonación. Grábate y compara tu voz con la original. Presta especial atención a los sonidos que no "
     "existen en español, como la diferencia entre «ship» y «sheep»."),
    ("es", "brainstorming", "Dame tres ideas para una cena rápida entre semana.", "",
     "1. Tortilla francesa con una ensalada de tomate.\n2. Pasta con ajo, aceite de oliva y guindilla.\n"
     "3. Arroz salteado con verduras y huevo."),
    ("es", "creative_writing", "Escribe un poema breve sobre el mar.", "",
     "El mar escribe en la arena\nnombres que nadie recuerda,\nlos borra con cada ola\ny vuelve a empezar la "
     "cuenta."),
    ("es", "closed_qa", "¿En qué año comenzaron las obras de la Sagrada Familia?",
     "La Sagrada Familia es una basílica de Barcelona. Las obras comenzaron en 1882 y, un año después, el "
     "arquitecto Antoni Gaudí se hizo cargo del proyecto, al que dedicó el resto de su vida. La construcción "
     "todavía continúa.",
     "Las obras comenzaron en 1882."),
    ("es", "classification", "Clasifica estos animales en mamíferos o aves: perro, águila, delfín, gorrión.", "",
     "Perro: mamífero\nÁguila: ave\nDelfín: mamífero\nGorrión: ave"),
    ("es", "summarization", "Resume el texto en una frase.",
     "El reciclaje consiste en recoger y procesar materiales usados, como el papel, el vidrio o el plástico, "
     "para fabricar con ellos nuevos productos. Así se reduce la cantidad de basura que termina en los "
     "vertederos y se ahorran materias primas y energía.",
     "El reciclaje transforma materiales usados en productos nuevos, lo que reduce la basura y ahorra materias "
     "primas y energía."),
    # French
    ("fr", "open_qa", "Quelle est la différence entre la météo et le climat ?", "",
     "La météo décrit l'état de l'atmosphère à un moment et à un endroit précis : la température, la pluie ou "
     "le vent d'aujourd'hui. Le climat correspond aux conditions moyennes observées dans une région sur une "
     "longue période, en général au moins trente ans."),
    ("fr", "general_qa", "Donne-moi trois conseils pour mieux dormir.", "",
     "1. Couche-toi et lève-toi à heures fixes, même le week-end.\n2. Évite les écrans pendant la demi-heure "
     "qui précède le coucher.\n3. Garde ta chambre sombre, calme et fraîche."),
    ("fr", "creative_writing", "Écris un court poème sur l'automne.", "",
     "Les feuilles dansent dans le vent,\nrouges et dorées, lentement ;\nle jardin se couvre d'or\net la "
     "lumière s'endort."),
    ("fr", "closed_qa", "Pour quel événement la tour Eiffel a-t-elle été construite ?",
     "La tour Eiffel a été construite par l'entreprise de Gustave Eiffel pour l'Exposition universelle de "
     "1889 à Paris. Haute de 300 mètres à son inauguration, elle a été pendant plus de quarante ans le plus "
     "haut monument du monde.",
     "Pour l'Exposition universelle de 1889 à Paris."),
    ("fr", "classification", "Classe ces mots en noms ou en verbes : manger, maison, courir, livre.", "",
     "Manger : verbe\nMaison : nom\nCourir : verbe\nLivre : nom"),
    ("fr", "open_qa", "Qui a écrit « Les Misérables » ?", "",
     "« Les Misérables » a été écrit par Victor Hugo et publié en 1862."),
    ("fr", "general_qa", "Comment conserver le pain plus longtemps ?", "",
     "Garde-le dans un sac en tissu ou une boîte à pain, à température ambiante, plutôt qu'au réfrigérateur, "
     "où il rassit plus vite. Pour le garder plusieurs jours, coupe-le en tranches et congèle-le : tu pourras "
     "ensuite les faire griller directement."),
    # German
    ("de", "open_qa", "Warum verlieren viele Bäume im Herbst ihre Blätter?", "",
     "Im Winter ist der Boden oft gefroren, und die Wurzeln können kaum Wasser aufnehmen. Über die Blätter "
     "würde der Baum aber weiter viel Wasser verdunsten. Deshalb werfen Laubbäume ihre Blätter im Herbst ab. "
     "Vorher holen sie wertvolle Nährstoffe aus den Blättern zurück, und das grüne Chlorophyll wird abgebaut, "
     "sodass gelbe und rote Farbstoffe sichtbar werden."),
    ("de", "brainstorming", "Nenne drei Ideen für einen Ausflug am Wochenende.", "",
     "1. Eine Wanderung mit Picknick an einem See.\n2. Ein Besuch im Museum oder im Zoo.\n3. Eine Radtour in "
     "die nächste Kleinstadt mit einem Stück Kuchen im Café."),
    ("de", "closed_qa", "Wo mündet der Rhein?",
     "Der Rhein ist rund 1.230 Kilometer lang. Er entspringt in den Schweizer Alpen, fließt durch den "
     "Bodensee und mündet in den Niederlanden in die Nordsee.",
     "In den Niederlanden, in die Nordsee."),
    ("de", "creative_writing", "Schreibe einen kurzen Vierzeiler über den Winter.", "",
     "Der Schnee fällt leise auf das Land,\ndie Welt liegt still im weißen Kleid,\nam Fenster malt mit "
     "kalter Hand\nder Frost sein Bild für kurze Zeit."),
    ("de", "classification", "Ordne diese Lebensmittel Obst oder Gemüse zu: Apfel, Karotte, Birne, Brokkoli.", "",
     "Apfel: Obst\nKarotte: Gemüse\nBirne: Obst\nBrokkoli: Gemüse"),
    ("de", "general_qa", "Wie kann ich beim Heizen Energie sparen?", "",
     "Senke die Raumtemperatur um ein Grad; das spart nach gängigen Faustregeln etwa sechs Prozent "
     "Heizenergie. Lüfte mehrmals am Tag kurz mit weit geöffnetem Fenster, statt es dauerhaft gekippt zu "
     "lassen. Halte die Heizkörper frei von Möbeln und Vorhängen und entlüfte sie, wenn sie gluckern."),
    ("de", "open_qa", "Wer komponierte die Neunte Sinfonie mit der „Ode an die Freude“?", "",
     "Ludwig van Beethoven. Die Sinfonie wurde 1824 in Wien uraufgeführt."),
    # Chinese
    ("zh", "open_qa", "为什么天空是蓝色的？", "",
     "太阳光进入大气层后会被空气分子散射，波长较短的蓝光比波长较长的红光散射得更强烈，这种现象叫做瑞利散射。"
     "被散射的蓝光从天空的各个方向进入我们的眼睛，所以天空看起来是蓝色的。"),
    ("zh", "general_qa", "请给我三个提高学习效率的建议。", "",
     "1. 制定明确的学习计划，把大任务拆分成小目标。\n2. 采用番茄工作法：专注学习二十五分钟，然后休息五分钟。\n"
     "3. 学完后及时复习，并试着用自己的话把内容讲出来。"),
    ("zh", "closed_qa", "长城在哪一年被列入《世界遗产名录》？",
     "长城是中国古代修建的军事防御工程，现存的大部分城墙建于明朝。1987年，长城被列入联合国教科文组织《世界遗产名录》。",
     "1987年。"),
    ("zh", "creative_writing", "写一首关于月亮的短诗。", "",
     "夜空挂着一轮明月，\n把银光洒在窗前，\n远方的人抬头望着，\n思念也变得明亮。"),
    ("zh", "classification", "请把下列动物分为哺乳动物和鸟类：猫、麻雀、鲸、企鹅。", "",
     "哺乳动物：猫、鲸\n鸟类：麻雀、企鹅"),
    ("zh", "general_qa", "怎样泡一杯好喝的绿茶？", "",
     "绿茶不宜用沸水冲泡，水温以八十度左右为宜。每150毫升水放大约三克茶叶，先倒入少量热水润茶，"
     "再注水浸泡两到三分钟即可。水温过高或浸泡太久，茶汤都会变苦。"),
    ("zh", "open_qa", "《红楼梦》的作者是谁？", "",
     "《红楼梦》的作者是清代作家曹雪芹。一般认为，今天通行的一百二十回本中，后四十回由高鹗等人续写整理。"),
    # Japanese
    ("ja", "open_qa", "なぜ空は青いのですか？", "",
     "太陽の光が大気を通るとき、空気の分子によって散乱されます。波長の短い青い光は、波長の長い赤い光よりも"
     "ずっと強く散乱されるため、空のあらゆる方向から青い光が目に届きます。これをレイリー散乱といいます。"),
    ("ja", "open_qa", "富士山の高さはどれくらいですか？", "",
     "富士山の標高は3,776メートルで、日本で最も高い山です。"),
    ("ja", "brainstorming", "雨の日の過ごし方のアイデアを三つ教えてください。", "",
     "1. 読みたかった本を読む。\n2. 家で新しい料理に挑戦する。\n3. 美術館や博物館に出かける。"),
    ("ja", "closed_qa", "俳句は何音からなりますか？",
     "俳句は五・七・五の十七音からなる日本の短い詩です。季節を表す言葉である「季語」を入れるのが伝統的な決まりです。"
     "松尾芭蕉は江戸時代の有名な俳人です。",
     "五・七・五の十七音からなります。"),
    ("ja", "classification", "次の食べ物を果物と野菜に分けてください：りんご、にんじん、みかん、キャベツ。", "",
     "果物：りんご、みかん\n野菜：にんじん、キャベツ"),
    ("ja", "general_qa", "よく眠るためのコツを教えてください。", "",
     "毎日同じ時間に寝て、同じ時間に起きるようにしましょう。寝る前の一時間はスマートフォンやパソコンの画面を"
     "見ないようにし、夕方以降はカフェインを控えると効果的です。寝室は暗く静かで、涼しく保つのがおすすめです。"),
    ("ja", "creative_writing", "春についての俳句を書いてください。", "", "桜散る\n川面に浮かぶ\n春の舟"),
    # Italian
    ("it", "open_qa", "Qual è il fiume più lungo d'Italia?", "",
     "Il Po, lungo circa 652 chilometri. Nasce dal Monviso, in Piemonte, e sfocia nel mare Adriatico."),
    ("it", "brainstorming", "Dammi tre consigli per risparmiare acqua in casa.", "",
     "1. Chiudi il rubinetto mentre ti lavi i denti.\n2. Fai la doccia invece del bagno.\n3. Avvia la "
     "lavatrice e la lavastoviglie solo a pieno carico."),
    ("it", "closed_qa", "Sotto quale imperatore fu inaugurato il Colosseo?",
     "Il Colosseo, il cui nome originale era Anfiteatro Flavio, fu inaugurato nell'80 d.C. sotto "
     "l'imperatore Tito. Poteva ospitare circa 50.000 spettatori.",
     "Sotto l'imperatore Tito, nell'80 d.C."),
    ("it", "creative_writing", "Scrivi una breve poesia sul caffè del mattino.", "",
     "Profumo scuro nella tazza,\nil giorno apre piano gli occhi;\nun sorso caldo, una carezza,\ne il sonno "
     "se ne va in pochi attimi."),
    ("it", "general_qa", "Come si prepara un buon caffè con la moka?", "",
     "Riempi la caldaia d'acqua fino alla valvola, metti il caffè macinato nel filtro senza pressarlo, avvita "
     "bene e metti la moka sul fuoco basso. Quando il caffè comincia a salire e la moka gorgoglia, spegni il "
     "fuoco e mescola il caffè prima di servirlo."),
    ("it", "classification", "Classifica queste parole come nomi o verbi: mangiare, casa, correre, libro.", "",
     "Mangiare: verbo\nCasa: nome\nCorrere: verbo\nLibro: nome"),
    # Portuguese
    ("pt", "open_qa", "Qual é o maior estado do Brasil em área?", "",
     "O Amazonas, com cerca de 1,56 milhão de quilômetros quadrados."),
    ("pt", "brainstorming", "Dê três dicas para quem quer começar a correr.", "",
     "1. Comece devagar, alternando caminhada e corrida.\n2. Use tênis confortáveis e adequados.\n3. Aumente "
     "a distância aos poucos, no máximo cerca de dez por cento por semana."),
    ("pt", "closed_qa", "Quando foi inaugurado o Cristo Redentor?",
     "O Cristo Redentor é uma estátua de Jesus Cristo no alto do morro do Corcovado, no Rio de Janeiro. Foi "
     "inaugurado em 1931 e tem 30 metros de altura, sem contar o pedestal de 8 metros.",
     "Em 1931."),
    ("pt", "creative_writing", "Escreva um pequeno poema sobre a chuva.", "",
     "A chuva bate na janela,\nconta histórias devagar;\na rua inteira fica bela\ne o mundo para pra escutar."),
    ("pt", "general_qa", "Como posso economizar energia em casa?", "",
     "Troque as lâmpadas antigas por lâmpadas LED, tire os aparelhos da tomada quando não estiverem em uso e "
     "aproveite ao máximo a luz natural. Na hora de comprar eletrodomésticos, prefira os de maior eficiência "
     "energética."),
    ("pt", "classification", "Classifique como fruta ou legume: banana, cenoura, manga, abacaxi.", "",
     "Banana: fruta\nCenoura: legume\nManga: fruta\nAbacaxi: fruta"),
    # English
    ("en", "open_qa", "Why do onions make people cry?", "",
     "Cutting an onion breaks its cells and releases enzymes that turn sulphur compounds into a volatile gas, "
     "syn-propanethial-S-oxide. When the gas reaches the eyes it irritates them, and the eyes produce tears to "
     "wash it away. Chilling the onion first and using a sharp knife reduce the effect."),
    ("en", "brainstorming", "Give me three ideas for a quick healthy snack.", "",
     "1. Apple slices with peanut butter.\n2. Plain yoghurt with berries and a few nuts.\n3. Carrot and "
     "cucumber sticks with hummus."),
    ("en", "closed_qa", "How long is the Golden Gate Bridge's main span?",
     "The Golden Gate Bridge in San Francisco opened in 1937. Its main span is 1,280 metres long, and for "
     "almost 27 years it was the longest suspension bridge span in the world.",
     "1,280 metres."),
]

# Planted language mismatches: `lang` is the instruction's language, the output is in another one.
MISMATCH = [
    ("es", "open_qa", "¿Cuál es la capital de Francia?", "",
     "The capital of France is Paris, which is also the largest city in the country."),
    ("fr", "open_qa", "Explique ce qu'est la photosynthèse en une phrase.", "",
     "Die Photosynthese ist der Vorgang, bei dem Pflanzen mithilfe von Lichtenergie aus Kohlendioxid und "
     "Wasser Zucker und Sauerstoff herstellen."),
    ("de", "open_qa", "Wie viele Tage hat ein normales Jahr?", "",
     "Un año normal tiene 365 días, y un año bisiesto tiene uno más, es decir, 366 días."),
]
