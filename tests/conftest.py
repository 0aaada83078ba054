from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture
def shared_corpora() -> Path:
    """The real public corpus files (MedRQE train, quaero train) beside the checkout; skip where absent."""
    if not SHARED_CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_CORPORA} (only present in the developers' workplace)")
    return SHARED_CORPORA
