"""`mtclin deid` end to end on a tiny saved model whose PHI head tags every word: JSON lines in and out, ids
echoed, offsets exact, surrogates, and the error paths (no PHI task, output = input, a bad record), none of which
quotes note text or leaves a half-written output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mtclin.cli import main
from tests.phi_model import save_phi_model

CANARY = "Zqvcanarywx"
NOTES = [{"id": "n1", "text": f"seen by {CANARY} on 2067-05-03 ."}, {"text": "Lee , Lee and lee"}, {"text": ""}]


@pytest.fixture(scope="module")
def phi_model(tiny: tuple[Any, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_phi_model(tiny[1], tmp_path_factory.mktemp("phi") / "model")


def write_notes(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def deid(*args: str) -> int:
    return main(["deid", "--device", "cpu", *args])


def test_deid_writes_each_note_with_its_phi_replaced(phi_model: Path, tmp_path: Path, capsys) -> None:
    notes = write_notes(tmp_path / "notes.jsonl", NOTES)
    out = tmp_path / "out" / "deid.jsonl"
    assert deid("--model", str(phi_model), "--input", str(notes), "--output", str(out)) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [set(line) for line in lines] == [{"id", "text", "replaced"}, {"text", "replaced"}, {"text", "replaced"}]
    assert lines[0]["id"] == "n1"
    # every word its own [DATE]; the date's pieces are adjacent words: adjacent replacements, no space between
    assert lines[0]["text"] == "[DATE] [DATE] [DATE] [DATE] [DATE][DATE][DATE][DATE][DATE] [DATE]"
    assert lines[2] == {"text": "", "replaced": []}
    first = lines[0]["replaced"]
    assert [(r["start"], r["end"], r["output_start"], r["output_end"]) for r in first[:6]] == [
        (0, 4, 0, 6), (5, 7, 7, 13), (8, 19, 14, 20), (20, 22, 21, 27), (23, 27, 28, 34), (27, 28, 34, 40)]
    for note, line in zip(NOTES, lines):  # outside the replaced spans both texts agree, character for character
        pos = at = 0
        for r in line["replaced"]:
            assert note["text"][pos:r["start"]] == line["text"][at:r["output_start"]]
            assert line["text"][r["output_start"]:r["output_end"]] == r["replacement"] == "[DATE]"
            pos, at = r["end"], r["output_end"]
        assert note["text"][pos:] == line["text"][at:]
    assert CANARY not in out.read_text() and CANARY not in "".join(capsys.readouterr())
    assert [p.name for p in out.parent.iterdir()] == ["deid.jsonl"]  # no temporary file left beside it


def test_surrogates_number_each_distinct_string_per_note(phi_model: Path, tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "notes.jsonl", NOTES[1:2] * 2)
    out = tmp_path / "deid.jsonl"
    assert deid("--model", str(phi_model), "--input", str(notes), "--output", str(out), "--surrogates") == 0
    texts = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert texts == ["[DATE-1] [DATE-2] [DATE-1] [DATE-3] [DATE-1]"] * 2  # Lee = LEE = lee; numbering per note


def test_a_model_without_a_phi_task_is_refused(tiny: tuple[Any, Path], tmp_path: Path, capsys) -> None:
    model = save_phi_model(tiny[1], tmp_path / "no-phi", with_phi=False)
    notes = write_notes(tmp_path / "notes.jsonl", NOTES)
    out = tmp_path / "deid.jsonl"
    assert deid("--model", str(model), "--input", str(notes), "--output", str(out)) == 2
    err = capsys.readouterr().err
    assert "has no PHI task 'i2b2-2014'" in err and "--task" in err and "n2c2-2018" in err
    assert not out.exists()
    assert deid("--model", str(model), "--task", "medrqe", "--input", str(notes), "--output", str(out)) == 2
    assert "is nli, not NER" in capsys.readouterr().err


def test_the_input_is_never_overwritten(phi_model: Path, tmp_path: Path, capsys) -> None:
    notes = write_notes(tmp_path / "notes.jsonl", NOTES)
    before = notes.read_bytes()
    os.link(notes, tmp_path / "hardlink.jsonl")
    for output in (notes, tmp_path / "." / "notes.jsonl", tmp_path / "hardlink.jsonl"):
        assert deid("--model", str(phi_model), "--input", str(notes), "--output", str(output)) == 2
        assert "is the input file" in capsys.readouterr().err
    assert notes.read_bytes() == before


def test_a_bad_record_names_file_and_line_and_leaves_the_output_as_it_was(phi_model: Path, tmp_path: Path,
                                                                          capsys) -> None:
    out = tmp_path / "deid.jsonl"
    out.write_text("previous\n")
    for records, expected in (([NOTES[0], {"a": CANARY, "b": "x"}], "notes.jsonl:2: de-identification takes notes"),
                              ([NOTES[0], NOTES[1], {"note": CANARY}], "notes.jsonl:3: expected an object")):
        notes = write_notes(tmp_path / "notes.jsonl", records)
        assert deid("--model", str(phi_model), "--input", str(notes), "--output", str(out)) == 2
        err = capsys.readouterr().err
        assert expected in err and CANARY not in err
        assert out.read_text() == "previous\n" and sorted(p.name for p in tmp_path.iterdir()) == [
            "deid.jsonl", "notes.jsonl"]


def test_the_installed_command_reads_stdin_and_writes_stdout(phi_model: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mtclin.cli", "deid", "--model", str(phi_model), "--input", "-",
                           "--output", "-", "--device", "cpu"], input=json.dumps(NOTES[1]) + "\n",
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["text"] == "[DATE] [DATE] [DATE] [DATE] [DATE]"
