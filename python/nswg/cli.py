"""The command line: ``python -m nswg bench`` runs the main benchmark.

It reports what accuracy each distance computation buys: 1-NN classification error on UCR
datasets under Euclidean and DTW (exact search, the archive's published error, and the graph
search over a sweep of settings) and recall@10 on word vectors, as a table on the terminal,
CSV and JSON files, and PNG plots.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from nswg import bench, datasets
from nswg._validation import (
    QUANTIZATIONS,
    non_negative_int,
    positive_int,
    quantization_name,
    thread_count,
)

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        return run_bench(args)
    except OptionError as e:
        print(f"nswg bench: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nswg", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    b = commands.add_parser(
        "bench",
        help="accuracy versus distance computations on UCR time series and word vectors",
        description=(
            "Benchmark the graph search against exact search: 1-NN error on UCR datasets "
            "(Euclidean and DTW at the learned window, beside the archive's published error) and "
            "recall@10 on word vectors, each against distance computations per query. With no "
            "options it runs on the data shipped inside the package."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    b.add_argument(
        "--ucr-root",
        help="folder of a UCR archive (<root>/<Name>/<Name>_TRAIN.tsv[.gz]); default: the shipped "
        "datasets",
    )
    b.add_argument(
        "--datasets",
        default="all",
        help="comma-separated UCR dataset names, 'all' for every dataset under the root, or 'none'",
    )
    b.add_argument("--metrics", default="euclidean,dtw", help="comma-separated: euclidean, dtw")
    b.add_argument(
        "--sweep",
        default=",".join(f"{s.ef}:{s.n_searches}" for s in bench.UCR_SWEEP),
        help="graph-search settings for UCR as EF:N_SEARCHES pairs",
    )
    b.add_argument("--max-test", type=int, help="use at most this many test series of each dataset")
    b.add_argument(
        "--words",
        default="default",
        help="word vectors: 'default' (shipped 10k GloVe words), a file (GloVe or word2vec text "
        "or binary, or .npy with a .vocab.txt beside it), or 'none'",
    )
    b.add_argument("--word-queries", type=int, default=1000, help="held-out query words")
    b.add_argument(
        "--word-sweep",
        default=",".join(str(s.ef) for s in bench.WORD_SWEEP),
        help="graph-search settings for word vectors (EF or EF:N_SEARCHES)",
    )
    b.add_argument(
        "--quantization",
        default="none",
        help="codes the word-vector graph search walks on: 'none' (float32), "
        + ", ".join(repr(q) for q in QUANTIZATIONS if q is not None),
    )
    b.add_argument("--out", default="bench-out", help="folder for the CSV, JSON and PNG files")
    b.add_argument("--no-plot", action="store_true", help="do not draw PNG plots")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument("--threads", type=int, default=0, help="threads; 0 means one per core")
    b.add_argument("--seed", type=int, default=0, help="seed of the graphs and the query words")
    return parser


class OptionError(ValueError):
    """A bad option or input file, found before any task runs."""


def run_bench(args: argparse.Namespace) -> int:
    """Runs the benchmark: every option and input file is checked first, each task's results
    are written as it finishes, and a failing dataset is reported while the others run on.
    Returns 0, or 1 when a task failed, or 130 when interrupted (what was done is kept)."""
    plan = _plan(args)
    results = _Results(plan["out"], args.threads, has_ucr=bool(plan["tasks"]))
    interrupted = False
    try:
        with _progress(len(plan["tasks"]) + (plan["words"] is not None), args.no_progress) as bar:
            for name, metric in plan["tasks"]:
                bar.set_description(f"{name} {metric}")
                try:
                    lines = bench.ucr_task(
                        name,
                        metric,
                        root=args.ucr_root,
                        sweep=plan["sweep"],
                        max_test=args.max_test,
                        seed=args.seed,
                        n_threads=args.threads,
                    )
                except Exception as e:  # one bad dataset of an archive must not cost the others
                    log.error("nswg bench: %s under %s failed: %s", name, metric, e)
                    results.failed(name, metric, e)
                else:
                    results.add_ucr(lines)
                bar.update()
            if plan["words"] is not None:
                bar.set_description("word vectors")
                vocab, vectors = plan["words"]
                try:
                    words = bench.word_bench(
                        vocab,
                        vectors,
                        n_queries=args.word_queries,
                        sweep=plan["word_sweep"],
                        seed=args.seed,
                        n_threads=args.threads,
                        quantization=plan["quantization"],
                    )
                except Exception as e:
                    log.error("nswg bench: the word vectors failed: %s", e)
                    results.failed("word vectors", "cosine", e)
                else:
                    results.set_words(words)
                bar.update()
    except KeyboardInterrupt:
        interrupted = True
    return results.finish(interrupted=interrupted, plot=not args.no_plot)


class _Results:
    """The files of one run, written as its tasks finish: ``ucr.csv`` gets each task's rows
    appended, ``results.json`` is rewritten atomically, so a failure, Ctrl-C or a kill keeps
    every task done."""

    def __init__(self, out: Path, threads: int, *, has_ucr: bool) -> None:
        self.out = out
        self.ucr: list[bench.UcrResult] = []
        self.words: bench.WordBench | None = None
        self.report: dict[str, Any] = {
            "machine": bench.machine_info(),
            "threads": threads,
            "complete": False,
            "ucr": [],
            "failures": [],
        }
        for stale in ("ucr.csv", "words.csv", "results.json"):
            (out / stale).unlink(missing_ok=True)
        self.files = ["results.json"]
        if has_ucr:
            _write_csv_header(out / "ucr.csv", bench.UcrResult)
            self.files.append("ucr.csv")
        _write_json(out / "results.json", self.report)

    def add_ucr(self, lines: list[bench.UcrResult]) -> None:
        with _interrupts_deferred():
            self.ucr += lines
            _append_csv(self.out / "ucr.csv", bench.as_records(lines))
            self.report["ucr"] = bench.as_records(self.ucr)
            _write_json(self.out / "results.json", self.report)

    def failed(self, name: str, metric: str, error: Exception) -> None:
        failure = {"dataset": name, "metric": metric, "error": f"{type(error).__name__}: {error}"}
        with _interrupts_deferred():
            self.report["failures"].append(failure)
            _write_json(self.out / "results.json", self.report)

    def set_words(self, words: bench.WordBench) -> None:
        with _interrupts_deferred():
            self.words = words
            _write_csv(self.out / "words.csv", bench.as_records(words.results))
            self.files.append("words.csv")
            self.report["words"] = {
                "n_words": words.n_words,
                "dim": words.dim,
                "n_queries": words.n_queries,
                "build_seconds": words.build_seconds,
                "quantization": words.quantization,
                "results": bench.as_records(words.results),
                "probes": words.probes,
            }
            _write_json(self.out / "results.json", self.report)

    def finish(self, *, interrupted: bool, plot: bool) -> int:
        """Prints the tables and draws the plots; the exit status."""
        self.report["complete"] = not interrupted
        _write_json(self.out / "results.json", self.report)
        if self.ucr:
            print(ucr_table(self.ucr))
        if self.words is not None:
            print(word_table(self.words))
        if plot and not interrupted:
            self.files += _plots(self.out, self.ucr, self.words)
        print(f"\nwrote {', '.join(self.files)} to {self.out}/")
        if interrupted:
            done = len({(x.dataset, x.metric) for x in self.ucr})
            print(f"nswg bench: interrupted; the {done} tasks done are kept", file=sys.stderr)
            return 130
        for failure in self.report["failures"]:
            print(
                f"nswg bench: {failure['dataset']} under {failure['metric']} failed: "
                f"{failure['error']}",
                file=sys.stderr,
            )
        return 1 if self.report["failures"] else 0


def _plan(args: argparse.Namespace) -> dict[str, Any]:
    """Every option and input file checked, before any task runs: the tasks, the sweeps, the
    word vectors (read now, so that a bad file fails in seconds, not after hours of UCR), and
    the output folder."""

    def option(name: str, check: Any) -> Any:
        try:
            return check()
        except (ValueError, TypeError, OSError) as e:
            raise OptionError(f"{name}: {e}") from None

    metrics = option("--metrics", lambda: _ucr_metrics(args.metrics))
    sweep = option("--sweep", lambda: [bench.Setting.parse(s) for s in args.sweep.split(",")])
    word_sweep = option(
        "--word-sweep", lambda: [bench.Setting.parse(s) for s in args.word_sweep.split(",")]
    )
    if args.max_test is not None:
        option("--max-test", lambda: positive_int(args.max_test, "the number of test series"))
    option("--word-queries", lambda: positive_int(args.word_queries, "the number of queries"))
    quantization = option(
        "--quantization",
        lambda: (
            None
            if args.quantization.strip().lower() == "none"
            else quantization_name(args.quantization, "cosine")
        ),
    )
    option("--seed", lambda: non_negative_int(args.seed, "the seed"))
    option("--threads", lambda: thread_count(args.threads, "the number of threads"))
    if args.ucr_root is not None:
        option("--ucr-root", lambda: datasets.list_ucr(args.ucr_root))
    names = option("--datasets", lambda: _dataset_names(args.datasets, args.ucr_root))
    for name in names:
        option("--datasets", partial(datasets.ucr_files, name, args.ucr_root))
    words = None if args.words == "none" else option("--words", lambda: _read_words(args))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out: {out} is a file, not a folder")
    option("--out", lambda: out.mkdir(parents=True, exist_ok=True))
    return {
        "tasks": [(name, metric) for name in names for metric in metrics],
        "sweep": sweep,
        "word_sweep": word_sweep,
        "quantization": quantization,
        "words": words,
        "out": out,
    }


def _read_words(args: argparse.Namespace) -> tuple[list[str], Any]:
    """The word vectors of ``--words``, checked to be enough for the benchmark."""
    if args.words == "default":
        words, vectors = datasets.load_default_word_vectors()
    else:
        words, vectors = datasets.load_word_vectors(args.words)
    bench.check_word_bench(len(words), args.word_queries, bench.WORD_K)
    return words, vectors


def _ucr_metrics(spec: str) -> list[str]:
    metrics = [m.strip() for m in spec.split(",") if m.strip()]
    for m in metrics:
        if m not in ("euclidean", "dtw"):
            raise ValueError(f"unknown metric {m!r} for UCR: choose euclidean and/or dtw")
    return metrics


def _dataset_names(spec: str, root: str | None) -> list[str]:
    if spec.strip().lower() == "none":
        return []
    available = datasets.list_ucr(root)
    if spec.strip().lower() == "all":
        return available
    names = [n.strip() for n in spec.split(",") if n.strip()]
    missing = [n for n in names if n not in available]
    if missing:
        raise ValueError(
            f"no UCR dataset {', '.join(missing)} under {root or 'the shipped data'}; "
            f"available: {', '.join(available)}"
        )
    return names


def ucr_table(lines: Sequence[bench.UcrResult]) -> str:
    """One row per dataset and metric: exact and published error, and the cheapest graph
    setting within 0.01 of exact search's error."""
    head = (
        f"{'dataset':<28}{'metric':<10}{'radius':>7}{'train':>7}{'test':>7}"
        f"{'published':>10}{'exact':>8}{'exact dist (+LB)':>17}   "
        f"{'graph: cheapest within 0.01 of exact':<52}{'best error':>11}"
    )
    rows = [
        "UCR 1-NN error: exact search, the archive's published error, and the graph search",
        head,
        "-" * len(head),
    ]
    groups: dict[tuple[str, str], list[bench.UcrResult]] = {}
    for x in lines:
        groups.setdefault((x.dataset, x.metric), []).append(x)
    for (name, metric), group in groups.items():
        exact = next(x for x in group if x.method == "exact")
        best = min((x for x in group if x.method == "graph"), key=lambda x: x.error)
        cheap = bench.cheapest_within(group)
        graph = (
            f"{cheap.error:.4f} at {cheap.mean_distance_computations:6.0f}{_lb(cheap)} dist "
            f"({cheap.percent_of_brute_force:5.1f}%) {cheap.ef}:{cheap.n_searches}"
            if cheap
            else "none in the sweep"
        )
        radius = (
            "-" if metric == "euclidean" else ("full" if exact.radius is None else exact.radius)
        )
        rows.append(
            f"{name:<28}{metric:<10}{radius!s:>7}{exact.n_train:>7}{exact.n_test:>7}"
            f"{_fmt(exact.published_error):>10}{exact.error:>8.4f}"
            f"{exact.mean_distance_computations:>8.0f}{_lb(exact):<9}   {graph:<52}"
            f"{best.error:>11.4f}"
        )
    rows.append(
        "dist: mean distance computations per query, (+LB) the LB_Keogh bounds that pruned the "
        "others (DTW); graph: error, dist (% of brute force), ef:n_searches"
    )
    return "\n".join(rows)


