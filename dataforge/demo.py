"""`make demo`: run the main job on the shipped sample data and say where the outputs are.

It grows with the project; each step is the same library call its command makes.
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path("demo_out")


def main() -> int:
    from dataforge.convert import convert
    from dataforge.inspect import inspect_dataset

    OUT.mkdir(exist_ok=True)
    data = Path("sample_data/dolly_en.jsonl")
    info = inspect_dataset(data)
    print(f"inspect {data}: {info.rows} rows, shape {info.shape}, {info.rejected} rejected")
    summary = convert(data, OUT / "dolly_en.openai.jsonl", to="openai")
    print(f"convert -> {summary.output}: {summary.line()}")
    print(f"\noutputs are in {OUT.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
