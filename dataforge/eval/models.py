"""What is evaluated: a base model, light adapters on it, or a fully fine-tuned model.

Adapters are checked against the base before any weight is loaded: the base
recorded in the adapter's `dataforge_train.json` (architecture, layers,
hidden size) and the shapes in `adapter_model.safetensors` against the base's
own weights (both read from the safetensors headers, no tensors). An adapter
made for another model fails with a message naming both, instead of peft's
size-mismatch traceback.

The base is loaded once; adapters are attached to it with peft under their
own names and switched with `set_adapter`, and the base alone is evaluated
inside `disable_adapter()`: one frozen base, many light adapters.
"""

from __future__ import annotations

import contextlib
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import InputError

RECORD = "dataforge_train.json"  # written by `dataforge train` into its output folder
ADAPTER_CONFIG = "adapter_config.json"
PEFT_PREFIX = "base_model.model."


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None


def train_record(folder: Path) -> dict | None:
    """The `dataforge train` record of a folder, or None for a folder not made by dataforge."""
    path = Path(folder) / RECORD
    return read_json(path) if path.is_file() else None


def check_model_dir(path, flag: str = "--model") -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{flag} {path}: no such folder", "pass a local model folder (save_pretrained output)")
    if (path / ADAPTER_CONFIG).is_file() and not (path / "config.json").is_file():
        raise InputError(f"{flag} {path} is a LoRA adapter, not a model",
                         "pass the base model as --model and this folder as --adapter")
    if not (path / "config.json").is_file():
        raise InputError(f"{flag} {path}: not a model folder (no config.json)",
                         "pass a local Hugging Face model folder (save_pretrained output)")
    return path


def describe_config(cfg: dict) -> str:
    arch = (cfg.get("architectures") or cfg.get("arch") or ["?"])
    arch = arch[0] if isinstance(arch, list) else arch
    layers = cfg.get("num_hidden_layers", cfg.get("layers"))
    hidden = cfg.get("hidden_size", cfg.get("hidden"))
    return f"{arch} with {layers} layers, hidden size {hidden}"


def safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """Tensor name -> shape from a safetensors file's header (the tensors are not read)."""
    with open(path, "rb") as fh:
        size = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(size))
    return {k: v["shape"] for k, v in header.items() if k != "__metadata__"}


def model_shapes(model_dir: Path) -> dict[str, list[int]] | None:
    """Weight shapes of a model folder (single or sharded safetensors); None when it has none."""
    single = model_dir / "model.safetensors"
    if single.is_file():
        return safetensors_shapes(single)
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        shapes: dict[str, list[int]] = {}
        for shard in sorted(set(read_json(index).get("weight_map", {}).values())):
            shapes.update(safetensors_shapes(model_dir / shard))
        return shapes
    return None


@dataclass
class Adapter:
    name: str  # the peft adapter name (also the column title)
    path: Path
    config: dict
    record: dict | None = None
    notes: list[str] = field(default_factory=list)


def _mismatch(adapter: Path, what: str, base_dir: Path, recorded: str | None) -> InputError:
    where = f" (its adapter_config.json names {recorded})" if recorded else ""
    return InputError(f"--adapter {adapter} was trained on another base model: {what}",
                      f"pass the base model it was trained on as --model{where}, or drop this --adapter")


