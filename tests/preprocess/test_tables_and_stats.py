from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from mtclin.cli import main
from mtclin.corpora.registry import CORPORA
from mtclin.corpora.samples import TargetNotEmpty, write_samples
from mtclin.corpora.samples.common import CANARY
from mtclin.preprocess.run import preprocess_corpus
from mtclin.preprocess.tables import PreprocessConfig


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_samples(root, seed=1)
    return root


def test_ner_tables_map_back_to_the_document(sample_data: Path, tmp_path: Path):
    from mtclin.corpora.registry import read_corpus

    stats = preprocess_corpus("n2c2-2018", sample_data / "n2c2-2018", tmp_path, PreprocessConfig(max_words=40))
    corpus = read_corpus("n2c2-2018", sample_data / "n2c2-2018")
    docs = {d.id: d for d in corpus.splits["test"]}
    table = pl.read_parquet(tmp_path / "test.parquet")
    assert table.height == stats["splits"]["test"]["rows"] > len(docs)  # long notes were segmented
    for row in table.iter_rows(named=True):
        text = docs[row["doc_id"]].text
        assert len(row["words"]) <= 40 or any(t != "O" for t in row["tags"])
        assert [text[s:e] for s, e in zip(row["starts"], row["ends"])] == row["words"]
        assert len(row["tags"]) == len(row["words"])
    # every gold entity of every document is in exactly one segment
    for doc in docs.values():
        rows = table.filter(pl.col("doc_id") == doc.id)
        gold = [g for r in rows.iter_rows(named=True) for g in zip(r["gold_starts"], r["gold_ends"], r["gold_types"])]
        assert sorted(gold) == sorted({(e.start, e.end, e.type) for e in doc.entities})


def test_stats_hold_counts_and_no_note_text(sample_data: Path, tmp_path: Path):
    for corpus in CORPORA:
        out = tmp_path / corpus
        stats = preprocess_corpus(corpus, sample_data / corpus, out, PreprocessConfig())
        raw = (out / "stats.json").read_text()
        assert CANARY not in raw
        assert json.loads(raw) == stats
        for split in ("train", "dev", "test"):  # dev: official or carved out of train, never empty
            s = stats["splits"][split]
            assert s["rows"] > 0
            if stats["kind"] == "ner":
                dropped = sum(d["total"] for d in s["dropped_by_flattening"].values())
                assert s["entities_read"] == s["entities_kept"] + dropped
    quaero = json.loads((tmp_path / "quaero-2014" / "stats.json").read_text())["splits"]["train"]
    assert quaero["nested"] > 0 and quaero["discontinuous"] > 0
    assert quaero["dropped_by_flattening"]["nested"]["total"] > 0


def test_sample_corpora_never_overwrite(tmp_path: Path, capsys):
    (tmp_path / "medrqe").mkdir()
    (tmp_path / "medrqe" / "RQE_Train_8588_AMIA2016.xml").write_text("real data")
    with pytest.raises(TargetNotEmpty, match="medrqe"):
        write_samples(tmp_path)
    assert (tmp_path / "medrqe" / "RQE_Train_8588_AMIA2016.xml").read_text() == "real data"
    assert not (tmp_path / "mednli").exists()  # refused before writing anything
    assert main(["sample-corpora", str(tmp_path), "--skip-existing"]) == 0
    assert (tmp_path / "medrqe" / "RQE_Train_8588_AMIA2016.xml").read_text() == "real data"
    assert (tmp_path / "mednli").is_dir()
    assert main(["sample-corpora", str(tmp_path)]) == 2
    assert "never overwrite" in capsys.readouterr().err


def test_sample_corpora_are_deterministic(tmp_path: Path):
    write_samples(tmp_path / "a", seed=3)
    write_samples(tmp_path / "b", seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)


def test_inspect_json_reports_counts_and_problems(sample_data: Path, tmp_path: Path, capsys):
    from mtclin.corpora.registry import read_corpus

    assert main(["inspect", "quaero-2014", str(sample_data / "quaero-2014"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # every split the reader knows, the official dev included, each counted on its own
    assert set(report["splits"]) == {"train", "dev", "test"}
    corpus = read_corpus("quaero-2014", sample_data / "quaero-2014")
    assert {split: s["documents"] for split, s in report["splits"].items()} == {
        split: len(documents) for split, documents in corpus.splits.items()}
    assert report["splits"]["train"]["discontinuous"] > 0
    assert report["problems"]["count"] == 0
    # a broken annotation: strict names file and line; lenient counts it
    import shutil

    broken = tmp_path / "quaero"
    shutil.copytree(sample_data / "quaero-2014", broken)
    ann = sorted(broken.rglob("*.ann"))[0]
    assert ann.parent.parent.name == "dev"  # corpus/dev/ sorts first: found only because inspect reads dev too
    lines = ann.read_text().splitlines()
    t_line = next(i for i, line in enumerate(lines) if line.startswith("T"))
    fields = lines[t_line].split("\t")
    fields[1] = fields[1].split(" ")[0] + " 999999 1000000"
    lines[t_line] = "\t".join(fields)
    ann.write_text("\n".join(lines) + "\n")
    assert main(["inspect", "quaero-2014", str(broken), "--json"]) == 2
    err = capsys.readouterr().err
    assert ann.name in err and f"line {t_line + 1}" in err
    assert main(["inspect", "quaero-2014", str(broken), "--json", "--lenient"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"]["count"] == 1
    assert report["problems"]["items"][0]["file"].endswith(ann.name)
