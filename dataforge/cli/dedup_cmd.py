"""`dataforge dedup`: exact and near duplicates, and evaluation-set overlap."""

from __future__ import annotations

import click

from dataforge.cli.options import allow_empty_option, input_options, overwrite_option
from dataforge.dedup.keys import NGRAM, THRESHOLD
from dataforge.io.export import TARGETS  # every shape convert writes


@click.command("dedup")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=click.Path(),
              help="Output path (.jsonl .jsonl.gz .jsonl.zst .json .parquet .csv, or a datasets folder).")
@click.option("--exact", is_flag=True, help="Remove exact duplicates (after normalisation).")
@click.option("--near", is_flag=True, help="Remove near duplicates (MinHash LSH). Neither flag: both.")
@click.option("--threshold", type=float, default=THRESHOLD, show_default=True,
              help="Jaccard similarity of word (or CJK/Thai character) n-grams from which rows are near duplicates.")
@click.option("--key", default="auto", show_default=True, metavar="auto|prompt|instruction|all|FIELD,...",
              help="What is compared. auto: the whole example (prompt and answer) for instruction data, the"
                   " prompt for preference data; prompt: instruction+context (removes rows that only share a"
                   " prompt); instruction; all; or fields.")
@click.option("--keep", default="first", show_default=True, metavar="first|longest|best:FIELD",
              help="Which row of a duplicate cluster survives.")
@click.option("--against", multiple=True, type=click.Path(), metavar="EVAL",
              help="Also remove rows that share a 13-token run with this evaluation data (repeatable).")
@click.option("--clusters", "clusters", type=click.Path(dir_okay=False),
              help="Write each duplicate cluster (kept id, removed ids, similarity) to this JSONL file.")
@click.option("--to", "to", type=click.Choice(TARGETS), help="Output shape (default: the input's shape).")
@click.option("--ngram", type=int, default=NGRAM, show_default=True, help="Shingle size in tokens.")
@click.option("--buckets", type=int, help="LSH buckets (bands); default chosen from --threshold.")
@click.option("--hashes-per-bucket", type=int, help="Hashes per bucket (rows per band); default from --threshold.")
@click.option("--decont-ngram", type=int, default=13, show_default=True,
              help="Token run length that counts as overlap with --against data.")
@click.option("--executor", type=click.Choice(("local", "slurm", "ray")), default="local", show_default=True,
              help="Where the MinHash stages run (datatrove executors).")
@click.option("--workers", type=int, help="Tasks at once (local processes, Ray CPUs, Slurm array limit).")
@click.option("--tasks", type=int, help="Signature tasks (default: --workers; 8 on Slurm).")
@click.option("--partition", help="Slurm partition.")
@click.option("--time", "time_limit", default="04:00:00", show_default=True, help="Slurm time limit per job.")
@click.option("--cpus-per-task", type=int, default=1, show_default=True, help="Slurm/Ray CPUs per task.")
@click.option("--mem-per-cpu-gb", type=float, default=2.0, show_default=True, help="Slurm/Ray memory per CPU.")
@click.option("--logging-dir", type=click.Path(), help="datatrove logs and completion markers (default: in the work dir).")
@click.option("--env-command", help="Slurm: shell line that activates Python on the nodes (default: this venv).")
@click.option("--qos", help="Slurm QOS.")
@click.option("--ray-address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray).")
@click.option("--work-dir", type=click.Path(file_okay=False),
              help="Intermediate files; a rerun with the same inputs resumes from it (default: OUT.dedup-work).")
@click.option("--keep-work", is_flag=True, help="Keep the work dir after a successful run.")
@input_options
@allow_empty_option
@overwrite_option
def dedup_cmd(data, out, exact, near, threshold, key, keep, against, clusters, to, ngram, buckets,
              hashes_per_bucket, decont_ngram, executor, workers, tasks, partition, time_limit, cpus_per_task,
              mem_per_cpu_gb, logging_dir, env_command, qos, ray_address, work_dir, keep_work, mapping, fmt,
              strict, allow_empty):
    """Remove exact and near-duplicate rows, and rows that leak evaluation data.

    Several DATA files are deduplicated together (a row of one that repeats a
    row of another is found). Every removed row goes to OUT.rejects.jsonl with
    the reason, e.g. "near duplicate of 'ab12' (estimated similarity 0.87)".
    """
    from dataforge.dedup import ExecutorOptions, bands_for, dedup
    from dataforge.io.outcome import check_not_empty
    from dataforge.io.safety import check_outputs

    check_outputs([out, clusters], [data, against], labels=["-o", "--clusters"])
    use_near = near or not exact
    if use_near:
        click.echo(bands_for(threshold, buckets, hashes_per_bucket).describe(), err=True)
    opts = ExecutorOptions(kind=executor, workers=workers, tasks=tasks, partition=partition, time=time_limit,
                           cpus_per_task=cpus_per_task, mem_per_cpu_gb=mem_per_cpu_gb, logging_dir=logging_dir,
                           env_command=env_command, qos=qos, ray_address=ray_address)
    summary = dedup(list(data), out, exact=exact or None, near=near or None, threshold=threshold, key=key,
                    keep=keep, against=list(against), clusters=clusters, to=to, mapping=mapping, fmt=fmt,
                    strict=strict, ngram=ngram, buckets=buckets, hashes_per_bucket=hashes_per_bucket,
                    decont_ngram=decont_ngram, executor=opts, work_dir=work_dir, keep_work=keep_work)
    click.echo(summary.line())
    if summary.submitted:
        return
    click.echo(f"output: {summary.output}")
    if summary.rejects_path:
        click.echo(f"rejects: {summary.rejects_path}  (rows in {summary.rows_in:,} = out {summary.rows_out:,}"
                   f" + rejected {summary.rejected:,})")
    if summary.clusters_path:
        click.echo(f"clusters: {summary.clusters_path} ({summary.clusters:,})")
    if summary.same_prompt:
        click.echo(f"note: {summary.same_prompt:,} kept rows have the same prompt as an earlier row and another"
                   " answer (--key prompt removes them; --clusters lists them as same_prompt)")
    if summary.empty_key:
        click.echo(f"note: {summary.empty_key:,} rows have an empty --key {key} and were not compared")
    check_not_empty(summary.rows_in, summary.rows_out, rejects_path=summary.rejects_path, allow_empty=allow_empty,
                    output=summary.output)
