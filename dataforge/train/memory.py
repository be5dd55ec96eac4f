"""Memory estimate for a training run, from the model's config alone (no weights loaded).

The model is built on PyTorch's meta device, so parameter counts and the
linear layers that LoRA/4-bit touch are exact for any architecture. The
rest is arithmetic, and the numbers are estimates (allocator slack, CUDA
context and fragmentation come on top):

- weights: every parameter at 16-bit, and with the decoder's linear layers in
  4-bit NF4 (0.5 byte + block constants: 32-bit absmax per 64 weights, or
  ~8.13 bits per 64 with double quantisation), the rest at 16-bit;
- trainable parameters (all, the last N layers + head, or LoRA A/B), their
  gradients and AdamW's two states, at the dtype they are trained in;
- activations per token and layer ~34 x hidden bytes at 16-bit (Korthikanti
  et al. 2022, with fused attention), or one hidden vector per layer plus one
  layer's worth under gradient checkpointing; plus the logits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import InputError
from dataforge.train.options import TrainOptions, TrainPlan

GIB = 1024**3


@dataclass
class ModelInfo:
    params: int
    linear: dict[str, tuple[int, int]]  # decoder linear layers: name -> (in, out)
    layer_params: list[int]  # parameters per decoder layer
    head_params: int  # lm_head + final norm
    embed_params: int
    hidden: int
    layers: int
    heads: int
    vocab: int
    dtype: str
    arch: str
    layer_prefix: str = ""
    extra: dict = field(default_factory=dict)


def read_model_config(model_dir: Path) -> dict:
    cfg = Path(model_dir) / "config.json"
    if not cfg.is_file():
        raise InputError(f"{model_dir}: not a model folder (no config.json)",
                         "pass a local Hugging Face model folder (save_pretrained output) to --model")
    return json.loads(cfg.read_text(encoding="utf-8"))


def inspect_model(model_dir: Path) -> ModelInfo:
    """Parameter counts and linear layers of the model in `model_dir`, built on the meta device."""
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(str(model_dir))
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    layers = _decoder_layers(model)
    prefix = ""
    for name, module in model.named_modules():
        if module is layers:
            prefix = name
    linear, layer_params = {}, []
    for i, layer in enumerate(layers):
        layer_params.append(sum(p.numel() for p in layer.parameters()))
        for name, mod in layer.named_modules():
            if isinstance(mod, torch.nn.Linear):
                linear[f"{prefix}.{i}.{name}"] = (mod.in_features, mod.out_features)
    emb = model.get_input_embeddings()
    embed_params = sum(p.numel() for p in emb.parameters())
    total = sum(p.numel() for p in model.parameters())
    head_params = total - embed_params - sum(layer_params)  # lm_head (when not tied) + final norm
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return ModelInfo(params=total, linear=linear, layer_params=layer_params, head_params=head_params,
                     embed_params=embed_params, hidden=text.hidden_size, layers=len(layers),
                     heads=text.num_attention_heads, vocab=text.vocab_size,
                     dtype=str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "float32"),
                     arch=type(model).__name__, layer_prefix=prefix)


def _decoder_layers(model):
    import torch

    best = None
    for _, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) and (best is None or len(module) > len(best)):
            best = module
    if best is None:
        raise InputError("cannot find the transformer layers of this model", "use a decoder-only causal LM")
    return best


def _targets(info: ModelInfo, targets) -> list[tuple[int, int]]:
    if targets == "all-linear":
        return list(info.linear.values())
    names = set(targets)
    return [shape for name, shape in info.linear.items() if name.rsplit(".", 1)[-1] in names]


def lora_params(info: ModelInfo, r: int, targets, dora: bool = False) -> int:
    return sum(r * (i + o) + (o if dora else 0) for i, o in _targets(info, targets))


def trainable_params(info: ModelInfo, plan: TrainPlan) -> int:
    if plan.trainable == "lora":
        return lora_params(info, plan.lora_r, plan.lora_targets, plan.dora) + (
            info.hidden if plan.head == "score" else 0)
    if plan.trainable == "last_layers":
        return sum(info.layer_params[-plan.last_layers:]) + info.head_params
    return info.params


@dataclass
class Estimate:
    rows: list[tuple[str, float, str]]  # (item, bytes, note)
    total: float
    trainable: int
    params: int

    def table(self) -> list[tuple[str, str, str]]:
        return [(name, human(b), note) for name, b, note in self.rows] + [("total (estimate)", human(self.total), "")]


def human(n: float) -> str:
    if n >= GIB:
        return f"{n / GIB:.2f} GiB"
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MiB"
    return f"{n / 1024:.1f} KiB"


def estimate(info: ModelInfo, options: TrainOptions, *, device: str = "cpu", longest: int | None = None) -> Estimate:
    """`longest`: the longest row kept; batches are padded to it unless packing fills max_length."""
    plan = options.plan()
    wdtype = _weights_dtype(options, plan, device)
    wbytes = 4 if wdtype == "float32" else 2
    act = 2 if device == "cuda" or options.dtype in ("bfloat16", "float16") else 4  # autocast on GPUs
    quant = sum(i * o for i, o in info.linear.values())
    rest = info.params - quant
    block = (8 + 32 / 256) / 64 if plan.double_quant else 32 / 64  # bits of constants per weight
    w16 = info.params * 2.0
    w4 = quant * (4 + block) / 8 + rest * 2.0
    trainable = trainable_params(info, plan)
    loaded = w4 if plan.weight_bits == 4 else info.params * wbytes
    # LoRA A/B live in fp32 on a 16-bit base (bf16 on a 4-bit one); trained full weights in the loaded dtype
    train_bytes = (4 if plan.weight_bits == 16 else 2) if plan.trainable == "lora" else wbytes
    seq = options.max_length if options.packing or not longest else min(longest, options.max_length)
    batch = options.batch_size * (2 if plan.pairs else 1)
    tokens = seq * batch
    if options.gradient_checkpointing:
        activations = tokens * info.hidden * act * info.layers + tokens * 34 * info.hidden * act / 2
    else:
        activations = tokens * 34 * info.hidden * act / 2 * info.layers
    logits = tokens * info.vocab * 4 * 2  # fp32 logits and their gradient
    rows = [
        ("weights at 16-bit", w16, f"{info.params:,} parameters"),
        ("weights at 4-bit NF4", w4, f"{quant:,} in 4-bit linear layers, the rest 16-bit"),
        ("weights as trained", loaded, "4-bit base" if plan.weight_bits == 4 else wdtype),
    ]
    if plan.reference_copy:
        rows.append(("reference model copy", info.params * wbytes, "DPO without an adapter keeps a frozen copy"))
    rows += [
        ("trainable parameters", trainable * train_bytes, f"{trainable:,} ({trainable / info.params:.2%})"),
        ("gradients", trainable * train_bytes, ""),
        ("AdamW states", trainable * train_bytes * 2, "two moments per trainable parameter"),
        ("activations", activations, f"batch {batch} x {seq} tokens" +
         (", gradient checkpointing" if options.gradient_checkpointing else "")),
        ("logits", logits, f"vocab {info.vocab:,}"),
    ]
    skip = {"weights at 16-bit", "weights at 4-bit NF4"}
    total = sum(b for name, b, _ in rows if name not in skip)
    return Estimate(rows=rows, total=total, trainable=trainable, params=info.params)


def _weights_dtype(options: TrainOptions, plan: TrainPlan, device: str) -> str:
    """Mirrors the HF backends: auto keeps trained weights fp32 (autocast does 16-bit math on GPUs) and holds a
    frozen LoRA base in bf16 on GPUs."""
    if options.dtype != "auto":
        return options.dtype
    return "bfloat16" if device == "cuda" and plan.trainable == "lora" else "float32"
