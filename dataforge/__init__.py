"""dataforge: build fine-tuning datasets and train on them.

Importing this package stays light: torch, transformers, peft and trl are
imported only by trainer plugins and local-model backends, when used.
"""

__version__ = "0.1.0"
