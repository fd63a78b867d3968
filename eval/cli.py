"""The benchmark's command line: `python -m eval ...`, also reached as `qa eval ...`.

Progress goes to stderr; the summary table and the paths written go to stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eval.conversation import load_conversation
from eval.datasets import EvalSet, limit, load_newsqa, load_seed_set, load_squad, load_squad2, sample
from eval.realtimeqa import load_realtimeqa
from eval.records import SPLITS

if TYPE_CHECKING:
    from eval.harness import RunResult

EVAL_ROOT = Path(__file__).resolve().parent
DEFAULT_OUT = EVAL_ROOT / "results"
DEFAULT_WORK = EVAL_ROOT / ".work"
SHARED_DATA = EVAL_ROOT.parent.parent / "shared" / "data"  # ../shared beside the repository
DEFAULT_SQUAD = SHARED_DATA / "squad-v1.1-dev-half.json"
DEFAULT_SQUAD2 = SHARED_DATA / "squad-v2.0-dev-half.json"
DEFAULT_NEWSQA = SHARED_DATA / "newsqa-fragment"
DEFAULT_REALTIMEQA = SHARED_DATA / "realtimeqa-2023"
DATASETS = ("seeds", "council", "conversation", "squad", "squad2", "newsqa", "realtimeqa")
SPLIT_SETS = ("squad", "squad2", "realtimeqa")  # the sets split into train and held-out (articles, or weeks)
COUNCIL = Path(__file__).resolve().parent / "council"
FUSIONS = ("rrf", "weighted", "bm25", "dense")  # as qa.config.FUSION_MODES; not imported to keep --help cheap


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the benchmark.

    Args:
        prog: the program name shown in usage (e.g. "qa eval").

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark the question-answering assistant: answers, citations, retrieval, "
        "abstention and cost, over the seed questions, the council event, conversations of follow-ups, "
        "SQuAD v1.1 and v2.0 (open-domain), a NewsQA fragment or RealTime QA.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="seeds", help="question set (default: seeds)")
    parser.add_argument(
        "--split", choices=SPLITS, default=None,
        help="SQuAD articles (or RealTime QA weeks) to ask about: all, train or heldout (default heldout; "
        "other sets: all)",
    )
    parser.add_argument("--limit", type=_count, metavar="N", help="ask only the first N questions")
    parser.add_argument("--sample", type=_count, metavar="N", help="ask a random sample of N questions")
    parser.add_argument("--seed", type=int, default=0, help="random seed of --sample (default 0)")
    configs = parser.add_mutually_exclusive_group()
    configs.add_argument(
        "--ablations", action="store_true",
        help="run BM25 only, dense only, hybrid RRF and hybrid weighted over one index",
    )
    configs.add_argument("--fusion", choices=FUSIONS, help="the single configuration to run (default: weighted)")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the index from scratch (a true build time)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (default eval/results)")
    parser.add_argument("--index-dir", type=Path, help="index root (default: env QA_INDEX_DIR, else index/)")
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK, help="where SQuAD/NewsQA corpora are written"
    )
    parser.add_argument("--squad-file", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 JSON file")
    parser.add_argument(
        "--squad2-file", type=Path, default=DEFAULT_SQUAD2,
        help="SQuAD v2.0 JSON file of the same articles (unanswerable questions; the corpus is --squad-file's)",
    )
    parser.add_argument("--newsqa-dir", type=Path, default=DEFAULT_NEWSQA, help="NewsQA fragment folder")
    parser.add_argument(
        "--realtimeqa-dir", type=Path, default=DEFAULT_REALTIMEQA,
        help="RealTime QA 2023 folder (articles.jsonl.gz, questions.jsonl); with --sample N the corpus is the "
        "articles of N questions plus 10 distractors per question",
    )
    parser.add_argument(
        "--threads", type=_count, metavar="N",
        help="torch CPU threads (default: torch's choice); 1 keeps latency steady on a shared machine",
    )
    parser.add_argument(
        "--abstain-below", type=float, metavar="C",
        help="decline answers under this confidence (default: the threshold stored with the confidence "
        "model in use); 0 answers everything "
        "and makes the printed abstention trade-off cover every threshold",
    )
    parser.add_argument(
        "--passage-reader", action=argparse.BooleanOptionalAction, default=None,
        help="read the best sentences with the built-in reader, or not (default: the setting's, on unless QA_PASSAGE_READER says off)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars on stderr")
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the benchmark as the command line asks, print the table and write the results.

    Args:
        argv: arguments without the program name (default: sys.argv[1:]).
        prog: the program name for usage messages.

    Returns:
        0 on success, 1 when the data or the model cannot be loaded (message on stderr).
        Bad arguments exit with status 2, as argparse does.
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    split = args.split or ("heldout" if args.dataset in SPLIT_SETS else "all")
    if args.dataset not in SPLIT_SETS and split != "all":
        parser.error(f"--split {split} applies to --dataset squad, squad2 or realtimeqa only; {args.dataset} has no splits")
    # Heavy imports (torch via qa) wait until the arguments are known to be good.
    from eval import harness, report
    from eval.abstention import format_trade_offs, trade_offs
    from eval.calibration import calibration
    from qa.answer.decide import threshold_for
    from qa.config import settings_from_env
    from qa.errors import QAError

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    try:
        full = _load(args, split)
        evalset = _subset(full, args)
        overrides = {"abstain_below": args.abstain_below} if args.abstain_below is not None else {}
        if args.passage_reader is not None:
            overrides["passage_reader"] = args.passage_reader
        base = settings_from_env(index_dir=args.index_dir, fusion=args.fusion, **overrides)
        configs = harness.ablation_configs(base) if args.ablations else [(harness.LABELS[base.fusion], base)]
        runs = harness.run_configs(evalset, configs, rebuild=args.rebuild, show_progress=not args.quiet)
    except (OSError, ValueError, QAError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stamp = report.utc_stamp()
    rows = [(run.label, run.summary) for run in runs]
    header = _header(runs[0], args.dataset, full, evalset, split, report.machine_info())
    footer = _footer(runs)
    for run in runs:
        footer += format_trade_offs(run.label, trade_offs(run.records, threshold_for(run.settings)))
    notes = [*header, *footer]
    json_path, latest = report.write_results(
        runs, args.out, dataset=args.dataset, split=split, notes=notes, stamp=stamp
    )
    date = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]} UTC"
    title = f"{args.dataset} ({split}), n={len(evalset.questions)}, {date}"
    chart = report.draw_chart(rows, args.out / f"{args.dataset}-{split}-{stamp}.png", title=title)
    latest_chart = report.draw_chart(rows, args.out / f"latest-{args.dataset}.png", title=title)
    reliability = [(run.label, calibration(run.records).bins) for run in runs]
    report.draw_reliability(reliability, args.out / f"latest-reliability-{args.dataset}.png", title=f"reliability: {title}")
    reliability_chart = report.draw_reliability(
        reliability, args.out / f"reliability-{args.dataset}-{split}-{stamp}.png", title=f"reliability: {title}"
    )
    print("\n".join(header))
    print()
    print(report.format_table(rows))
    print()
    print("\n".join(footer))
    errors = sum(int(run.summary.get("errors") or 0) for run in runs)
    if errors:
        print(f"warning: {errors} question(s) raised an error and were scored as declined ('error' in JSON)")
    print(f"results: {json_path} (copy: {latest.name})")
    print(f"chart:   {chart} (copy: {latest_chart.name})" if chart and latest_chart else f"chart:   skipped; {report.CHART_NEEDS}")
    if reliability_chart:
        print(f"reliability diagram: {reliability_chart}")
    return 0


def _load(args: argparse.Namespace, split: str) -> EvalSet:
    if args.dataset == "squad":
        _needs(args.squad_file, "--squad-file", "SQuAD v1.1's dev half", DEFAULT_SQUAD)
        return load_squad(args.squad_file, args.work_dir / "squad", split=split)
    if args.dataset == "squad2":  # the same corpus folder (and so the same index) as squad
        _needs(args.squad2_file, "--squad2-file", "SQuAD v2.0's dev questions of those articles", DEFAULT_SQUAD2)
        _needs(args.squad_file, "--squad-file", "SQuAD v1.1's dev half (the corpus)", DEFAULT_SQUAD)
        return load_squad2(args.squad2_file, args.squad_file, args.work_dir / "squad", split=split)
    if args.dataset == "newsqa":
        for name in ("chunks.jsonl", "questions.jsonl"):
            _needs(args.newsqa_dir / name, "--newsqa-dir", f"the NewsQA fragment's {name}", DEFAULT_NEWSQA / name)
        return load_newsqa(args.newsqa_dir, args.work_dir / "newsqa")
    if args.dataset == "realtimeqa":  # --sample chooses the corpus too: the sampled questions' articles
        return load_realtimeqa(args.realtimeqa_dir, args.work_dir, split=split, sample=args.sample, seed=args.seed)
    if args.dataset == "council":  # our own held-out news event (eval/council/), never trained on
        return load_seed_set(COUNCIL / "questions.jsonl", COUNCIL / "articles")
    if args.dataset == "conversation":  # follow-ups over the seeds and the council event together
        return load_conversation(args.work_dir / "conversation")
    return load_seed_set()


def _needs(path: Path, option: str, what: str, default: Path) -> None:
    """Refuse a missing benchmark file, saying what it is and where it comes from, not only its name.

    Raises:
        FileNotFoundError: `path` is not a file.
    """
    if path.is_file():
        return
    shipped = f"../shared/data/{default.relative_to(SHARED_DATA).as_posix()}"
    raise FileNotFoundError(
        f"{path} is missing: the benchmark needs {what}, which comes with the team's data folder as {shipped} "
        f"(beside the repository; ../shared/data/README.md says what it is and where it came from); "
        f"put it there, or pass {option} PATH"
    )


def _subset(evalset: EvalSet, args: argparse.Namespace) -> EvalSet:
    if args.sample is not None and args.dataset != "realtimeqa":  # that loader samples its corpus with them
        evalset = sample(evalset, args.sample, args.seed)
    if args.limit is not None:
        evalset = limit(evalset, args.limit)
    if not evalset.questions:
        raise ValueError(f"{evalset.name} has no questions to ask")
    return evalset


def _header(
    run: RunResult, dataset: str, full: EvalSet, evalset: EvalSet, split: str, machine: dict[str, object]
) -> list[str]:
    """Lines above the table: what was asked, how the index came about, where it ran."""
    from eval.harness import WARM_UP_NOTE

    info = run.index
    answerable = sum(q.answerable for q in evalset.questions)
    chosen = "all" if len(evalset.questions) == len(full.questions) else f"subset {evalset.name}"
    how = {"rebuilt": "rebuilt from scratch (--rebuild)", "built": "built/updated", "loaded": "loaded"}
    build = f"{info.build_seconds:.1f} s" if info.build_seconds is not None else "unknown"
    return [
        f"dataset: {dataset}  split: {split}  questions: {len(evalset.questions)} of {len(full.questions)} "
        f"({chosen}; {answerable} answerable)  corpus: {full.corpus_dir} ({info.articles} articles, "
        f"{info.chunks} chunks)",
        f"index: {how.get(info.action, info.action)} in {info.seconds:.1f} s; the build in use took {build} "
        f"(built {info.built_at or 'unknown'}); the paragraphs it left for questions then read in "
        f"{info.read_seconds:.1f} s; model {info.model} loaded in {info.model_load_seconds:.1f} s",
        f"{WARM_UP_NOTE}; one index shared by all configurations",
        f"machine: {machine['platform']}, {machine['cpu_count']} CPUs, Python {machine['python']}, "
        f"torch threads {machine['torch_threads']}, load average {machine['load_average']} (1/5/15 min)",
        f"machine check: encoding a fixed question took {_ms(run.summary.get('probe_ms_before'))} before / "
        f"{_ms(run.summary.get('probe_ms_after'))} after the timed questions (median of 20; a few ms when "
        "the CPUs are free)",
        *_busy_warning(machine),
    ]


def _ms(value: object) -> str:
    return f"{value:.1f} ms" if isinstance(value, (int, float)) else "-"


def _busy_warning(machine: dict[str, object]) -> list[str]:
    load, cpus = machine.get("load_average"), machine.get("cpu_count")
    if not isinstance(load, list) or not isinstance(cpus, int) or load[1] <= cpus:
        return []
    return [
        f"warning: the machine was busy (5-minute load {load[1]} on {cpus} CPUs); latency is inflated, "
        "compare configurations within this run only"
    ]


def _footer(runs: Sequence[RunResult]) -> list[str]:
    """Lines below the table: what the columns mean, and CPU time per question."""
    from eval.report import format_value

    cpu = " | ".join(
        f"{run.label} {format_value(run.summary.get('median_cpu_ms'), 0)}/"
        f"{format_value(run.summary.get('p95_cpu_ms'), 0)}"
        for run in runs
    )
    return [
        "rates are fractions of answerable questions, except abstain_unans (of unanswerable ones); "
        "R@k/MRR: rank of the first retrieved chunk (before the answerer) holding gold evidence; "
        "build_s: manifest build time of the index in use; peak_MB: process peak RSS (ru_maxrss) "
        "at the end of the run",
        f"CPU ms per question, median/p95 (process CPU time, all threads): {cpu}",
        *_follow_up_lines(runs),
    ]


def _follow_up_lines(runs: Sequence[RunResult]) -> list[str]:
    """For a set of follow-ups: how they fare in their conversation and asked alone."""
    from eval.report import format_value

    lines = []
    for run in runs:
        figures = run.summary
        if not figures.get("follow_ups"):
            continue
        count = int(figures["follow_ups"] or 0)
        worse = round(float(figures.get("worse_than_alone") or 0.0) * count)
        better = round(float(figures.get("better_than_alone") or 0.0) * count)
        lines.append(
            f"{run.label}: {count} follow-ups; hit@1 {format_value(figures.get('follow_up_hit@1'), 3)} in their "
            f"conversation, {format_value(figures.get('alone_hit@1'), 3)} asked alone; worse than alone: {worse} of "
            f"{count}, better: {better} (right: a hit, or a decline of an unanswerable one)"
        )
    return lines


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
