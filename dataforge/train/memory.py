"""Memory estimate for a training run, from the model's config alone (no weights loaded).

The model is built on PyTorch's meta device, so parameter counts and the
linear layers that LoRA/4-bit touch are exact for any architecture; the
checkpoint's size is read from its files. The rest is arithmetic on how the
built-in backends hold things (see docs/train.md, "Memory estimate", for the
formula and its sources):

- weights as held: trained weights are fp32 master weights; a frozen LoRA base
  is 16-bit where asked (or auto on a GPU); a 4-bit base holds its decoder
  linear layers in NF4 (0.5 byte per weight plus block constants) and, after
  k-bit preparation, everything else (embeddings, LM head, norms) in fp32;
- trainable parameters (LoRA A/B; for full/freeze they are the weights above),
  their fp32 gradients and AdamW's two fp32 moments;
- a frozen copy of the model for DPO without an adapter;
- saved activations per token and layer from the layer's shapes (inputs of the
  norms and projections, q/k/v and attention output, the MLP's inner tensors,
  the attention mask, and for LoRA the dropout copies of each adapted input),
  for the layers that backpropagate; under gradient checkpointing one hidden
  vector per layer plus one layer recomputed;
- the LM head's loss: TRL's fused log-probability kernel works on tiles of at
  most 4,096 tokens x 32,768 vocabulary entries; a reward model's score head
  is one number per token;
- loading: when the checkpoint's dtype is not the one held (4-bit, or fp32
  files into a 16-bit base), the files' pages are resident next to the new
  tensors while they load.

Peak = max(loading, training). Allocator slack, the CUDA context and the
libraries' own memory come on top.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dataforge.errors import InputError
from dataforge.train.options import TrainOptions, TrainPlan

GIB = 1024**3
LOGIT_TOKENS, LOGIT_VOCAB = 4096, 32768  # TRL's fused log-prob tile (trl/kernels/chunked_logprob.py)


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
    intermediate: int = 0  # MLP inner width
    q_dim: int = 0  # heads x head_dim
    kv_dim: int = 0  # key/value heads x head_dim
    mlp_up: int = 1  # linear layers per block that widen to `intermediate` (2 for gated MLPs)
    checkpoint_bytes: int = 0  # size of the weight files


def read_model_config(model_dir: Path) -> dict:
    cfg = Path(model_dir) / "config.json"
    if not cfg.is_file():
        raise InputError(f"{model_dir}: not a model folder (no config.json)",
                         "pass a local Hugging Face model folder (save_pretrained output) to --model")
    return json.loads(cfg.read_text(encoding="utf-8"))


def checkpoint_bytes(model_dir: Path) -> int:
    files = list(Path(model_dir).glob("*.safetensors")) or list(Path(model_dir).glob("pytorch_model*.bin"))
    return sum(f.stat().st_size for f in files)


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
    hidden, heads = text.hidden_size, text.num_attention_heads
    head_dim = getattr(text, "head_dim", None) or hidden // heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    first = [shape for name, shape in linear.items() if name.startswith(f"{prefix}.0.")]
    inter = getattr(text, "intermediate_size", None) or getattr(text, "n_inner", None) or max(
        (o for _, o in first), default=4 * hidden)
    return ModelInfo(params=total, linear=linear, layer_params=layer_params, head_params=head_params,
                     embed_params=embed_params, hidden=hidden, layers=len(layers), heads=heads, vocab=text.vocab_size,
                     dtype=str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "float32"),
                     arch=type(model).__name__, layer_prefix=prefix, intermediate=inter, q_dim=heads * head_dim,
                     kv_dim=kv_heads * head_dim, mlp_up=max(1, sum(1 for i, o in first if i == hidden and o == inter)),
                     checkpoint_bytes=checkpoint_bytes(model_dir))


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


def activation_bytes(info: ModelInfo, options: TrainOptions, plan: TrainPlan, *, tokens: int, batch: int, seq: int,
                     act: int) -> tuple[float, str]:
    """Tensors saved for the backward pass, for the layers that backpropagate, and a note on what was counted."""
    h = info.hidden
    per_token = 7 * h + 2 * info.q_dim + 2 * info.kv_dim + 2 * info.mlp_up * info.intermediate
    if plan.trainable == "lora":
        adapted = _targets(info, plan.lora_targets)
        per_token += sum(plan.lora_r + (i * (1 + 1 / act) if plan.lora_dropout else 0)
                         for i, _ in adapted) / max(1, info.layers)
    mask = batch * seq * seq if batch > 1 or options.packing else 0  # the attention mask each layer keeps
    layers = plan.last_layers if plan.trainable == "last_layers" else info.layers
    if options.gradient_checkpointing:
        total = act * (layers * tokens * h + tokens * per_token + mask)
        return total, "one hidden vector per layer, one layer recomputed"
    return act * layers * (tokens * per_token + mask), f"{per_token / h:.1f} x hidden per token per layer"


def estimate(info: ModelInfo, options: TrainOptions, *, device: str = "cpu", longest: int | None = None) -> Estimate:
    """`longest`: the longest row kept; batches are padded to it unless packing fills max_length."""
    plan = options.plan()
    wdtype = _weights_dtype(options, plan, device)
    wbytes = 4 if wdtype == "float32" else 2
    autocast = options.dtype in ("bfloat16", "float16") or (device == "cuda" and options.dtype == "auto")
    act = 2 if autocast else 4
    quant = sum(i * o for i, o in info.linear.values())
    rest = info.params - quant
    block = (8 + 32 / 256) / 64 if plan.double_quant else 32 / 64  # bits of constants per weight
    w16 = info.params * 2.0
    w4 = quant * (4 + block) / 8 + rest * 2.0
    trainable = trainable_params(info, plan)
    if plan.weight_bits == 4:
        # k-bit preparation casts every parameter that is not 4-bit (embeddings, LM head, norms) to fp32
        held, held_note = quant * (4 + block) / 8 + rest * 4.0, "4-bit linear layers; the rest fp32 (k-bit preparation)"
    else:
        held, held_note = info.params * wbytes, wdtype if plan.trainable == "lora" else "float32 master weights"
    seq = options.max_length if options.packing or not longest else min(longest, options.max_length)
    batch = options.batch_size * (2 if plan.pairs else 1)
    tokens = seq * batch
    activations, act_note = activation_bytes(info, options, plan, tokens=tokens, batch=batch, seq=seq, act=act)
    if plan.head == "score":
        head, head_note = tokens * 4.0 * 2, "one score per token"
    else:
        # TRL's fused log-prob head never builds the full logits; one tile is live at a time. On GPUs its Triton
        # kernel holds about the tile and its gradient; the torch fallback on CPU about ten tile-sized fp32
        # temporaries at its backward peak (8-10x, measured in isolation: bench/RESULTS-train-memory.md).
        tile = min(tokens, LOGIT_TOKENS) * min(info.vocab, LOGIT_VOCAB)
        head = 2 * tile * act if device == "cuda" else 10 * tile * 4.0
        head_note = f"vocab {info.vocab:,}: TRL's fused log-prob tiles ({min(tokens, LOGIT_TOKENS):,} x " \
                    f"{min(info.vocab, LOGIT_VOCAB):,}), not full logits"
    rows = [
        ("weights at 16-bit", w16, f"{info.params:,} parameters"),
        ("weights at 4-bit NF4", w4, f"{quant:,} in 4-bit linear layers, the rest 16-bit"),
        ("weights as trained", held, held_note),
    ]
    if plan.reference_copy:
        rows.append(("reference model copy", info.params * 4.0, "DPO without an adapter keeps a frozen copy"))
    separate = trainable * 4.0 if plan.trainable == "lora" else 0.0  # full/freeze train the weights held above
    rows += [
        ("trainable parameters", separate, f"{trainable:,} ({trainable / info.params:.2%})" +
         ("" if plan.trainable == "lora" else ", the weights above")),
        ("gradients", trainable * 4.0, "fp32"),
        ("AdamW states", trainable * 8.0, "two fp32 moments per trainable parameter"),
        ("activations", activations, f"batch {batch} x {seq} tokens, {act_note}"),
        ("logits", head, head_note),
    ]
    if autocast and plan.trainable != "lora":
        # autocast keeps a 16-bit copy of each trained fp32 weight for the forward and backward of a step
        rows.append(("autocast weight copies", trainable * 2.0, "16-bit casts of the trained weights"))
    if device != "cuda" and plan.trainable == "lora":
        # Each adapted layer's base output and adapter output are freed during the pass; glibc's allocator keeps
        # that memory between the saved activations (its mmap threshold grows after the first large free), so
        # peak RSS carries about one output per adapted layer. With MALLOC_MMAP_THRESHOLD_ fixed it is returned.
        outs = sum(o for _, o in _targets(info, plan.lora_targets))  # over all blocks
        rows.append(("allocator slack (CPU)", act * tokens * outs,
                     "adapted layers' outputs freed mid-pass, kept by the C allocator"))
    skip = {"weights at 16-bit", "weights at 4-bit NF4"}
    training = sum(b for name, b, _ in rows if name not in skip)
    loading = load_peak(info, plan, held, wbytes, device)
    rows.append(("peak while loading", loading, "checkpoint pages + converted weights" if loading > held else
                 "the checkpoint is used as it is"))
    return Estimate(rows=rows, total=max(training, loading), trainable=trainable, params=info.params)


def load_peak(info: ModelInfo, plan: TrainPlan, held: float, wbytes: int, device: str = "cpu") -> float:
    """Resident memory while the weights load: the checkpoint's pages stay mapped while tensors are converted.

    On a GPU those pages are host memory, so the device holds only the converted weights."""
    copies = 2 if plan.reference_copy else 1
    if device == "cuda":
        return held * copies
    ckpt = info.checkpoint_bytes or info.params * 4.0
    converts = plan.weight_bits == 4 or abs(ckpt - info.params * wbytes) > 0.05 * ckpt
    return (ckpt + held) * copies if converts else held * copies


def _weights_dtype(options: TrainOptions, plan: TrainPlan, device: str) -> str:
    """Mirrors the HF backends: trained weights are fp32 master weights; a frozen LoRA base is held in the
    16-bit dtype asked for (auto: bf16 on GPUs, fp32 on CPU)."""
    if plan.trainable != "lora":
        return "float32"
    if options.dtype != "auto":
        return options.dtype
    return "bfloat16" if device == "cuda" else "float32"
