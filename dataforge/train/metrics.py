"""The metrics file: one JSON line per logged step, appended as training goes.

Backends feed it from their trainer's log events (the HF plugin does so with
a callback). Lines are flushed as they are written, so `tail -f` works and an
interrupted run keeps everything logged up to the interruption; on resume the
lines after the checkpoint's step are dropped (checkpoints.trim_metrics).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path


class MetricsLog:
    def __init__(self, path: Path | None):
        self.path = path
        self._fh = None

    def write(self, step: int, values: dict, epoch: float | None = None) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        row = {"step": int(step), "epoch": None if epoch is None else round(float(epoch), 4), "time": time.time()}
        for key, value in values.items():
            if isinstance(value, (int, float)) and not (isinstance(value, float) and not math.isfinite(value)):
                row[key] = value
            elif isinstance(value, str):
                row[key] = value
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def read_metrics(path: str | Path) -> list[dict]:
    """Every complete line of a metrics file (a half-written last line is skipped)."""
    out = []
    p = Path(path)
    if not p.is_file():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def loss_curve(path: str | Path, key: str = "loss") -> list[tuple[int, float]]:
    return [(row["step"], row[key]) for row in read_metrics(path) if key in row]
