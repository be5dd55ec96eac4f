"""Every file type reads and writes the same records: jsonl, json, .gz, .zst, parquet, csv,
datasets folders, folders of shards and globs."""

from __future__ import annotations

import gzip
import json

import pytest
from io_helpers import read_lines, write_jsonl

from dataforge.convert import convert
from dataforge.io import open_writer, read_dataset, write_rows
from dataforge.io.files import resolve

ROWS = [
    {"instruction": "Quote, comma: \"hi\", ok?", "context": "line1\nline2\r\nline3", "response": "Ünïcödé ✓ 日本",
     "category": "open_qa"},
    {"instruction": "Code?", "context": "", "response": "```py\nprint('x')\n```", "category": "code"},
    {"instruction": "Number output", "context": "", "response": 42, "category": "math", "extra": [1, 2]},
]
CHAT = [
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A?"},
                  {"role": "assistant", "content": "B."}]},
    {"messages": [{"role": "user", "content": "1"}, {"role": "assistant", "content": "2"},
                  {"role": "user", "content": "3"}, {"role": "assistant", "content": "4"}]},
]
PREF = [{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello"}],
         "rejected": [{"role": "assistant", "content": "Go"}]}]

OUTPUTS = ["o.jsonl", "o.json", "o.jsonl.gz", "o.jsonl.zst", "o.parquet", "o.csv", "o_folder"]


def _dicts(path, **kw):
    ds = read_dataset(path, **kw)
    return ds, [r.to_dict() for r in ds]


@pytest.mark.parametrize("name", OUTPUTS)
@pytest.mark.parametrize("rows,target", [(ROWS, None), (CHAT, None), (CHAT, "openai"), (CHAT, "trl-chat"),
                                         (CHAT, "sharegpt"), (CHAT, "alpaca"), (PREF, "trl-chat"), (PREF, None)])
def test_write_then_read_every_type(tmp_path, name, rows, target):
    src = write_jsonl(tmp_path / "src.jsonl", rows)
    _, expected = _dicts(src)
    out = tmp_path / name
    summary = convert(src, out, to=target)
    assert summary.written == len(rows) and summary.rejected == 0
    ds, got = _dicts(out)
    assert ds.stats.rejected == 0
    assert got == expected


