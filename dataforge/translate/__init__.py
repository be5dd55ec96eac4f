"""`dataforge translate`: multilingual instruction data that keeps code, placeholders and meaning.

    from dataforge.translate import translate
    summary = translate("dolly.jsonl", "dolly.es-fr.jsonl", to="es,fr", model="gpt-4o-mini")

Modules, one idea each:
    protect    mask code/URLs/e-mails/placeholders/tags behind ⟦n⟧ tokens; restore and verify
    fields     which fields of a record are translated, kept empty or kept as code
    langs      supported language codes and each model family's spelling of them
    langcheck  langdetect with a fixed seed: is a text in the language asked for?
    batching   the JSON-array request format for chat models and lenient reply parsing
    assemble   planning a row (targets, --mix, --keep-source) and building translated rows
    backcheck  chrF of the round trip (sacrebleu)
    engine     requests through the LLM layer's session: batches, fallbacks, retries, back-checks
    local      a local Marian / NLLB / M2M-100 folder behind the LLM layer's backend protocol
    run        translate(): read, plan, run the engine, write rows and rejects, summarise
"""

from dataforge.translate.protect import Masked, ProtectionError, mask, restore
from dataforge.translate.run import TranslateSummary, translate

__all__ = ["translate", "TranslateSummary", "mask", "restore", "Masked", "ProtectionError"]
