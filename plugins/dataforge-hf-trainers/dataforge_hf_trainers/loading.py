"""Loading the model the way each backend needs it: dtype, 4-bit, frozen layers, LoRA config."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings

# bitsandbytes looks for an optional CPU kernel on the Hub at import and warns when it cannot: noise offline.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, BitsAndBytesConfig  # noqa: E402

from dataforge.errors import ConfigError  # noqa: E402


def quiet_libraries() -> None:
    """dataforge shows its own progress bar and metrics; silence the libraries' bars and rename warnings."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", message=r".*is deprecated and will be removed in v6.*", category=FutureWarning)


def on_cuda() -> bool:
    return torch.cuda.is_available()


def mixed_precision(options=None) -> dict:
    """Autocast flags for TrainingArguments.

    dtype=bfloat16/float16 asks for 16-bit compute (autocast, on CPU too); float32 for none; auto is bf16 where
    the GPU has it, fp16 on older GPUs and none on CPU. (Called without options: the auto behaviour.)
    """
    cpu = {} if on_cuda() else {"use_cpu": True}
    dtype = getattr(options, "dtype", "auto")
    if dtype != "auto":
        return {"bf16": dtype == "bfloat16", "fp16": dtype == "float16", **cpu}
    if not on_cuda():
        return {"bf16": False, "fp16": False, **cpu}
    bf16 = torch.cuda.is_bf16_supported()
    return {"bf16": bf16, "fp16": not bf16}


def weights_dtype(options, *, frozen_base: bool) -> torch.dtype:
    """The dtype weights are loaded in.

    Trained weights are always fp32 master weights: dtype=bfloat16/float16 means 16-bit *compute* (autocast,
    see mixed_precision), because AdamW updates applied to 16-bit weights mostly round away. Only a frozen base
    (LoRA) is held in the 16-bit dtype; auto does that on GPUs.
    """
    if not frozen_base:
        return torch.float32
    if options.dtype != "auto":
        return getattr(torch, options.dtype)
    if on_cuda():
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def keep_training_kernel(model) -> int:
    """Keep every 4-bit layer on bitsandbytes' training kernel; returns how many layers were touched.

    On CPUs with AVX512-BF16, bitsandbytes (>= 0.49) repacks a 4-bit weight for a fused inference kernel on the
    first forward in eval mode without gradients (an evaluation), rounding its scales to bf16, and every later
    forward, training included, then runs that kernel, which passes no gradient through the base weight: the
    adapters train on wrong gradients. Switching the capability flag off keeps all forwards on the training path.
    """
    import bitsandbytes as bnb

    n = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit) and hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False
            n += 1
    return n


def trainable_to_fp32(model) -> int:
    """Cast every trainable parameter to fp32; returns how many were cast.

    TRL casts the adapters of a quantised model to bf16 (QLoRA paper); without autocast (CPU) they would then be
    updated in bf16 and small updates lost, whatever compute_dtype says. fp32 adapters are what PEFT makes by
    default; 16-bit compute still comes from compute_dtype and autocast.
    """
    n = 0
    for p in model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            p.data = p.data.float()
            n += 1
    return n


def _device_map():
    if on_cuda():
        return {"": int(os.environ.get("LOCAL_RANK", "0"))}
    return None


def quantization_config(options) -> BitsAndBytesConfig:
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=options.quant_type,
                              bnb_4bit_use_double_quant=options.double_quant,
                              bnb_4bit_compute_dtype=getattr(torch, options.compute_dtype))


def load_model(job, *, head: str = "lm", quantize: bool = False, frozen_base: bool = False):
    """The model from job.model_dir; `head="score"` gives a 1-output sequence classifier (reward)."""
    opts = job.options
    kwargs = {"dtype": weights_dtype(opts, frozen_base=frozen_base)}
    if quantize:
        kwargs["quantization_config"] = quantization_config(opts)
        kwargs["device_map"] = _device_map() or "cpu"
        kwargs["dtype"] = getattr(torch, opts.compute_dtype)
    if head == "score":
        from trl.trainer.reward_trainer import suppress_seqcls_warning

        with suppress_seqcls_warning():
            model = AutoModelForSequenceClassification.from_pretrained(str(job.model_dir), num_labels=1, **kwargs)
        model.config.pad_token_id = job.tokenizer.pad_token_id  # the classifier reads the last non-pad token
    else:
        model = AutoModelForCausalLM.from_pretrained(str(job.model_dir), **kwargs)
    if quantize:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=opts.gradient_checkpointing)
        keep_training_kernel(model)
    return model


def decoder_layers(model):
    """The ModuleList of transformer blocks (the longest ModuleList in the model)."""
    best = None
    for _, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) and (best is None or len(module) > len(best)):
            best = module
    if best is None:
        raise ConfigError("cannot find the transformer layers of this model", "use backend full or lora")
    return best


def freeze_all_but_last(model, n: int) -> list[str]:
    """Train only the last `n` decoder layers plus what follows them (final norm, head); returns trained names."""
    layers = decoder_layers(model)
    if n > len(layers):
        raise ConfigError(f"layers={n} but the model has {len(layers)} transformer layers",
                          f"set layers between 1 and {len(layers)}")
    keep = {id(p) for layer in list(layers)[-n:] for p in layer.parameters()}
    inside = {id(p) for p in layers.parameters()}
    embed = {id(p) for p in model.get_input_embeddings().parameters()}
    head = model.get_output_embeddings()
    keep |= {id(p) for p in head.parameters()} if head is not None else set()
    trained = []
    for name, p in model.named_parameters():
        # Parameters outside the blocks and the input embedding are the head side (final norm, lm_head).
        p.requires_grad = id(p) in keep or (id(p) not in inside and id(p) not in embed)
        if p.requires_grad:
            trained.append(name)
    return trained


def lora_config(options, *, task: str = "CAUSAL_LM"):
    from peft import LoraConfig

    return LoraConfig(r=options.r, lora_alpha=options.alpha, lora_dropout=options.dropout,
                      target_modules=options.target_modules, use_dora=options.use_dora, task_type=task,
                      bias="none", modules_to_save=["score"] if task == "SEQ_CLS" else None)


def trainable_checksum(model) -> str:
    """A hash of every trainable tensor's bytes: equal on two ranks only if they hold identical weights."""
    h = hashlib.sha256()
    for name, p in model.named_parameters():
        if p.requires_grad:
            h.update(name.encode())
            h.update(p.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:24]


def count_params(model) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