def test_parquet_keeps_chat_columns_as_lists(tmp_path):
    """TRL and `datasets` see a conversation only when messages are lists, not JSON text."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = write_jsonl(tmp_path / "c.jsonl", CHAT)
    convert(src, tmp_path / "c.parquet", to="openai")
    kind = pq.read_table(tmp_path / "c.parquet").schema.field("messages").type
    assert pa.types.is_list(kind) and kind.value_type == pa.struct([("role", pa.string()), ("content", pa.string())])
    convert(src, tmp_path / "hf", to="trl-chat")
    ds = datasets.load_from_disk(str(tmp_path / "hf"))
    assert ds[0]["prompt"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A?"}]
    assert ds[1]["completion"] == [{"role": "assistant", "content": "4"}]


def test_reads_files_written_by_other_tools(tmp_path):
    import datasets
    import polars as pl

    pl.DataFrame(ROWS[:2]).write_parquet(tmp_path / "pl.parquet")
    pl.DataFrame(ROWS[:2]).write_csv(tmp_path / "pl.csv")
    datasets.Dataset.from_list(CHAT).save_to_disk(str(tmp_path / "hf_chat"))
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS[:2]),
                               "test": datasets.Dataset.from_list(ROWS[1:2])})
    dd.save_to_disk(str(tmp_path / "hf_dict"))
    (tmp_path / "alpaca.json").write_text(json.dumps(
        [{"instruction": "a", "input": "b", "output": "c"}, {"instruction": "d", "input": "", "output": "e"}],
        indent=2), encoding="utf-8")

    _, want = _dicts(write_jsonl(tmp_path / "ref.jsonl", ROWS[:2]))
    for name in ("pl.parquet", "pl.csv"):
        ds, got = _dicts(tmp_path / name)
        assert (ds.shape, got) == ("dolly", want), name
    ds, got = _dicts(tmp_path / "hf_chat")
    assert ds.shape == "openai" and got[1]["messages"] == CHAT[1]["messages"]
    ds, got = _dicts(tmp_path / "hf_dict")
    assert ds.stats.read == 3 and len(got) == 3
    ds, got = _dicts(tmp_path / "alpaca.json")
    assert ds.shape == "alpaca" and [(r["instruction"], r["context"], r["output"]) for r in got] == [
        ("a", "b", "c"), ("d", "", "e")]


def test_folder_of_shards_and_glob(tmp_path):
    shards = tmp_path / "shards"
    write_jsonl(shards / "part-000.jsonl", ROWS[:1])
    write_jsonl(shards / "sub" / "part-001.jsonl", ROWS[1:2])
    with gzip.open(shards / "part-002.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(ROWS[2]) + "\n")
    (shards / "README.txt").write_text("not data")
    (shards / ".part-003.jsonl.tmp-x").write_text("half-written")
    (shards / "old.jsonl.rejects.jsonl").write_text('{"reason": "x"}\n')

    files = resolve(shards)
    assert [f.path.name for f in files] == ["part-000.jsonl", "part-002.jsonl.gz", "part-001.jsonl"]
    ds, got = _dicts(shards)
    assert [g["output"] for g in got] == ["Ünïcödé ✓ 日本", "42", "```py\nprint('x')\n```"]
    ds, got = _dicts(str(tmp_path / "shards" / "**" / "part-*.jsonl"))
    assert len(got) == 2 and ds.stats.read == 2
    # several paths at once, in the order given
    ds, got = _dicts([shards / "sub" / "part-001.jsonl", shards / "part-000.jsonl"])
    assert [g["instruction"] for g in got] == ["Code?", ROWS[0]["instruction"]]


def test_format_flag_reads_a_file_whatever_its_name(tmp_path):
    path = write_jsonl(tmp_path / "data.txt", ROWS[:2])
    ds, got = _dicts(path, fmt="jsonl")
    assert len(got) == 2


def test_writer_keeps_a_column_that_first_appears_in_a_late_batch(tmp_path):
    """Schema is never fixed by the first batch: a column seen only after 10,000 rows is kept."""
    import polars as pl

    rows = [{"a": str(i)} for i in range(10_000)] + [{"a": "x", "late": "kept", "n": 3, "tags": ["t"]}]
    for name in ("late.parquet", "late.csv", "late.jsonl", "late_hf"):
        out = tmp_path / name
        assert write_rows(rows, out) == len(rows)
        if name.endswith(".parquet"):
            df = pl.read_parquet(out)
            assert df.height == 10_001 and df["late"].to_list()[-1] == "kept" and df["late"].null_count() == 10_000
            assert df["n"].to_list()[-1] == 3 and df["tags"].to_list()[-1] == ["t"]
        elif name.endswith(".csv"):
            df = pl.read_csv(out, infer_schema=False)
            assert df.height == 10_001 and df["late"].to_list()[-1] == "kept"
        elif name.endswith(".jsonl"):
            assert read_lines(out)[-1]["late"] == "kept"
        else:
            import datasets

            ds = datasets.load_from_disk(str(out))
            assert len(ds) == 10_001 and ds[-1]["late"] == "kept"


def test_parquet_column_whose_type_changes_is_widened_not_lost(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = ([{"v": None, "h": []} for _ in range(9000)] + [{"v": 1, "h": [["q", "a"]]}]
            + [{"v": 2.5, "h": []}] * 9000 + [{"v": "text", "h": [["q2", "a2"]]}])
    out = tmp_path / "w.parquet"
    write_rows(rows, out)
    table = pq.read_table(out)
    assert table.num_rows == len(rows)
    kind = table.schema.field("h").type
    assert pa.types.is_list(kind) and kind.value_type.equals(pa.list_(pa.string()))
    values = table.column("v").to_pylist()
    assert values[9000] == "1" and values[9001] == "2.5" and values[-1] == "text" and values[0] is None
    assert table.column("h").to_pylist()[-1] == [["q2", "a2"]]


def test_unknown_output_suffix_is_a_clear_error(tmp_path):
    from dataforge.errors import InputError

    with pytest.raises(InputError, match="cannot tell the output format"):
        open_writer(tmp_path / "out.xlsx")
    assert list(tmp_path.iterdir()) == []
