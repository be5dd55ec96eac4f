"""dataforge rows <-> datatrove's MinHash stages.

Near-duplicate candidates come from datatrove's own pipeline steps, run by
its executors (local, Slurm, Ray) with its file formats and completion
markers:

  1. `MinhashDedupSignature`  (one task per shard)   signatures, per bucket
  2. `MinhashDedupBuckets`    (one task per bucket)  candidate pairs
  3. `MinhashDedupCluster`    (one task)             union-find clusters

What dataforge adds around them:
- `KeyShardReader`, a reader step that yields the key texts written by the
  prepare pass as datatrove `Document`s (id = position in the shard);
- `ShingleSignature`, stage 1 with dataforge's shingles (see `text.py`):
  script-aware tokens, digits kept, texts of at most n tokens still get one
  shingle, n-gram hashes combined from token hashes, and strings encoded
  before xxhash (xxhash 4 refuses `str`, which breaks datatrove 0.10's own
  hash wrapper: huggingface/datatrove#508); its signature step is datatrove's
  arithmetic with a reshape in place of a slow `np.split`;
- `read_clusters`, which maps stage 3's `.clusters` files back to rows.

datatrove's stage 4 (`MinhashDedupFilter`) keeps whichever row union-find
made the root of a cluster. dataforge replaces it with its own resolve step
(`resolve.py`), which applies the user's keep rule and checks every
candidate against the threshold with its exact shingle similarity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import xxhash
from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupSignature,
    _mersenne_prime,
)
from datatrove.utils.hashing import HashConfig
from datatrove.utils.word_tokenizers import WordTokenizer

from dataforge.dedup.text import normalize, shingle_hashes, tokens


def hash_func(precision: int = 64):
    """xxhash of a str (encoded first), 32 or 64 bits, as datatrove's hash config asks."""
    return _xxh64 if precision == 64 else _xxh32


def _xxh64(text: str) -> int:
    return xxhash.xxh64_intdigest(text.encode("utf-8", "surrogatepass"))


def _xxh32(text: str) -> int:
    return xxhash.xxh32_intdigest(text.encode("utf-8", "surrogatepass"))


class ScriptTokenizer(WordTokenizer):
    """datatrove word tokenizer: words, or characters for scripts written without spaces."""

    def word_tokenize(self, text: str) -> list[str]:
        return tokens(normalize(text))

    def sent_tokenize(self, text: str) -> list[str]:
        return [s for s in text.splitlines() if s.strip()]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        spans, pos = [], 0
        for line in text.splitlines(keepends=True):
            if line.strip():
                spans.append((pos, pos + len(line.rstrip("\r\n"))))
            pos += len(line)
        return spans


def minhash_config(ngram: int, buckets: int, hashes_per_bucket: int, seed: int = 1) -> MinhashConfig:
    return MinhashConfig(n_grams=ngram, num_buckets=buckets, hashes_per_bucket=hashes_per_bucket, seed=seed,
                         hash_config=HashConfig(precision=64, hash_fc="xxhash"))


class KeyShardReader(PipelineStep):
    """Yields the key texts of task `rank` as Documents (text = key, id = row number).

    The prepare pass writes `files` shard files; task r of W reads shards
    r, r+W, r+2W, ... in that order, so the number of tasks can be chosen
    after the data has been read.
    """

    type = "📖 - READER"
    name = "dataforge key shards"

    def __init__(self, folder: str, files: int):
        super().__init__()
        self.folder, self.files = str(folder), files

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        for shard in range(rank, self.files, world_size):
            path = os.path.join(self.folder, f"{shard:05d}.jsonl")
            if not os.path.exists(path):
                continue
            with open(path, "rb") as fh:
                for line in fh:
                    self.stat_update("documents")
                    yield Document(text=orjson.loads(line), id="")


def task_rows(shard_rows: list[np.ndarray], rank: int, tasks: int) -> np.ndarray:
    """Row numbers in the order task `rank` of `tasks` reads them (its datatrove doc index)."""
    parts = shard_rows[rank::tasks]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


class ShingleSignature(MinhashDedupSignature):
    """datatrove's stage 1, computing shingles the dataforge way (see the module docstring)."""

    name = "🎯 MinHash stage 1 (dataforge shingles)"

    def __init__(self, output_folder: str, config: MinhashConfig):
        super().__init__(output_folder, config=config, language=ScriptTokenizer())
        self._hash_func = hash_func(config.hash_config.precision)

    def get_shingles(self, text: str) -> np.ndarray:
        return shingle_hashes(text, self.config.n_grams, self._hash_func)

    def get_signature(self, shingles: np.ndarray) -> list[list[int]]:
        """datatrove's signature, with one reshape instead of np.split (same values, same layout)."""
        a, b = self.parameters
        phv = (shingles * a + b) % _mersenne_prime
        if self.config.hash_config.precision == 32:
            phv = np.bitwise_and(phv, self.config.hash_config.max)
        sig = np.min(phv, axis=0).astype(self.config.hash_config.np_dtype)
        return sig.reshape(self.config.num_buckets, self.config.hashes_per_bucket).tolist()


@dataclass(frozen=True)
class StageFolders:
    shards: str
    signatures: str
    buckets: str
    clusters: str


def stage_pipelines(folders: StageFolders, config: MinhashConfig, shard_files: int,
                    tasks: int) -> list[tuple[str, list[PipelineStep], int]]:
    """(stage name, pipeline, number of tasks) for stages 1-3."""
    return [
        ("signatures", [KeyShardReader(folders.shards, shard_files),
                        ShingleSignature(folders.signatures, config)], tasks),
        ("buckets", [MinhashDedupBuckets(input_folder=folders.signatures, output_folder=folders.buckets,
                                         config=config)], config.num_buckets),
        ("clusters", [MinhashDedupCluster(input_folder=folders.buckets, output_folder=folders.clusters,
                                          config=config, save_cluster_id=True)], 1),
    ]


def read_clusters(clusters_folder: str | Path, shard_rows: list[np.ndarray], tasks: int) -> list[np.ndarray]:
    """Stage 3's output as clusters of row numbers (each sorted, at least two rows)."""
    folder = Path(clusters_folder)
    pairs_doc, pairs_cluster = [], []
    for rank in range(tasks):
        path = folder / f"{rank:06d}.clusters"
        if not path.exists():
            continue
        gids = task_rows(shard_rows, rank, tasks)
        raw = np.fromfile(path, dtype="<u4")
        if raw.size % 2:
            raise ValueError(f"{path}: truncated cluster file")
        docs, cluster_ids = raw[0::2].astype(np.int64), raw[1::2].astype(np.int64)
        pairs_doc.append(gids[docs])
        pairs_cluster.append(cluster_ids)
    if not pairs_doc:
        return []
    rows, cids = np.concatenate(pairs_doc), np.concatenate(pairs_cluster)
    order = np.lexsort((rows, cids))
    rows, cids = rows[order], cids[order]
    bounds = np.flatnonzero(np.diff(cids)) + 1
    return [c for c in np.split(rows, bounds) if c.size > 1]
