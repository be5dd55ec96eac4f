"""Outputs never destroy: what a command may write over, checked before any work starts.

dataforge deletes or replaces only what it created. Every command (and every
library entry point) calls `check_outputs` with the paths it will write and the
paths it reads; it refuses, with one `error:` line naming the path:

- a device, pipe or socket (`-o /dev/null`), `.`, the current folder or a folder above it;
- an output that is an input, through any symlink or hard link (compared by device
  and inode, never by spelling), a folder that holds an input, or the rejects file
  `OUT.rejects.jsonl` being an input (`convert X.rejects.jsonl -o X`);
- two outputs of one command that are the same path (`-o` equal to `--json`);
- an existing folder that a folder output would replace, unless it is empty or
  carries the `.dataforge-output` marker that dataforge writes into every folder
  it writes. `--overwrite` never changes this.

`--overwrite` (the `overwrite` flag) only lets a folder output replace an
existing regular *file* of that name; an existing file where a file is written
is replaced atomically, as any tool writing its output does.

Output kinds: "file" (written whole, renamed into place), "folder" (a folder
written whole and renamed into place: datasets folders), "dir" (a folder the
command writes into, e.g. a training run; only identity rules apply, the command
itself decides about existing contents); None picks file or folder by the name
as the writers do (no suffix or a trailing / means a datasets folder).
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import os
import stat
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from dataforge.errors import InputError

MARKER = ".dataforge-output"
KINDS = (None, "file", "folder", "dir")

_overwrite: contextvars.ContextVar[bool] = contextvars.ContextVar("dataforge_overwrite", default=False)
_KEEP_ENV = "DATAFORGE_KEEP_EARLIER_OUTPUTS"
_command = "library"


class UnsafeOutput(InputError):
    """An output path that dataforge refuses to write over; nothing was done."""


def set_command(name: str) -> None:
    """Name recorded in the markers of folders written from now on (the CLI sets its subcommand)."""
    global _command
    _command = name


@contextlib.contextmanager
def overwriting(flag: bool = True) -> Iterator[None]:
    """`--overwrite` for every check_outputs call inside (library entry points check again)."""
    token = _overwrite.set(bool(flag))
    try:
        yield
    finally:
        _overwrite.reset(token)


@contextlib.contextmanager
def keeping_earlier_outputs(flag: bool = True) -> Iterator[None]:
    """Inside, a writer that got no rows leaves an existing output as it was instead of replacing
    it with an empty one: the run is about to fail (exit 1), and a failure must not cost the user
    the previous good output. The CLI turns it on unless --allow-empty. An environment variable
    rather than a context variable, so the worker processes that write dedup's output see it too."""
    old = os.environ.get(_KEEP_ENV)
    os.environ[_KEEP_ENV] = "1" if flag else "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(_KEEP_ENV, None)
        else:
            os.environ[_KEEP_ENV] = old


def keeps_earlier_outputs() -> bool:
    return os.environ.get(_KEEP_ENV) == "1"


def is_dataforge_folder(path: str | os.PathLike) -> bool:
    """A real folder (not a link) holding the marker of an earlier dataforge write.

    The one rule for every folder output (data writers, train, merge): the marker is JSON
    with "written_by": "dataforge".
    """
    try:
        if os.path.islink(path) or not os.path.isdir(path):
            return False
        with open(os.path.join(path, MARKER), "rb") as fh:
            data = orjson.loads(fh.read(1 << 16))
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("written_by") == "dataforge"


def write_marker(folder: str | os.PathLike, command: str | None = None, *, list_files: bool = False) -> None:
    """Mark `folder` as a dataforge output, so a later run may replace it.

    With `list_files` (a folder written whole, at once) the marker also lists every file in it, so a
    later run replaces the folder only while it holds nothing else: a note the user added stops it.
    """
    path = Path(folder) / MARKER
    if path.exists():
        return
    record = {"written_by": "dataforge", "command": command or _command}
    if list_files:
        files = _relative_files(folder, MAX_LISTED_FILES + 1)
        if len(files) <= MAX_LISTED_FILES:
            record["files"] = sorted(files)
    path.write_bytes(orjson.dumps(record) + b"\n")


MAX_LISTED_FILES = 10_000  # past this a marker lists nothing (and the folder is judged by the marker alone)


