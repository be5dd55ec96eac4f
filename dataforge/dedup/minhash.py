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
  hash wrapper: huggingface/datatrove#508); its `run` signs documents in
  batches (`text.shingle_batch`, `find.minhash`: one vectorised MinHash per
  2,048 documents) and writes the very records datatrove's per-document loop
  writes, then lets datatrove sort and verify them;
- `SortedBuckets`, stage 2 with the merge of a bucket's signature files done
  by one numpy sort instead of a heap of Python objects: the same `.dups` pairs;
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
from datatrove.utils.typeshelper import StatHints
from datatrove.utils.word_tokenizers import WordTokenizer

from dataforge.dedup.text import normalize, shingle_batch, shingle_hashes, tokens, xxh64

SIGN_BATCH = 2048  # documents per vectorised signature batch in stage 1


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

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        """Signatures `SIGN_BATCH` documents at a time, into datatrove's bucket files.

        The files hold what datatrove's own loop writes (the same records, in the
        same order: hashes of the bucket, then the document's index in this task),
        made with one vectorised MinHash per batch (`find.minhash`) instead of one
        numpy call and one `struct.pack` per document per bucket. datatrove's own
        `run` then sorts and verifies them (it finds the files written and skips
        its signature loop).
        """
        if self.config.hash_config.precision != 64:  # dataforge always asks for 64; keep datatrove's path else
            return super().run(data, rank, world_size)
        from dataforge.dedup.find import minhash

        r, buckets = self.config.hashes_per_bucket, self.config.num_buckets
        dtype = np.dtype([(f"field{i + 1}", "<u8") for i in range(r)] + [(f"field{r + 1}", "<u4")])
        a, b = self.parameters
        files = [self.output_folder.open(f"bucket_{bi:03d}/{rank:05d}.minhash.sig", mode="wb")
                 for bi in range(buckets)]
        try:
            texts: list[str] = []
            done = 0  # documents before this batch: the index of its first one
            for doc in _chain(data or (), None):
                if doc is not None:
                    texts.append(doc.text)
                    if len(texts) < SIGN_BATCH:
                        continue
                if not texts:
                    continue
                flat, counts = shingle_batch(texts, self.config.n_grams, xxh64)
                has = np.flatnonzero(counts)  # a text without shingles gets no record, as in datatrove
                sig = minhash(flat, counts[has], a, b)
                records = np.empty(has.size, dtype=dtype)
                records[f"field{r + 1}"] = has + done
                for bi, fh in enumerate(files):
                    for j in range(r):
                        records[f"field{j + 1}"] = sig[:, bi * r + j]
                    fh.write(records.tobytes())
                self.stat_update(StatHints.total, value=len(texts))
                done += len(texts)
                texts = []
        finally:
            for fh in files:
                fh.close()
        skip = self.skip_existing_sigs
        self.skip_existing_sigs = True  # datatrove's run: finds the files complete, sorts and verifies them
        try:
            super().run(iter(()), rank, world_size)
        finally:
            self.skip_existing_sigs = skip

    def get_signature(self, shingles: np.ndarray) -> list[list[int]]:
        """datatrove's signature, with one reshape instead of np.split (same values, same layout)."""
        a, b = self.parameters
        phv = (shingles * a + b) % _mersenne_prime
        if self.config.hash_config.precision == 32:
            phv = np.bitwise_and(phv, self.config.hash_config.max)
        sig = np.min(phv, axis=0).astype(self.config.hash_config.np_dtype)
        return sig.reshape(self.config.num_buckets, self.config.hashes_per_bucket).tolist()


class SortedBuckets(MinhashDedupBuckets):
    """datatrove's stage 2, with the merge done by numpy: the same `.dups` files, much faster.

    datatrove merges the sorted signature files of a bucket with a heap of Python
    objects, one per signature, and writes a pair for every two neighbours in that
    order with equal hashes. This reads the bucket's files as arrays, sorts them
    by the same key (hashes, then file, then document), and writes the same pairs
    in the same order. With an index folder, or several tasks per bucket,
    datatrove's own loop runs.
    """

    name = "🎯 MinHash stage 2 (vectorised)"

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        if self.index_folder is not None or self.config.hash_config.precision != 64 or world_size not in (
                1, self.config.num_buckets):
            return super().run(data, rank, world_size)
        if world_size == 1:  # one task for every bucket (the local executor, in-process: no per-task set-up)
            for bucket in range(self.config.num_buckets):
                self._bucket(bucket)
        else:
            self._bucket(rank)

    def _bucket(self, rank: int) -> None:
        r = self.config.hashes_per_bucket
        dtype = np.dtype([(f"h{i}", "<u8") for i in range(r)] + [("doc", "<u4")])
        with self.track_time():
            parts, stems = [], []
            for name in self.input_folder.list_files(subdirectory=f"bucket_{rank:03d}"):
                with self.input_folder.open(name, mode="rb") as fh:
                    recs = np.frombuffer(fh.read(), dtype=dtype)
                parts.append(recs)
                stems.append(np.full(recs.size, int(Path(name).name.removesuffix(".minhash.sig")), np.uint32))
            with self.output_folder.open(f"{rank:05d}_00.dups", mode="wb") as out:
                if not parts:
                    return
                recs, stem = np.concatenate(parts), np.concatenate(stems)
                cols = [recs[f"h{i}"] for i in range(r)]
                order = np.lexsort([recs["doc"], stem] + cols[::-1])  # the last key sorts first
                same = np.ones(order.size - 1, dtype=bool) if order.size > 1 else np.zeros(0, bool)
                for c in cols:
                    c = c[order]
                    same &= c[1:] == c[:-1]
                i = np.flatnonzero(same)
                pairs = np.empty((i.size, 4), dtype="<u4")
                pairs[:, 0], pairs[:, 1] = stem[order[i]], recs["doc"][order[i]]
                pairs[:, 2], pairs[:, 3] = stem[order[i + 1]], recs["doc"][order[i + 1]]
                out.write(pairs.tobytes())
                self.stat_update("total_matches", value=int(i.size))


def _chain(items, end):
    """`items`, then `end` once (the signal to sign the last, partial batch)."""
    yield from items
    yield end


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
        ("buckets", [SortedBuckets(input_folder=folders.signatures, output_folder=folders.buckets,
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