def word_table(words: bench.WordBench) -> str:
    coded = words.quantization is not None
    head = f"{'method':<16}{'recall@10':>10}{'dist/query':>12}{'% brute':>9}"
    head += f"{'codes/query':>13}" * coded + f"{'QPS':>10}"
    codes = f", graph search on {words.quantization} codes" if coded else ""
    rows = [
        f"\nWord vectors: {words.n_words} words x {words.dim}, cosine, {words.n_queries} held-out "
        f"query words{codes}, build {words.build_seconds:.1f} s",
        head,
        "-" * len(head),
    ]
    for x in words.results:
        method = "exact" if x.method == "exact" else f"ef={x.ef},ns={x.n_searches}"
        estimates = f"{x.mean_code_distance_computations:>13.0f}" * coded
        rows.append(
            f"{method:<16}{x.recall:>10.4f}{x.mean_distance_computations:>12.0f}"
            f"{x.percent_of_brute_force:>8.2f}%{estimates}{x.queries_per_second:>10.0f}"
        )
    for word, near in words.probes.items():
        rows.append(f"  {word}: " + ", ".join(f"{w} ({s:.3f})" for w, s in near))
    return "\n".join(rows)


def _lb(x: bench.UcrResult) -> str:
    """`` (+N)`` lower bounds per query, under DTW."""
    return f" (+{x.mean_lower_bound_computations:.0f})" if x.metric == "dtw" else ""


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.4f}"


