"""One language detector for `report`, `format --lang auto` and `translate`'s checks.

    identify(text) -> Guess(lang, prob, script, status, how)   # script first, then langdetect
    probabilities(text) -> [(lang, prob), ...]
    confirms(text, lang) -> bool                                # a cheap check, no langdetect

See `detector.py` for the method and `bench/bench_langid.py` for its accuracy
on real sentences in 50 languages.
"""

from dataforge.langid.detector import CONFIDENT, NOT_LANGS, PREFIX, SEED, Guess, identify, probabilities, prose
from dataforge.langid.scripts import SCRIPTS, languages_of, script_counts
from dataforge.langid.words import confirms

__all__ = ["CONFIDENT", "NOT_LANGS", "PREFIX", "SCRIPTS", "SEED", "Guess", "confirms", "identify",
           "languages_of", "probabilities", "prose", "script_counts"]
