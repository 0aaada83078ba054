from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from mtclin.data import IGNORE_INDEX
from mtclin.data.collate import LengthBucketSampler, collate_ner, collate_pairs
from mtclin.data.encode_ner import NerWindow
from mtclin.data.encode_pairs import PairExample


def window(n: int, labelled: bool = True) -> NerWindow:
    ids = np.arange(10, 10 + n, dtype=np.int64)
    return NerWindow(ids, np.arange(n) - 1, np.arange(n) if labelled else None, 0)


def test_ner_batch_pads_to_the_longest_window_only():
    batch = collate_ner([window(3), window(5), window(2)], pad_token_id=0)
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "labels"}
    assert all(t.shape == (3, 5) and t.dtype == torch.int64 for t in batch.values())
    assert batch["input_ids"][0].tolist() == [10, 11, 12, 0, 0]
    assert batch["labels"][2].tolist() == [0, 1, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]
    assert batch["attention_mask"].sum(1).tolist() == [3, 5, 2]
    assert batch["attention_mask"][0].tolist() == [1, 1, 1, 0, 0]
    assert batch["token_type_ids"].abs().sum() == 0


def test_ner_batch_without_labels_has_no_labels():
    batch = collate_ner([window(3, labelled=False), window(4, labelled=False)], pad_token_id=7)
    assert "labels" not in batch and batch["input_ids"][0, -1] == 7


def test_pair_batch_labels_and_token_types():
    pairs = [PairExample(np.array([1, 2, 3, 4]), np.array([0, 0, 1, 1]), 1, 0),
             PairExample(np.array([1, 5, 6]), np.array([0, 0, 1]), 0, 1)]
    batch = collate_pairs(pairs, pad_token_id=0)
    assert batch["input_ids"].shape == (2, 4) and batch["input_ids"][1].tolist() == [1, 5, 6, 0]
    assert batch["token_type_ids"][1].tolist() == [0, 0, 1, 0]
    assert batch["labels"].dtype == torch.int64 and batch["labels"].tolist() == [1, 0]
    scores = [PairExample(np.array([1, 2]), np.array([0, 1]), 2.5, 0)]
    assert collate_pairs(scores, 0)["labels"].dtype == torch.float32


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match="empty batch"):
        collate_ner([], 0)


LENGTHS = [5, 40, 12, 7, 33, 21, 9, 2, 18, 27, 14, 3, 36, 25, 11, 30, 6, 16, 38, 1, 22, 8, 29, 19, 35]


def test_sampler_is_deterministic_per_seed_and_epoch():
    a = LengthBucketSampler(LENGTHS, 4, seed=3, bucket_size_multiplier=2)
    b = LengthBucketSampler(LENGTHS, 4, seed=3, bucket_size_multiplier=2)
    assert a.batches(0) == b.batches(0) and a.batches(1) == b.batches(1)
    assert a.batches(0) != a.batches(1)
    assert a.batches(0) != LengthBucketSampler(LENGTHS, 4, seed=4, bucket_size_multiplier=2).batches(0)
    first, second = list(a), list(a)  # finishing an epoch moves to the next
    assert first == a.batches(0) and second == a.batches(1)
    a.set_epoch(5)
    assert list(a) == b.batches(5)


@pytest.mark.parametrize("shuffle,drop_last", [(True, False), (False, False), (True, True), (False, True)])
def test_every_index_once_per_epoch(shuffle, drop_last):
    sampler = LengthBucketSampler(LENGTHS, 4, shuffle=shuffle, bucket_size_multiplier=3, drop_last=drop_last)
    batches = list(sampler)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat)) and len(batches) == len(sampler)
    if drop_last:
        assert all(len(b) == 4 for b in batches) and len(flat) == 24
    else:
        assert sorted(flat) == list(range(len(LENGTHS)))
    if not shuffle:
        assert flat == sorted(flat)


def test_batches_are_homogeneous_in_length():
    # one bucket holds everything: batches are consecutive runs of the length-sorted indices
    sampler = LengthBucketSampler(LENGTHS, 5, seed=1, bucket_size_multiplier=len(LENGTHS))
    runs = sorted(sorted(LENGTHS[i] for i in b) for b in sampler.batches(0))
    ordered = sorted(LENGTHS)
    assert runs == [ordered[i:i + 5] for i in range(0, len(ordered), 5)]
    # and the padding they need is far below that of unsorted batches of the same size
    waste = lambda batches: sum(max(LENGTHS[i] for i in b) * len(b) - sum(LENGTHS[i] for i in b) for b in batches)
    unsorted = [list(range(i, i + 5)) for i in range(0, len(LENGTHS), 5)]
    assert waste(sampler.batches(0)) < waste(unsorted) / 3


def test_resume_from_state_gives_the_same_remaining_batches():
    sampler = LengthBucketSampler(LENGTHS, 3, seed=7, bucket_size_multiplier=2)
    sampler.set_epoch(2)
    it = iter(sampler)
    consumed = [next(it), next(it), next(it)]
    state = sampler.state_dict()
    assert state == {"epoch": 2, "position": 3, "seed": 7}
    rest = list(it)
    resumed = LengthBucketSampler(LENGTHS, 3, seed=7, bucket_size_multiplier=2)
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # the loop's usual call keeps the restored position
    assert list(resumed) == rest and consumed + rest == sampler.batches(2)
    assert resumed.state_dict() == {"epoch": 3, "position": 0, "seed": 7}


def test_resume_with_another_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        LengthBucketSampler(LENGTHS, 3, seed=1).load_state_dict({"epoch": 0, "position": 1, "seed": 2})


def test_sampler_drives_a_dataloader():
    windows = [window(n) for n in LENGTHS]
    loader = DataLoader(windows, batch_sampler=LengthBucketSampler(LENGTHS, 4, seed=0),
                        collate_fn=lambda b: collate_ner(b, 0))
    widths = [batch["input_ids"].shape[1] for batch in loader]
    assert len(widths) == 7 and sum(batch_w for batch_w in widths) < 7 * max(LENGTHS)
