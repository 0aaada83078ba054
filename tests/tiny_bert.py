"""A tiny BERT (2 layers, hidden 32) and its WordPiece tokenizer, built in the test with no download.

``make_tiny_bert(tmp_dir)`` writes both into ``tmp_dir/model`` with ``save_pretrained`` so
``AutoTokenizer.from_pretrained`` / ``AutoModel.from_pretrained`` load them like any checkpoint. The vocabulary
covers every lower-case letter, digit and ASCII punctuation mark (alone and as ``##`` continuation), so any
ASCII text tokenizes without [UNK], plus a few hundred common English / clinical words and suffix pieces so
that words split into several subwords in realistic ways ("headaches" -> "headache", "##s").
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

WORDS = """
the a an and or of to in on at for with without by from as is was are were be been has had have not no
this that these those it its he she his her they their patient patients pt mr mrs ms dr year years old
male female man woman history hx past medical family social presented presents admitted admission discharge
discharged home hospital day days week weeks month months today daily twice once night morning evening
pain chest abdominal back head headache fever cough nausea vomiting diarrhea rash fatigue weakness dizziness
shortness breath dyspnea edema swelling bleeding infection pneumonia sepsis diabetes hypertension cancer
tumor mass lesion fracture stroke asthma copd heart failure kidney renal liver lung lungs blood pressure
rate normal abnormal acute chronic mild moderate severe left right bilateral upper lower status post
denies reports complains noted found showed shows revealed negative positive exam examination physical
lab labs test tests scan ct mri x ray ultrasound ecg ekg echo biopsy surgery procedure therapy treatment
treated started stopped continued given received taking take took medication medications drug drugs dose
doses mg ml mcg kg units tablet tablets po iv im prn bid tid qid qd q hours hour minutes aspirin insulin
heparin metformin lisinopril morphine tylenol acetaminophen ibuprofen antibiotics antibiotic vancomycin
warfarin statin oxygen saline fluids allergies allergy nka nkda vital signs temperature pulse weight
alert oriented awake stable unstable improved worse worsening better resolved follow up clinic plan
assessment diagnosis diagnosed likely possible possibly rule out consistent evidence increased decreased
elevated low high new old prior previous recent since after before during while due because secondary
also but if then than there which who when where what how all any some each other more most less such
one two three four five six seven eight nine ten first second third last next per every very well
care team nurse doctor physician recommend recommended consult consulted mother father son daughter wife
husband smoking alcohol tobacco denied smoker quit pack cardiac pulmonary neuro gi gu skin eye eyes ear
nose throat neck arm arms leg legs hand hands foot feet knee hip shoulder spine bone bones joint joints
""".split()

PIECES = """
##s ##es ##ed ##ing ##ly ##er ##ers ##est ##al ##ic ##ia ##itis ##osis ##emia ##ectomy ##ation ##tion
##ity ##ous ##ive ##ment ##ness ##able ##ol ##in ##ine ##ide ##ate ##mg ##ml ##pril ##statin ##mycin
""".split()


def vocabulary() -> list[str]:
    """Specials first (so [PAD] is id 0), then characters, then words and pieces; no duplicates."""
    chars = list(string.ascii_lowercase) + list(string.digits) + list(string.punctuation)
    tokens = SPECIALS + chars + [f"##{c}" for c in chars] + WORDS + PIECES
    return list(dict.fromkeys(tokens))


def make_tiny_bert(tmp_dir: str | Path) -> tuple[Any, Path]:
    """Build and save the tiny tokenizer + randomly initialised BertModel; returns ``(tokenizer, model_dir)``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    model_dir = Path(tmp_dir) / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    vocab_file = Path(tmp_dir) / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True, model_max_length=128)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    torch.manual_seed(0)  # the same weights in every test run
    model = BertModel(config)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return tokenizer, model_dir
