"""The package's shape: no import cycle, and no import from a lower layer to a higher one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from import_graph import LAYERS, cycles, layer_of, modules, upward_imports


def test_no_module_imports_upward_and_none_is_in_a_cycle() -> None:
    graph = modules()
    assert upward_imports(graph) == []
    assert cycles(graph) == []


def test_every_module_has_a_layer_and_every_subpackage_says_what_it_does() -> None:
    graph = modules()
    for name, module in graph.items():
        layer_of(name)  # raises for a module no layer names
        if module.path.name == "__init__.py" and name != "qa.models":
            assert len(module.path.read_text(encoding="utf-8").strip()) > 100, f"{name} needs a docstring"
    assert [layer for layer, _ in LAYERS][1:7] == ["ingest", "indexing", "retrieve", "read", "answer", "reply"]


def test_the_detector_finds_a_cycle_and_an_upward_import() -> None:
    from import_graph import Module

    fake = {
        "qa.text": Module("qa.text", Path("text.py"), ("qa.answer.decide",)),
        "qa.answer.decide": Module("qa.answer.decide", Path("decide.py"), ("qa.text",)),
    }
    assert cycles(fake) == [["qa.answer.decide", "qa.text"]]
    assert upward_imports(fake) == [("qa.text", "qa.answer.decide")]


def test_importing_qa_does_not_import_the_benchmark_or_torch() -> None:
    code = "import sys, qa; print(any(m == 'eval' or m.startswith(('eval.', 'torch')) for m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


def test_the_library_and_its_command_line_do_not_import_ray() -> None:
    code = "import sys, qa, qa.cli, qa.api; print('ray' in sys.modules or any(m.startswith('qa.distributed') for m in sys.modules))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


def test_the_reader_training_imports_neither_faiss_nor_the_pipeline() -> None:
    # train.reader runs on a GPU machine that has torch and transformers but not the
    # product's other dependencies: `import qa` must stay lazy for it.
    code = (
        "import sys, train.reader; "
        "print(sorted(m for m in ('faiss', 'rank_bm25', 'gradio', 'qa.api', 'qa.indexing.memory') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_the_package_still_offers_its_names_and_refuses_unknown_ones() -> None:
    import qa
    from qa.api import ask

    assert qa.ask is ask and set(qa.__all__) == set(qa._HOMES) >= {"ask", "Settings", "Answer"}
    try:
        qa.not_a_name  # noqa: B018
    except AttributeError as error:
        assert "not_a_name" in str(error)
    else:
        raise AssertionError("an unknown name was offered")
