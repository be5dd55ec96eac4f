"""dataforge's built-in trainer backends, registered through the `dataforge.trainers` entry points.

Importing this package stays light (pydantic only); torch, transformers, peft
and trl load when a backend trains.
"""

__version__ = "0.1.0"
