"""Evaluation benchmark: question sets, pure metrics, the harness and its report.

    eval.datasets  question sets (seeds, SQuAD v1.1 open-domain, NewsQA fragment)
    eval.metrics   pure scoring functions (SQuAD EM/F1, citations, ranks, latency)
    eval.indexing  builds or loads the index of a set's corpus, timed
    eval.harness   runs `qa` over a set, one configuration or the four ablations
    eval.report    summary table, JSON results, PNG chart
    eval.cli       `python -m eval` / `qa eval`

Importing this package is cheap: only the harness and indexing load models or the `qa` pipeline.
"""