def inspect_adapter(path, base_dir: Path, base_config: dict, base_shapes: dict | None, name: str) -> Adapter:
    """Check that `path` is a LoRA adapter made for the model in `base_dir` (raises InputError)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"--adapter {path}: no such folder", "pass the -o folder of `dataforge train -b lora`")
    cfg_path = path / ADAPTER_CONFIG
    if not cfg_path.is_file():
        if (path / "config.json").is_file():
            raise InputError(f"--adapter {path} is a full model, not an adapter (no {ADAPTER_CONFIG})",
                             "evaluate it with --model (add --baseline to compare it with its base)")
        raise InputError(f"--adapter {path}: not an adapter folder (no {ADAPTER_CONFIG})",
                         "pass the -o folder of `dataforge train -b lora` or `-b qlora`")
    config = read_json(cfg_path)
    recorded = config.get("base_model_name_or_path")
    if config.get("task_type") not in (None, "CAUSAL_LM"):
        raise InputError(f"--adapter {path} is a {config.get('task_type')} adapter (e.g. a reward model); "
                         "eval generates text and needs a causal-LM adapter",
                         "evaluate an SFT or DPO adapter instead")
    record = train_record(path)
    if record and isinstance(record.get("base_model"), dict):
        mine = record["base_model"]
        ours = {"arch": (base_config.get("architectures") or ["?"])[0],
                "layers": base_config.get("num_hidden_layers"), "hidden": base_config.get("hidden_size")}
        differs = [k for k in ("arch", "layers", "hidden") if mine.get(k) is not None and mine.get(k) != ours[k]]
        if differs:
            raise _mismatch(path, f"it records {describe_config(mine)}; --model {base_dir} is "
                            f"{describe_config(base_config)}", base_dir, recorded)
    weights = path / "adapter_model.safetensors"
    if base_shapes is not None and weights.is_file():
        problem = _shape_problem(safetensors_shapes(weights), base_shapes)
        if problem:
            raise _mismatch(path, problem + f" (--model {base_dir} is {describe_config(base_config)})",
                            base_dir, recorded)
    adapter = Adapter(name=name, path=path, config=config, record=record)
    if recorded and Path(recorded).exists() and Path(recorded).resolve() != base_dir.resolve():
        adapter.notes.append(f"{path} names {recorded} as its base; evaluated on {base_dir} (same shapes)")
    return adapter


def _shape_problem(adapter: dict[str, list[int]], base: dict[str, list[int]]) -> str | None:
    for key, shape in adapter.items():
        m = re.match(rf"{re.escape(PEFT_PREFIX)}(.+)\.lora_([AB])\.weight$", key)
        if not m:
            continue
        module, part = m.group(1), m.group(2)
        target = base.get(module + ".weight")
        if target is None:
            return f"it adapts layer '{module}', which the base model does not have"
        if len(target) != 2 or len(shape) != 2:
            continue
        if part == "A" and shape[1] != target[1]:
            return f"layer '{module}' takes {target[1]} inputs in the base, {shape[1]} in the adapter"
        if part == "B" and shape[0] != target[0]:
            return f"layer '{module}' gives {target[0]} outputs in the base, {shape[0]} in the adapter"
    return None


def unique_names(paths) -> list[str]:
    """Column names for adapters: the folder name, made unique and safe as a peft adapter name."""
    names: list[str] = []
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", Path(p).resolve().name) or "adapter"
        if base == "base":
            base = "adapter_base"
        name, i = base, 2
        while name in names:
            name, i = f"{base}_{i}", i + 1
        names.append(name)
    return names


def device_and_dtype(device: str | None = None):
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda"):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32
    return device, dtype


def quiet_libraries() -> None:
    """dataforge shows its own progress; silence the libraries' loading bars and notices."""
    import logging
    import warnings

    import transformers

    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)  # peft imports it; offline noise
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=r".*is deprecated and will be removed in v6.*", category=FutureWarning)


def load_causal_lm(model_dir: Path, device: str, dtype):
    from transformers import AutoModelForCausalLM

    quiet_libraries()
    try:
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype)
    except (OSError, ValueError) as exc:
        raise InputError(f"{model_dir}: cannot load the model ({exc})",
                         "pass a causal language model folder saved with save_pretrained") from None
    return model.to(device).eval()


class AdapterSet:
    """One base model with any number of peft adapters; `use(name)` selects one (None: the base)."""

    def __init__(self, base_model, adapters: list[Adapter]):
        self.adapters = adapters
        self.model = base_model
        if adapters:
            from peft import PeftModel

            first, rest = adapters[0], adapters[1:]
            self.model = self._load(lambda: PeftModel.from_pretrained(base_model, str(first.path),
                                                                      adapter_name=first.name), first)
            for a in rest:
                self._load(lambda a=a: self.model.load_adapter(str(a.path), adapter_name=a.name), a)
            self.model.eval()

    @staticmethod
    def _load(fn, adapter: Adapter):
        try:
            return fn()
        except (RuntimeError, ValueError, KeyError) as exc:  # size mismatch and friends, in peft's words
            raise InputError(f"--adapter {adapter.path} does not fit the base model: {str(exc).splitlines()[0]}",
                             "pass the base model it was trained on as --model") from None

    @contextlib.contextmanager
    def use(self, name: str | None):
        if not self.adapters:
            yield self.model
        elif name is None:
            with self.model.disable_adapter():
                yield self.model
        else:
            self.model.set_adapter(name)
            yield self.model

