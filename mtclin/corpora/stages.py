"""The DVC preprocessing stages, derived from the corpus declarations (``dvc.yaml`` holds no list of corpora).

``dvc.yaml`` has two ``foreach`` stage groups, each over a DVC ``vars`` file:

- ``preprocess@<corpus>`` for every built-in corpus, over ``builtin:`` in ``mtclin/corpora/stages.yaml``, which
  this module generates from the ``@register`` declarations (``python -m mtclin.corpora.stages``; a test fails
  when it is out of date). Each entry names the corpus's reader module and the one format helper it imports
  (``brat.py``, ``i2b2_xml.py``, ``i2b2_2010_annotations.py``, ``jsonl.py``, ``tsv.py``; the reader itself when it
  has none; a helper imports no other helper), so that changing a reader recomputes only its corpora.
- ``declared@<name>`` for every corpus of the project's ``corpora.yaml``, over its ``corpora:`` key, read by DVC
  directly: declaring a corpus is all it takes for ``dvc repro`` to preprocess it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import yaml

from mtclin.corpora.registry import builtin_corpora

PACKAGE = Path(__file__).resolve().parent
STAGES_FILE = PACKAGE / "stages.yaml"
REPO = PACKAGE.parents[1]
# modules every stage depends on (dvc.yaml lists them): not anyone's format helper
CORE = frozenset({"types", "problems", "registry", "files", "declared"})


def _helpers(module_file: Path) -> list[str]:
    """The corpora modules ``module_file`` imports, less the core ones."""
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "mtclin.corpora":
            found.update(alias.name for alias in node.names)  # from mtclin.corpora import tsv
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mtclin.corpora."):
            found.add(node.module.split(".")[2])
    return sorted(name for name in found if name not in CORE and (PACKAGE / f"{name}.py").is_file())


def stage_vars() -> dict[str, Any]:
    """``{"builtin": {corpus: {"reader": path, "helper": path}}}``, paths relative to the project root."""
    out: dict[str, dict[str, str]] = {}
    for info in builtin_corpora():
        module = sys.modules[info.read.__module__]
        reader = Path(module.__file__).resolve()
        helpers = _helpers(reader)
        if len(helpers) > 1:
            raise ValueError(f"{reader.name} imports several format helpers ({', '.join(helpers)}); its DVC stage "
                             "has one helper slot: share one helper module (or add a slot in dvc.yaml)")
        helper = PACKAGE / f"{helpers[0]}.py" if helpers else reader
        # the stage tracks the helper's file, not what it imports: a helper of a helper would change unseen
        if helpers and _helpers(helper):
            raise ValueError(f"{helper.name} (the format helper of {reader.name}) imports other corpora modules "
                             f"({', '.join(_helpers(helper))}) that its DVC stage would not track: merge them into it "
                             "or make them core (CORE here, and dvc.yaml)")
        out[info.name] = {"reader": reader.relative_to(REPO).as_posix(), "helper": helper.relative_to(REPO).as_posix()}
    return {"builtin": out}


def render() -> str:
    header = ("# Generated from the built-in corpus declarations by `python -m mtclin.corpora.stages`: do not edit.\n"
              "# dvc.yaml's `preprocess` stages iterate over it (vars); declared corpora come from corpora.yaml.\n")
    return header + yaml.safe_dump(stage_vars(), sort_keys=False, default_flow_style=None, width=120)


def main(argv: list[str] | None = None) -> int:
    """Write ``stages.yaml``; with ``--check``, only say whether it is up to date (exit 1 when not)."""
    argv = sys.argv[1:] if argv is None else argv
    current = STAGES_FILE.read_text(encoding="utf-8") if STAGES_FILE.is_file() else ""
    if "--check" in argv:
        if current != render():
            print(f"{STAGES_FILE} is out of date: run `python -m mtclin.corpora.stages`", file=sys.stderr)
            return 1
        return 0
    STAGES_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {STAGES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
