"""A cheap check that a text is in a language we already expect: its most common function words.

`format --lang auto` asks, for each row, "is this in the dataset's main
language?". langdetect costs about a millisecond a text; counting function
words costs a few microseconds. A row passes when at least `MIN_HITS` of its
words are function words of that language and no other listed language has as
many. This only ever confirms the expected language; deciding that a row is in
another language is left to the full detector (`detector.identify`).

The same counts are a second opinion on langdetect (`agrees`): a short
German answer that langdetect calls Dutch has more German function words than
Dutch ones, and the detector then does not call itself sure. The evidence must
be positive: "connective tissue connective" has no function word of any
language, so it is no evidence of French, whatever langdetect says.
"""

from __future__ import annotations

import collections
import itertools
import re

MIN_HITS = 2
MIN_WORDS = 4  # a sure langdetect answer needs at least this many words ("1. Brazil 2. Argentina 3. Chile": 3)
MIN_WORDS_UNLISTED = 8  # ... and of a language without a list ("Does Jimmie take Virgil's suggestion?": "et")
PREFIX = 300  # characters read

# The commonest short words of each language (articles, pronouns, prepositions, conjunctions, auxiliaries).
_WORDS = {
    "en": "the and of to a in is that for it with as was on are be this by you not or have from at an which "
          "but they his her we their can will there been has what when how all would if were one more should "
          "do does into about these those its then than some any your our who",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus "
          "er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder "
          "aber vor zur bis mehr durch man dann wenn ich wir ihr",
    "es": "de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o fue este "
          "ha sí porque esta son entre cuando muy sin sobre también me hasta hay donde quien desde todo nos es "
          "ser mi tu te qué cómo cuál dónde está",
    "fr": "de la le et les des en un du une que est pour qui dans par au sur pas plus ne se ce il sont avec ou "
          "mais elle aux été cette nous leur vous on ses tout son comme fait peut sa ces je",
    "it": "di e il la che in a per un del non è una da sono le si con i al della gli come più ma anche nel lo "
          "questo ha alla dei delle se ci io mi suo ne tra essere fatto quando molto",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das tem "
          "à seu sua ou ser quando muito há nos já está eu também só pelo pela até isso ela entre era",
    "nl": "de en van het een in is dat op te zijn met voor niet die aan er ook als bij door maar om dan naar "
          "worden uit nog wel wordt kan dit heeft hij ze zo over ik wat al of",
    "sv": "och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi så "
          "kan man när år säger hon under också efter eller nu sin där vid mot ska skulle",
    "da": "og i at det en den til er som på de med han af for ikke der var mig sig men et har om vi min havde "
          "ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal",
    "no": "og i det som på er en til å av for med at har ikke de den han var jeg om et men så vi fra seg kan "
          "seg hun eller også etter skal ble bare nå når sin",
    "pl": "i w na z do że się nie to jest o jak ale po co tak za od jego przez dla czy już są może być tylko "
          "oraz jej go ich był jako także",
    "cs": "a v se na je že to s z do o k i jako ale by pro jsem za po jak byl jsou tak jen které který když "
          "nebo také už aby bylo jeho",
    "tr": "ve bir bu için ile çok olarak daha gibi ama olan kadar sonra her şey ancak değil veya göre ise "
          "ben sen biz onlar",
    "id": "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke ada adalah oleh bisa atau "
          "saya kami mereka telah sudah karena sebagai lebih",
    "vi": "và của là có trong được các cho không những một người với này để đã đến khi từ cũng như về thì "
          "sẽ nhiều hơn làm",
    "ro": "și în de la a cu pe o care nu din un este se mai ca sunt pentru fost să ce au lui sau dar",
    "ca": "de la i el que a en les els per un una del amb no és es al com més però dels ha seu va també",
    "ru": "и в не на что с по как это он я к а но из у за от то же она так его все для был о мы они бы",
    "uk": "і в на що з не та до як це у за від для й але його які є він вона ми вони так щоб",
    # Listed so that their texts are not confirmed as a close neighbour (af as nl, sk as cs, bg as ru...).
    "af": "die en van in is het nie te dat op vir met wat ek sy word hy om aan ook as was kan maar sal",
    "sk": "a v na sa je že to s z do o k ako ale by pre som za po aj ktorý len alebo už ich bol sú",
    "hr": "i je u na da se za su od s a što kao koji ili bi ali iz sam nije će biti kako",
    "sl": "in je v na da se za so z s pa ki tudi ali od po kot bi ne smo sem še",
    "bg": "и на за да се в от с не е по са че което като това който но ще към си бе",
    "mk": "и на се да во од за со не е што тоа кои како ќе но го ги беше",
    "sq": "të e në dhe për me një që nga i është së u se ka janë do më",
    "cy": "y yn a i o ar yr ei mae ac am wedi gan fel ni hyn eu bod",
    "tl": "ang ng sa na at mga ay si ni hindi ako ito para kung siya may",
}
# English is the main language of most datasets, and its commonest words ("a", "to", "in", "is") are
# also short words of other languages: counted for English only, so English rows confirm at once.
_EN = frozenset(_WORDS["en"].split())
WORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) - (_EN if lang != "en" else frozenset())
                                    for lang, words in _WORDS.items()}
