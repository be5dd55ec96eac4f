"""`dataforge merge`: fold a LoRA adapter into its base weights, and prove the result is the same model.

    >>> r = merge_adapter("models/tiny", "out/lora", "out/merged")   # doctest: +SKIP
    >>> r.rel_diff <= r.tolerance                                    # doctest: +SKIP
    True

The check is done in float32, so it measures the merge and nothing else: the
base is loaded in float32 (for an adapter trained with QLoRA it is loaded in
4-bit exactly as in training, de-quantised to the training compute dtype and
then upcast, so the merged weights are the weights the adapter was trained
against), the adapter is folded in, and the merged model's logits must match
base-plus-adapter within 1e-5 of the largest logit; otherwise it stops with an
error and writes nothing.

Saving in 16 bits then rounds the weights. That rounding is reported as its
own figure (the written model, reloaded and run in float32, against
base-plus-adapter) and never gates: its size is a property of the dtype and
of the CPU's 16-bit kernels, not of the merge. What gates after saving is
that the written weights are bit for bit the merged weights in that dtype.
Peak memory is the model in float32.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import shutil
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from dataforge.errors import ConfigError, DataforgeError, InputError
from dataforge.io.atomic import atomic_path
from dataforge.io.safety import MARKER, replaceable_folder, write_marker

DTYPES = ("float32", "bfloat16", "float16")
TOLERANCE = 1e-5  # merged vs base+adapter, both in float32, relative to the largest logit
PROBES = ["The quick brown fox jumps over the lazy dog.", "What is the capital of France?",
          "def add(a, b):\n    return a + b", "Write a short poem about the sea."]


@dataclass
class MergeResult:
    output: str
    dtype: str  # of the written weights
    dequantized_from_4bit: bool
    max_abs_diff: float  # merged vs base+adapter, in float32 (the gate)
    rel_diff: float  # max_abs_diff / max |logit|
    tolerance: float  # on rel_diff
    top1_agreement: float
    saved_max_abs_diff: float  # the written model (in `dtype`, run in float32) vs base+adapter: rounding to dtype
    saved_rel_diff: float  # reported, never a gate
    saved_top1_agreement: float | None  # the written model's top-1 token vs base+adapter's (None: a reward model)
    adapter_effect: float  # how far base+adapter is from the base alone (0 = the adapter does nothing)
    inputs: int

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """What `dataforge merge` prints about the checks."""
        agree = "" if self.saved_top1_agreement is None else f", top-1 agreement {self.saved_top1_agreement:.1%}"
        return [f"verified in float32 on {self.inputs} inputs: max |logit diff| {self.max_abs_diff:.3g} "
                f"({self.rel_diff:.1e} of the largest logit, tolerance {self.tolerance:.0e}); "
                f"the adapter moves logits by up to {self.adapter_effect:.3g}",
                f"saving in {self.dtype}: the written model differs by up to {self.saved_max_abs_diff:.3g} "
                f"({self.saved_rel_diff:.2%} of the largest logit){agree}"]


def _adapter_info(adapter: Path) -> tuple[dict, dict]:
    cfg = adapter / "adapter_config.json"
    if not cfg.is_file():
        raise InputError(f"{adapter}: not a LoRA adapter folder (no adapter_config.json)",
                         "pass the -o folder of a lora, qlora or dpo run; full/freeze runs are whole models already")
    record = {}
    rec_path = adapter / "dataforge_train.json"
    if rec_path.is_file():
        record = json.loads(rec_path.read_text(encoding="utf-8"))
    return json.loads(cfg.read_text(encoding="utf-8")), record


def _probe_inputs(tokenizer, torch, vocab: int, n_random: int = 2):
    rows = [tokenizer(t)["input_ids"] for t in PROBES]
    g = torch.Generator().manual_seed(0)
    rows += [torch.randint(3, vocab, (24,), generator=g).tolist() for _ in range(n_random)]
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def _logits(model, ids, mask, torch):
    device = next(model.parameters()).device
    with torch.no_grad():
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float().cpu()
    return out * mask[..., None] if out.dim() == 3 else out  # ignore padded positions (a reward model: one score)


def merge_adapter(base, adapter, output, *, dtype: str = "auto", force: bool = False) -> MergeResult:
    """Merge `adapter` into `base`, verify logits in float32, save to `output` (see the module doc).

    `force` replaces an existing `output` only when dataforge wrote it (it carries the output marker).
    """
    base, adapter, output = Path(base), Path(adapter), Path(output)
    if not (base / "config.json").is_file():
        raise InputError(f"{base}: not a model folder (no config.json)", "pass the base model the adapter was trained on")
    adapter_cfg, record = _adapter_info(adapter)
    _check_output(output, force)
    if dtype not in ("auto", *DTYPES):
        raise ConfigError(f"--dtype {dtype}: unknown", "use auto, float32, bfloat16 or float16")
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)  # an optional Hub kernel, offline
    import torch
    import transformers
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=r".*is deprecated and will be removed in v6.*", category=FutureWarning)

    options = record.get("options", {})
    from_4bit = "quant_type" in options
    compute = options.get("compute_dtype", "bfloat16") if from_4bit else None
    if dtype == "auto":
        dtype = compute if from_4bit else _config_dtype(base)
    save_dtype = getattr(torch, dtype)
    reward = adapter_cfg.get("task_type") == "SEQ_CLS"  # a reward model's adapter (with its score head)
    auto = AutoModelForSequenceClassification if reward else AutoModelForCausalLM
    extra = {"num_labels": 1} if reward else {}
    if reward:  # the base checkpoint has no score head yet (the adapter brings it): not worth a warning
        transformers.utils.logging.set_verbosity_error()
    model = _load_base_float32(auto, base, compute, options, extra, torch)
    tok_dir = adapter if (adapter / "tokenizer_config.json").is_file() else base
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    if reward:
        model.config.pad_token_id = tokenizer.pad_token_id  # the score is read at the last non-pad token
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise InputError(f"the adapter does not fit this base model: {str(exc).splitlines()[0][:300]}",
                         f"the adapter was trained on {adapter_cfg.get('base_model_name_or_path')}") from None
    peft_model.float()  # adapter weights too: the whole check runs in float32
    peft_model.eval()
    ids, mask = _probe_inputs(tokenizer, torch, model.config.vocab_size)
    ref = _logits(peft_model, ids, mask, torch)
    with peft_model.disable_adapter():
        plain = _logits(peft_model, ids, mask, torch)
    merged = peft_model.merge_and_unload()
    got = _logits(merged, ids, mask, torch)
    scale = max(float(ref.abs().max()), 1e-6)
    diff = float((got - ref).abs().max())
    if diff / scale > TOLERANCE:
        raise DataforgeError(f"merge check failed: merged logits differ from base+adapter by {diff:.3g} "
                             f"({diff / scale:.1e} of the largest logit, tolerance {TOLERANCE:.0e}, in float32)",
                             "check that --base is the model the adapter was trained on")
    agree = _top1(got, ref, mask)
    del peft_model, model
    merged.to(save_dtype)
    digests = _digests(merged.state_dict(), save_dtype, torch)
    with atomic_path(output, is_dir=True) as tmp:
        merged.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        del merged
        gc.collect()
        saved = auto.from_pretrained(str(tmp), dtype=torch.float32)  # the 16-bit weights, upcast exactly
        changed = [name for name, digest in _digests(saved.state_dict(), save_dtype, torch).items()
                   if digests.get(name, digest) != digest] + sorted(set(digests) - set(saved.state_dict()))
        if changed:
            raise DataforgeError(f"merge check failed after saving: {len(changed)} tensor(s) read back differ from "
                                 f"the merged weights (first: {changed[0]})", "check free disk space and rerun")
        stored = _logits(saved, ids, mask, torch)
        saved_diff = float((stored - ref).abs().max())
        result = MergeResult(output=str(output), dtype=dtype, dequantized_from_4bit=from_4bit, max_abs_diff=diff,
                             rel_diff=diff / scale, tolerance=TOLERANCE, top1_agreement=agree,
                             saved_max_abs_diff=saved_diff, saved_rel_diff=saved_diff / scale,
                             saved_top1_agreement=_top1(stored, ref, mask) if stored.dim() == 3 else None,
                             adapter_effect=float((ref - plain).abs().max()), inputs=int(ids.shape[0]))
        (tmp / "dataforge_merge.json").write_text(json.dumps(
            {**result.to_dict(), "base": str(base), "adapter": str(adapter)}, indent=2), encoding="utf-8")
        card = adapter / "README.md"
        if card.is_file():
            shutil.copy(card, tmp / "ADAPTER_README.md")
        write_marker(tmp, "merge")
    return result


def _check_output(output: Path, force: bool) -> None:
    if not output.exists() and not output.is_symlink():
        return
    if output.is_symlink() or not output.is_dir():
        raise ConfigError(f"{output} exists and is not a folder", "choose a new -o folder")
    if replaceable_folder(output) and (force or not any(output.iterdir())):
        return
    if force:
        raise ConfigError(f"{output} was not written by dataforge (no {MARKER}); it is left as it is",
                          "choose a new -o folder")
    raise ConfigError(f"{output} is not empty", "choose a new -o folder")


def _load_base_float32(auto, base: Path, compute: str | None, options: dict, extra: dict, torch):
    """The base in float32; a QLoRA base as in training (4-bit, de-quantised to `compute`), then upcast."""
    if compute is None:
        return auto.from_pretrained(str(base), dtype=torch.float32, **extra)
    from transformers import BitsAndBytesConfig

    cdtype = getattr(torch, compute)
    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=options.get("quant_type", "nf4"),
                               bnb_4bit_use_double_quant=options.get("double_quant", True),
                               bnb_4bit_compute_dtype=cdtype)
    device_map = {"": 0} if torch.cuda.is_available() else "cpu"
    model = auto.from_pretrained(str(base), quantization_config=quant, device_map=device_map, dtype=cdtype, **extra)
    return model.dequantize(dtype=cdtype).float()


def _top1(got, ref, mask) -> float:
    if got.dim() != 3:  # a reward model's scores: agreement within the tolerance
        scale = max(float(ref.abs().max()), 1e-6)
        return float(((got - ref).abs() <= TOLERANCE * scale).float().mean())
    same = got.argmax(-1) == ref.argmax(-1)
    return float(same[mask.bool()].float().mean())


def _digests(state: dict, dtype, torch) -> dict[str, str]:
    """sha256 of each tensor's bytes in `dtype` (16-bit values upcast to float32 cast back exactly)."""
    out = {}
    for name, tensor in state.items():
        t = tensor.detach().cpu()
        t = (t.to(dtype) if t.is_floating_point() else t).contiguous().reshape(-1)
        out[name] = hashlib.sha256(t.view(torch.uint8).numpy().tobytes()).hexdigest()
    return out


def _config_dtype(base: Path) -> str:
    cfg = json.loads((base / "config.json").read_text(encoding="utf-8"))
    name = str(cfg.get("dtype") or cfg.get("torch_dtype") or "float32").replace("torch.", "")
    return name if name in DTYPES else "float32"