def _relative_files(folder, limit: int) -> list[str]:
    found: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), folder)
            if rel != MARKER:
                found.append(rel)
            if len(found) >= limit:
                return found
    return found


def foreign_files(path: str | os.PathLike) -> list[str]:
    """Files in a marked folder that its marker does not list (added after dataforge wrote it)."""
    try:
        with open(os.path.join(path, MARKER), "rb") as fh:
            listed = orjson.loads(fh.read()).get("files")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return []
    if not isinstance(listed, list):
        return []
    known = set(listed)
    return sorted(f for f in _relative_files(path, MAX_LISTED_FILES * 2) if f not in known)


def replaceable_folder(path: str | os.PathLike) -> bool:
    """A folder dataforge may delete or replace: a real folder that is empty, or marked as its output
    and holding nothing its marker does not list."""
    if os.path.islink(path):
        return False
    try:
        with os.scandir(path) as entries:
            empty = next(entries, None) is None
    except OSError:
        return False
    return empty or (is_dataforge_folder(path) and not foreign_files(path))


def check_outputs(outputs, inputs=(), *, overwrite: bool | None = None, kind: str | None = None,
                  with_rejects: bool = True, labels: Iterable[str] | None = None) -> None:
    """Refuse (UnsafeOutput) any output that would destroy an input or a file dataforge did not write.

    `outputs`/`inputs`: paths, lists of paths (None skipped); inputs may be globs or folders.
    `with_rejects`: the first output also writes `OUT.rejects.jsonl`, which is checked too.
    `labels`: how each output is named in messages ("-o", "--json"), in order.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    overwrite = _overwrite.get() if overwrite is None else overwrite
    names = list(labels or [])
    outs: list[tuple[str, str, str]] = []  # (path, label, kind)
    for i, path in enumerate(_flatten(outputs)):
        label = names[i] if i < len(names) else ("the output" if i == 0 else f"output #{i + 1}")
        outs.append((path, label, kind or _kind_by_name(path)))
    if not outs:
        return
    ins = _Inputs(inputs)
    cwd = os.path.realpath(os.getcwd())
    seen: dict = {}
    for path, label, how in outs:
        _check(path, label, how, ins, cwd, overwrite, seen)
    if with_rejects and kind != "dir":  # checked after the output itself, which may not even have a name
        first = outs[0][0]
        _check(str(rejects_path_for(first)), f"the rejects file of {first}", "file", ins, cwd, overwrite, seen)


def rejects_path_for(out: str | os.PathLike) -> Path:
    """`data.parquet` -> `data.parquet.rejects.jsonl` (also for dataset folders)."""
    out = Path(str(out).rstrip("/"))
    return out.with_name(out.name + ".rejects.jsonl")


def _check(path: str, label: str, how: str, ins: "_Inputs", cwd: str, overwrite: bool, seen: dict) -> None:
    _check_one(path, label, how, ins, cwd, overwrite)
    key = _identity(path)
    if key in seen:
        raise UnsafeOutput(f"{path}: named as two outputs of one command ({seen[key]} and {label})",
                           "give each output its own path")
    seen.setdefault(key, label)


def _check_one(path: str, label: str, how: str, ins: "_Inputs", cwd: str, overwrite: bool) -> None:
    if not path.strip():
        raise UnsafeOutput(f"{label}: the output path is empty", "give a file or folder name")
    real = os.path.realpath(path)
    if how != "dir" and (real == cwd or cwd.startswith(real.rstrip(os.sep) + os.sep)):
        what = "the current folder" if real == cwd else "a folder holding the current folder"
        raise UnsafeOutput(f"{path}: the output is {what}; writing there would replace everything in it",
                           "give a new file or folder name, e.g. -o out/data.jsonl")
    try:
        lst = os.lstat(path)
    except FileNotFoundError:
        lst = None
    except OSError as exc:
        raise UnsafeOutput(f"{path}: cannot check the output path ({exc.strerror})",
                           "check the path and its permissions") from None
    st = lst
    if lst is not None and stat.S_ISLNK(lst.st_mode):
        try:
            st = os.stat(path)
        except OSError:
            st = None  # a dangling link: the write replaces the link itself
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise UnsafeOutput(f"{path}: the output is a device, pipe or socket, not a file or folder;"
                           " dataforge will not write over it",
                           "write to a file or folder path (dataforge writes a temporary file and renames it)")
    if st is not None:
        hit = ins.same_file(st)
        if hit is not None:
            via = "" if os.path.abspath(hit) == os.path.abspath(path) else " (the same file through a link)"
            what = "the rejects file of the output" if label.startswith("the rejects file") else "the output"
            raise UnsafeOutput(f"{path}: {what} would overwrite the input {hit}{via}",
                               "write to another path" + (" (the rejects go to OUT.rejects.jsonl: pick another -o)"
                                                          if what != "the output" else ""))
    if how != "dir":
        held = ins.inside(real)
        if held is not None:
            raise UnsafeOutput(f"{path}: the output folder holds the input {held}; writing it would delete the input",
                               "write to a path outside the input's folder")
    if st is None:
        return
    is_dir = stat.S_ISDIR(st.st_mode)
    if how == "folder":
        if is_dir and not replaceable_folder(path):
            added = foreign_files(path) if is_dataforge_folder(path) else []
            what = (f"holds files added after dataforge wrote it ({', '.join(added[:3])}"
                    f"{', ...' if len(added) > 3 else ''})" if added else "holds files dataforge did not write")
            raise UnsafeOutput(f"{path}: the folder exists and {what};"
                               " the output would replace the whole folder",
                               f"give a new folder name (dataforge replaces only empty folders and folders"
                               f" holding its {MARKER} marker; --overwrite does not change that)")
        if not is_dir and not overwrite:
            raise UnsafeOutput(f"{path}: a file of that name exists; this output is a folder (no file suffix)"
                               " and would replace it",
                               "give the output a file suffix (.jsonl, .parquet, ...), another name, or pass"
                               " --overwrite to replace the file with a folder")
    elif is_dir and how == "file":  # a "dir" output (train) decides itself about an existing folder
        raise UnsafeOutput(f"{path}: is a folder, and this output is a file", "give a file path, e.g. -o out/data.jsonl")
    elif how == "dir" and not is_dir:
        raise UnsafeOutput(f"{path}: a file of that name exists; this output is a folder",
                           "give a folder path that does not exist yet")


def _kind_by_name(path: str) -> str:
    from dataforge.io.files import type_from_name

    if path.endswith(("/", os.sep)):
        return "folder"
    if type_from_name(path) is not None:
        return "file"
    return "folder" if not Path(path).suffix or os.path.isdir(path) else "file"


def _identity(path: str):
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return os.path.realpath(path)


def _flatten(items) -> Iterator[str]:
    """Paths out of paths and (nested) lists of paths; anything else (None, a loaded object) is skipped."""
    if isinstance(items, (str, os.PathLike)):
        yield os.fspath(items)
    elif isinstance(items, (list, tuple, set, frozenset)):
        for item in items:
            yield from _flatten(item)


class _Inputs:
    """The files (and folders) a command reads, by inode and by real path."""

    def __init__(self, inputs):
        self.ids: dict[tuple[int, int], str] = {}
        self.reals: list[tuple[str, str]] = []
        for raw in _flatten(inputs):
            for path in self._expand(raw):
                self._add(path)

    @staticmethod
    def _expand(raw: str) -> list[str]:
        from dataforge.io.dataset_info import entry_paths

        named = entry_paths(raw)  # a LLaMA-Factory dataset (dataset_info.json#NAME): the info file and its data
        if named is not None:
            return named
        if not os.path.lexists(raw) and any(ch in raw for ch in "*?["):
            return sorted(glob.glob(raw, recursive=True))
        return [raw]

    def _add(self, path: str) -> None:
        try:
            st = os.stat(path)
        except OSError:
            return  # a missing input: the reader reports it
        self.ids.setdefault((st.st_dev, st.st_ino), path)
        self.reals.append((os.path.realpath(path), path))
        if stat.S_ISDIR(st.st_mode):
            for dirpath, _dirs, files in os.walk(path):
                for name in files:
                    inner = os.path.join(dirpath, name)
                    try:
                        ist = os.stat(inner)
                    except OSError:
                        continue
                    self.ids.setdefault((ist.st_dev, ist.st_ino), inner)

    def same_file(self, st: os.stat_result) -> str | None:
        return self.ids.get((st.st_dev, st.st_ino))

    def inside(self, real: str) -> str | None:
        """An input under the folder `real` (the output would replace the folder holding it)."""
        prefix = real.rstrip(os.sep) + os.sep
        return next((shown for r, shown in self.reals if r.startswith(prefix)), None)
