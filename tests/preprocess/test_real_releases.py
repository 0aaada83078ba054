"""The real public releases (../shared/corpora) read to the end and get their dev split; skipped elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mtclin.preprocess.run import preprocess_corpus
from mtclin.preprocess.tables import PreprocessConfig

MISMATCHED = ["QUAERO_FrenchMed/corpus/train/EMEA/118_2.ann", "QUAERO_FrenchMed/corpus/train/EMEA/118_3.ann"]


def inspect(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "mtclin.cli", "inspect", *args, "--json"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_inspect_reads_both_real_releases_to_the_end(shared_corpora: Path) -> None:
    medrqe = inspect("medrqe", str(shared_corpora / "medrqe"))
    assert medrqe["problems"]["count"] == 0
    assert {s: v["pairs_per_label"] for s, v in medrqe["splits"].items()} == {
        "train": {"false": 3933, "true": 4655}, "test": {"false": 173, "true": 129}}
    quaero = inspect("quaero-2014", str(shared_corpora / "quaero"), "--lenient")
    assert {s: (v["documents"], v["entities_read"]) for s, v in quaero["splits"].items()} == {
        "train": (1688, 10926), "dev": (0, 0), "test": (848, 5305)}
    # the only problems are the release's two EMEA files whose offsets are one character off
    assert sorted({p["file"] for p in quaero["problems"]["items"]}) == MISMATCHED


def test_real_releases_get_a_seeded_dev_split(shared_corpora: Path, tmp_path: Path) -> None:
    config = PreprocessConfig()
    medrqe = preprocess_corpus("medrqe", shared_corpora / "medrqe", tmp_path / "medrqe", config)
    assert {s: v["pairs_per_label"] for s, v in medrqe["splits"].items()} == {
        "train": {"false": 3540, "true": 4189}, "dev": {"false": 393, "true": 466},
        "test": {"false": 173, "true": 129}}
    quaero = preprocess_corpus("quaero-2014", shared_corpora / "quaero", tmp_path / "quaero", config, lenient=True)
    assert {s: v["documents"] for s, v in quaero["splits"].items()} == {"train": 1519, "dev": 169, "test": 848}
    assert quaero["dev_split"] == {"source": "carved from train", "fraction": 0.1, "seed": 0, "unit": "documents"}
