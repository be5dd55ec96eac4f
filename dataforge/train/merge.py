"""`dataforge merge`: fold a LoRA adapter into its base weights, and prove the result is the same model.

    >>> r = merge_adapter("models/tiny", "out/lora", "out/merged")   # doctest: +SKIP
    >>> r.max_abs_diff <= r.tolerance                                # doctest: +SKIP
    True

For an adapter trained with QLoRA the base is loaded in 4-bit exactly as in
training and de-quantised to 16-bit before merging, so the merged weights are
the weights the adapter was trained against (not the original 16-bit ones).
Before saving, the merged model's logits are compared with base-plus-adapter
on a few inputs; after saving, the written folder is loaded back and compared
again. A mismatch beyond the tolerance stops with an error and writes nothing.
"""

from __future__ import annotations

import json
import logging
import shutil
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from dataforge.errors import ConfigError, DataforgeError, InputError
from dataforge.io.atomic import atomic_path

TOLERANCE = {"float32": 1e-4, "bfloat16": 2e-2, "float16": 1e-2}  # relative to the largest logit
PROBES = ["The quick brown fox jumps over the lazy dog.", "What is the capital of France?",
          "def add(a, b):\n    return a + b", "Write a short poem about the sea."]


@dataclass
class MergeResult:
    output: str
    dtype: str
    dequantized_from_4bit: bool
    max_abs_diff: float  # merged vs base+adapter, before saving
    saved_max_abs_diff: float  # the saved folder reloaded vs base+adapter
    tolerance: float  # on max_abs_diff / max |logit|
    top1_agreement: float
    adapter_effect: float  # how far base+adapter is from the base alone (0 = the adapter does nothing)
    inputs: int

    def to_dict(self) -> dict:
        return asdict(self)


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
    """Merge `adapter` into `base`, verify logits, save to `output` (see the module doc)."""
    base, adapter, output = Path(base), Path(adapter), Path(output)
    if not (base / "config.json").is_file():
        raise InputError(f"{base}: not a model folder (no config.json)", "pass the base model the adapter was trained on")
    adapter_cfg, record = _adapter_info(adapter)
    if output.exists() and any(output.iterdir()) and not force:
        raise ConfigError(f"{output} is not empty", "choose a new -o folder")
    if dtype not in ("auto", *TOLERANCE):
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
    if dtype == "auto":
        dtype = options.get("compute_dtype", "bfloat16") if from_4bit else _config_dtype(base)
    tdtype = getattr(torch, dtype)
    reward = adapter_cfg.get("task_type") == "SEQ_CLS"  # a reward model's adapter (with its score head)
    auto = AutoModelForSequenceClassification if reward else AutoModelForCausalLM
    extra = {"num_labels": 1} if reward else {}
    if reward:  # the base checkpoint has no score head yet (the adapter brings it): not worth a warning
        transformers.utils.logging.set_verbosity_error()
    if from_4bit:
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=options.get("quant_type", "nf4"),
                                   bnb_4bit_use_double_quant=options.get("double_quant", True),
                                   bnb_4bit_compute_dtype=tdtype)
        device_map = {"": 0} if torch.cuda.is_available() else "cpu"
        model = auto.from_pretrained(str(base), quantization_config=quant, device_map=device_map, dtype=tdtype,
                                     **extra)
        model = model.dequantize(dtype=tdtype)
    else:
        model = auto.from_pretrained(str(base), dtype=tdtype, **extra)
    tok_dir = adapter if (adapter / "tokenizer_config.json").is_file() else base
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    if reward:
        model.config.pad_token_id = tokenizer.pad_token_id  # the score is read at the last non-pad token
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise InputError(f"the adapter does not fit this base model: {str(exc).splitlines()[0][:300]}",
                         f"the adapter was trained on {adapter_cfg.get('base_model_name_or_path')}") from None
    peft_model.eval()
    ids, mask = _probe_inputs(tokenizer, torch, model.config.vocab_size)
    ref = _logits(peft_model, ids, mask, torch)
    with peft_model.disable_adapter():
        plain = _logits(peft_model, ids, mask, torch)
    merged = peft_model.merge_and_unload()
    got = _logits(merged, ids, mask, torch)
    scale = max(float(ref.abs().max()), 1e-6)
    tol = TOLERANCE[dtype]
    diff = float((got - ref).abs().max())
    same = got.argmax(-1) == ref.argmax(-1)
    agree = float((same[mask.bool()] if got.dim() == 3 else (got - ref).abs() < tol * scale).float().mean())
    if diff / scale > tol:
        raise DataforgeError(f"merge check failed: merged logits differ from base+adapter by {diff:.3g} "
                             f"({diff / scale:.2%} of the largest logit, tolerance {tol:.2%})",
                             "merge in float32 (--dtype float32) or check that --base is the training base model")
    with atomic_path(output, is_dir=True) as tmp:
        merged.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        saved = auto.from_pretrained(str(tmp), dtype=tdtype)
        saved_diff = float((_logits(saved, ids, mask, torch) - ref).abs().max())
        if saved_diff / scale > tol:
            raise DataforgeError(f"merge check failed after saving: the written model differs by {saved_diff:.3g}",
                                 "check free disk space and rerun")
        result = MergeResult(output=str(output), dtype=dtype, dequantized_from_4bit=from_4bit, max_abs_diff=diff,
                             saved_max_abs_diff=saved_diff, tolerance=tol, top1_agreement=agree,
                             adapter_effect=float((ref - plain).abs().max()), inputs=int(ids.shape[0]))
        (tmp / "dataforge_merge.json").write_text(json.dumps(
            {**result.to_dict(), "base": str(base), "adapter": str(adapter)}, indent=2), encoding="utf-8")
        card = adapter / "README.md"
        if card.is_file():
            shutil.copy(card, tmp / "ADAPTER_README.md")
    return result


def _config_dtype(base: Path) -> str:
    cfg = json.loads((base / "config.json").read_text(encoding="utf-8"))
    name = str(cfg.get("dtype") or cfg.get("torch_dtype") or "float32").replace("torch.", "")
    return name if name in TOLERANCE else "float32"