_BY_WORD: dict[str, tuple[str, ...]] = {}
for _lang, _set in WORDS.items():
    for _w in _set:
        _BY_WORD[_w] = _BY_WORD.get(_w, ()) + (_lang,)
# "Newton's" is one word, not "newton" + the Czech preposition "s"; "l'eau" is not "l" + "eau" either.
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


def tokens(text: str) -> list[str]:
    """The lower-cased words of the first `PREFIX` characters."""
    return _TOKEN.findall(text[:PREFIX].lower())


def count(words: list[str]) -> collections.Counter:
    """{language: how many of `words` are its function words}."""
    hits = [langs for langs in map(_BY_WORD.get, words) if langs]
    return collections.Counter(itertools.chain.from_iterable(hits))


def scores(text: str) -> collections.Counter:
    """{language: function words of it} in the first `PREFIX` characters of `text`."""
    return count(tokens(text))


def confirmed(counts: collections.Counter, lang: str) -> bool:
    """`confirms` on counts already made."""
    mine = counts.get(lang, 0)
    return mine >= MIN_HITS and all(n < mine for other, n in counts.items() if other != lang)


def confirms(text: str, lang: str) -> bool:
    """True when `text` reads as `lang` by its function words and as no other listed language as much."""
    return lang in WORDS and confirmed(scores(text), lang)


def agrees(text: str, lang: str) -> bool:
    """True when the function words speak for `lang`: `MIN_WORDS` words or more, and `lang` confirmed
    (at least `MIN_HITS` of its function words, more than any other listed language has). A language
    without a list (fi, et, hu, sw, ar, hi, ...) cannot be confirmed: it needs `MIN_WORDS_UNLISTED`
    words, and no listed language may have `MIN_HITS` hits that are a fifth of the words or more (a
    quarter to a half of English or Spanish prose is function words; a Hungarian "a" or a Swahili "na"
    now and then is not English or Portuguese)."""
    toks = tokens(text)
    if len(toks) < (MIN_WORDS if lang in WORDS else MIN_WORDS_UNLISTED):
        return False
    counts = count(toks)
    if lang in WORDS:
        return confirmed(counts, lang)
    return all(n < MIN_HITS or n * 5 < len(toks) for n in counts.values())


def disagrees(text: str, lang: str) -> bool:
    """True when the function words speak against `lang`: another listed language has more of them than
    `lang` (at least `MIN_HITS`), or a text of 4+ words has none of `lang`'s. Unlisted languages: False."""
    if lang not in WORDS:
        return False
    counts = scores(text)
    mine = counts.get(lang, 0)
    if any(n >= MIN_HITS and n > mine for other, n in counts.items() if other != lang):
        return True
    return mine == 0 and len(_TOKEN.findall(text[:PREFIX])) >= 4
