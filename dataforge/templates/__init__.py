"""Prompt template packs: data files rendered in Jinja2's sandbox.

    available(template_dir=None)      -> {name: folder}
    find_pack(name, dirs)             -> Pack (parsed, not rendered)
    check_pack_dir(folder)            -> list of problems with file:line
    example(name, lang)               -> an example rendered with a template
"""

from dataforge.templates.pack import BUILTIN_DIR, Pack, PackError, available, find_pack, load_pack, pack_dirs

__all__ = ["BUILTIN_DIR", "Pack", "PackError", "available", "find_pack", "load_pack", "pack_dirs"]
