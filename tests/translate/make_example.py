"""Rebuild sample_data/translated_example.jsonl: eight Dolly rows into Spanish, originals kept.

The translations were written by hand (masked form, ⟦n⟧ tokens where code,
URLs and e-mails go) and served by the scripted loopback chat server; the file
itself is produced by the real `dataforge.translate.translate()` path:
protection, batching, verification, language check, lineage.

    .venv/bin/python tests/translate/make_example.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

IDS = ["dolly-0001", "dolly-0012", "dolly-0046", "dolly-0098", "dolly-0153", "dolly-0263", "dolly-0003",
       "dolly-0075"]

SPANISH = {
    "What is ⟦1⟧ used for?": "¿Para qué sirve ⟦1⟧?",
    "⟦1⟧ is part of the ⟦2⟧ module. Its documentation says: Returns the current setting for the given locale "
    "category as tuple (language code, encoding). Its signature is ⟦3⟧.":
        "⟦1⟧ forma parte del módulo ⟦2⟧. Su documentación dice: devuelve la configuración actual de la categoría de"
        " configuración regional indicada como una tupla (código de idioma, codificación). Su firma es ⟦3⟧.",
    "How do I find all lines containing the word 'error' in a log file on Linux?":
        "¿Cómo encuentro en Linux todas las líneas de un archivo de registro que contienen la palabra 'error'?",
    "Use ⟦1⟧:\n\n⟦2⟧": "Usa ⟦1⟧:\n\n⟦2⟧",
    "Write a Python function that checks whether a string is a palindrome, ignoring case and spaces.":
        "Escribe una función de Python que compruebe si una cadena es un palíndromo, sin tener en cuenta las"
        " mayúsculas ni los espacios.",
    "⟦1⟧\n\nThe function keeps only letters and digits, lower-cases them, and compares the result with its reverse.":
        "⟦1⟧\n\nLa función conserva solo las letras y los dígitos, los pasa a minúsculas y compara el resultado con"
        " su inverso.",
    "Explain what this regular expression matches.": "Explica qué coincide con esta expresión regular.",
    "It matches a whole string made of four digits, a hyphen, two digits, a hyphen and two digits, such as a date in"
    " the form ⟦1⟧. ⟦2⟧ and ⟦3⟧ anchor the match at the start and end, and ⟦4⟧ means exactly n digits. It checks"
    " only the format, not whether the date exists:\n\n⟦5⟧":
        "Coincide con una cadena completa formada por cuatro dígitos, un guion, dos dígitos, un guion y dos dígitos,"
        " como una fecha con la forma ⟦1⟧. ⟦2⟧ y ⟦3⟧ anclan la coincidencia al principio y al final, y ⟦4⟧"
        " significa exactamente n dígitos. Solo comprueba el formato, no si la fecha existe:\n\n⟦5⟧",
    "Write a short, friendly out-of-office email reply.":
        "Escribe una respuesta automática de ausencia breve y amable para el correo electrónico.",
    "Hello,\n\nThank you for your message. I am out of the office until Monday 14 April with limited access to"
    " email. I will reply when I am back. If your message is urgent, please contact my colleague Alex at ⟦1⟧.\n\n"
    "Best regards,\nJordan":
        "Hola:\n\nGracias por tu mensaje. Estoy fuera de la oficina hasta el lunes 14 de abril y tengo un acceso"
        " limitado al correo. Responderé cuando vuelva. Si tu mensaje es urgente, ponte en contacto con mi"
        " compañero Alex en ⟦1⟧.\n\nUn saludo,\nJordan",
    "In Python, what does the standard-library class ⟦1⟧ do?":
        "En Python, ¿qué hace la clase ⟦1⟧ de la biblioteca estándar?",
    "⟦1⟧ is part of the ⟦2⟧ module. Its documentation says: Extensible JSON <⟦3⟧> encoder for Python data"
    " structures. Its signature is ⟦4⟧.":
        "⟦1⟧ forma parte del módulo ⟦2⟧. Su documentación dice: codificador JSON <⟦3⟧> extensible para las"
        " estructuras de datos de Python. Su firma es ⟦4⟧.",
    "Explain the Python class ⟦1⟧.": "Explica la clase de Python ⟦1⟧.",
    "⟦1⟧ is part of the ⟦2⟧ module. Its documentation says: An IncrementalDecoder decodes an input in multiple"
    " steps. The input can be passed piece by piece to the decode() method. The IncrementalDecoder remembers the"
    " state of the decoding process between calls to decode(). Its signature is ⟦3⟧.":
        "⟦1⟧ forma parte del módulo ⟦2⟧. Su documentación dice: un IncrementalDecoder decodifica una entrada en"
        " varios pasos. La entrada puede pasarse pieza a pieza al método decode(). El IncrementalDecoder recuerda"
        " el estado del proceso de decodificación entre las llamadas a decode(). Su firma es ⟦3⟧.",
    "What does ⟦1⟧ do in Python?": "¿Qué hace ⟦1⟧ en Python?",
    "⟦1⟧ is part of the ⟦2⟧ module. Its documentation says: If the base not specified, returns the natural"
    " logarithm (base e) of x.":
        "⟦1⟧ forma parte del módulo ⟦2⟧. Su documentación dice: si no se indica la base, devuelve el logaritmo"
        " natural (base e) de x.",
}


def main(out: Path = ROOT / "sample_data" / "translated_example.jsonl") -> None:
    from translate_scripted import Translator

    from dataforge.llm import RunPolicy
    from dataforge.llm.loopback import LoopbackServer
    from dataforge.translate import translate

    rows = {json.loads(line)["id"]: line for line in (ROOT / "sample_data" / "dolly_en.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()}
    translator = Translator(table=SPANISH)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(translator) as srv:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(rows[i] + "\n" for i in IDS), encoding="utf-8")
        os.environ.setdefault("OPENAI_API_KEY", "not-needed")
        work = Path(tmp) / "out.jsonl"
        summary = translate(src, work, to="es", keep_source=True, model="scripted-loopback", base_url=srv.url,
                            policy=RunPolicy(concurrency=2, handle_sigint=False), progress=False)
        missing = [t for req in translator.seen for item in json.loads(req["messages"][-1]["content"])
                   for k, t in item.items() if k != "id" and t not in SPANISH]
        assert not missing, f"no hand translation for: {missing}"
        assert summary.rejected == 0 and summary.translated == len(IDS), summary.lines()
        out.write_text(work.read_text(encoding="utf-8"), encoding="utf-8")
    print("\n".join(summary.lines()))


if __name__ == "__main__":
    main()
