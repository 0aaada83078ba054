"""Preprocess one corpus: read the raw release, write the split tables and the stats (a DVC stage's command).

Outputs are written to a temporary name and renamed into place, so an interrupted run never leaves a partial
table that looks complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mtclin.corpora.registry import read_corpus
from mtclin.preprocess.dev_split import with_dev
from mtclin.preprocess.links import crossing_relations
from mtclin.preprocess.stats import corpus_stats
from mtclin.preprocess.tables import PreprocessConfig, split_table


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def preprocess_corpus(name: str, raw_dir: Path, out_dir: Path, config: PreprocessConfig, lenient: bool = False
                      ) -> dict[str, Any]:
    """Read ``raw_dir`` with corpus ``name``'s reader; write ``out_dir/{train,dev,test}.parquet`` (dev: the
    official one, or carved out of train) and ``out_dir/stats.json`` (with the corpus's ``labels``, which
    :func:`mtclin.tasks.task_for_corpus` reads for a corpus declared without labels); return the stats."""
    corpus, dev_source = with_dev(read_corpus(name, Path(raw_dir), lenient=lenient), config.dev_fraction,
                                  config.dev_seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # labels: what the task's head predicts, fixed here for a declared corpus that takes them from train
    stats = corpus_stats(corpus) | {"dev_split": dev_source, "labels": list(corpus.labels)}
    for split in corpus.splits:
        table = split_table(corpus, split, config)
        tmp = out_dir / f".{split}.parquet.tmp{os.getpid()}"
        table.write_parquet(tmp)
        os.replace(tmp, out_dir / f"{split}.parquet")
        stats["splits"][split]["rows"] = table.height
        if "relations" in stats["splits"][split]:  # what segmentation cut (preprocess.links), at which limit
            stats["splits"][split]["relations"]["crossing_segments"] = \
                crossing_relations(table.select("doc_id", "segment", "gold_ids", "rel_arg1", "rel_arg2")
                                   .to_dicts())["crossing_segments"]
            stats["splits"][split]["relations"]["kept_together_within_chars"] = config.relation_chars
    _atomic_write_bytes(out_dir / "stats.json", (json.dumps(stats, indent=2, sort_keys=True) + "\n").encode())
    return stats