def _write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Holds Ctrl-C until the block is done, so that the CSV and the JSON it writes stay in step
    (a task is in both or in neither); the KeyboardInterrupt is raised after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda *args: received.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _write_csv_header(path: Path, record_type: type) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f).writerow([x.name for x in dataclasses.fields(record_type)])


def _append_csv(path: Path, records: list[dict[str, Any]]) -> None:
    """Appends whole rows and flushes them to disk, so that a kill keeps every finished task."""
    with path.open("a", newline="") as f:
        csv.DictWriter(f, fieldnames=list(records[0])).writerows(records)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, report: dict[str, Any]) -> None:
    """Rewrites ``path`` atomically (a temporary file renamed over it): a reader, or a kill
    midway, sees the previous report or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w") as f:
        f.write(json.dumps(report, indent=1, default=_json_default))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _json_default(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    return str(x)


def _plots(out: Path, ucr: Sequence[bench.UcrResult], words: bench.WordBench | None) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plots (pip install 'nswg[plot]')")
        return []
    written = []
    if ucr:
        metrics = sorted({x.metric for x in ucr})
        fig, axes = plt.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 5), squeeze=False)
        for ax, metric in zip(axes[0], metrics):
            names = sorted({x.dataset for x in ucr if x.metric == metric})
            for name in names:
                group = [x for x in ucr if x.metric == metric and x.dataset == name]
                exact = next(x for x in group if x.method == "exact")
                graph = sorted(
                    (x for x in group if x.method == "graph"),
                    key=lambda x: x.percent_of_brute_force,
                )
                (line,) = ax.plot(
                    [x.percent_of_brute_force for x in graph],
                    [x.error - exact.error for x in graph],
                    marker="o",
                    markersize=3,
                    label=name,
                )
                ax.scatter(
                    [exact.percent_of_brute_force], [0.0], marker="*", s=60, color=line.get_color()
                )
            ax.axhline(0.0, color="black", linewidth=0.8)
            ax.axhline(0.01, color="grey", linewidth=0.8, linestyle="--")
            ax.set_xscale("log")
            ax.set_xlabel("distance computations per query, % of brute force")
            ax.set_ylabel("1-NN error minus exact search's error")
            ax.set_title(f"UCR 1-NN, {metric}: graph search (lines), exact search (stars)")
            if len(names) <= 16:
                ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "ucr_error_vs_distances.png", dpi=120)
        plt.close(fig)
        written.append("ucr_error_vs_distances.png")
    if words is not None:
        fig, ax = plt.subplots(figsize=(6.5, 5))
        searched = [x for x in words.results if x.method == "graph"]
        brute = next(x for x in words.results if x.method == "exact")
        ax.plot(
            [x.mean_distance_computations for x in searched],
            [x.recall for x in searched],
            marker="o",
            label="nswg graph search",
        )
        for x in searched:
            ax.annotate(f"ef={x.ef}", (x.mean_distance_computations, x.recall), fontsize=7)
        ax.axvline(brute.mean_distance_computations, color="grey", linestyle="--")
        ax.scatter([brute.mean_distance_computations], [1.0], color="black", label="exact search")
        ax.set_xscale("log")
        ax.set_xlabel("distance computations per query")
        ax.set_ylabel(f"recall@{brute.k}")
        ax.set_title(f"Word vectors: {words.n_words} words x {words.dim}, cosine")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "words_recall_vs_distances.png", dpi=120)
        plt.close(fig)
        written.append("words_recall_vs_distances.png")
    return written


class _progress:
    """A tqdm bar on a terminal; elsewhere (CI, a pipe) a log line per finished task."""

    def __init__(self, total: int, disabled: bool) -> None:
        self._bar = None
        self._total, self._done, self._disabled = total, 0, disabled
        self._description = ""
        self._started = time.perf_counter()
        if not disabled and sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, file=sys.stderr, leave=False)
            except ImportError:
                pass

    def __enter__(self) -> _progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def set_description(self, text: str) -> None:
        self._description = text
        if self._bar is not None:
            self._bar.set_description(text)

    def update(self) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.update()
        elif not self._disabled:
            elapsed = time.perf_counter() - self._started
            done = f"[{self._done}/{self._total}] {self._description}"
            log.info("%s done (%.0f s)", done, elapsed)
