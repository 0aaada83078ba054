"""What the sample-corpus writers share: seeding and the PHI canary.

The canary is a unique string planted inside note texts and pair sentences of every sample corpus. Note text
must never leave the training boundary, so the canary must never appear in MLflow, Prefect, GX reports, logs or
DVC metrics (the PHI canary test searches for it).
"""

from __future__ import annotations

import random
import zlib

CANARY = "Zqvcanarywx"  # one word for the word tokenizer (letters only), so a logged word would be caught


def rng_for(corpus: str, seed: int) -> random.Random:
    """A generator seeded by (corpus, seed), so each corpus is deterministic and independent of the others."""
    return random.Random(zlib.crc32(corpus.encode()) * 1000003 + seed)
