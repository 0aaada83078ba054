from __future__ import annotations

import torch
from transformers import AutoModel, AutoTokenizer

from tests.tiny_bert import vocabulary


def test_tiny_bert_loads_back_with_auto_classes(tiny):
    tokenizer, model_dir = tiny
    loaded = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir)
    assert loaded.is_fast and loaded.pad_token_id == 0 and len(loaded) == len(vocabulary())
    assert model.config.hidden_size == 32 and model.config.num_hidden_layers == 2
    text = "Patient took 50mg acetaminophen for headaches!"
    assert loaded.tokenize(text) == tokenizer.tokenize(text) == [
        "patient", "took", "5", "##0", "##mg", "acetaminophen", "for", "headache", "##s", "!"]
    assert loaded.unk_token_id not in loaded(text)["input_ids"]
    enc = loaded([text, "fever"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc).last_hidden_state
    assert out.shape == (2, enc["input_ids"].shape[1], 32) and torch.isfinite(out).all()
