"""Built-in prompt templates (data files); `dataforge synth --prompts DIR` overrides them by name."""
