"""Clinical vocabulary shared by the sample pair writers (mednli, medrqe, n2c2-2019).

Each finding belongs to one organ-system category; the pair writers build their labels and scores from that
mapping (same finding or its category = entailment/paraphrase, negation = contradiction, another category =
unrelated), so a model can learn the rule from the sentences alone.
"""

from __future__ import annotations

import random

from mtclin.corpora.samples.common import CANARY

# category -> (how a hypothesis names the whole category, findings of that category)
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cardiac": ("a heart problem", ("chest pain", "atrial fibrillation", "heart failure", "a heart murmur")),
    "respiratory": ("a lung problem", ("shortness of breath", "pneumonia", "a persistent cough", "wheezing")),
    "renal": ("a kidney problem", ("acute kidney injury", "elevated creatinine", "flank pain", "kidney stones")),
    "infectious": ("an infection", ("fever and chills", "a urinary tract infection", "cellulitis", "sepsis")),
    "neurologic": ("a neurologic problem", ("a seizure", "left sided weakness", "a severe headache", "confusion")),
    "digestive": ("a stomach problem", ("nausea and vomiting", "abdominal pain", "diarrhea", "a GI bleed")),
    "metabolic": ("a metabolic problem", ("high blood sugar", "low sodium", "low potassium", "an elevated TSH")),
}

# finding -> a rewording with the same meaning (paraphrase = entailment / STS 5)
SYNONYMS: dict[str, str] = {
    "chest pain": "pain in the chest", "atrial fibrillation": "an irregular heart rhythm",
    "heart failure": "a weak heart", "a heart murmur": "an abnormal heart sound",
    "shortness of breath": "trouble breathing", "pneumonia": "a lung infection",
    "a persistent cough": "a cough that will not go away", "wheezing": "noisy breathing",
    "acute kidney injury": "sudden kidney damage", "elevated creatinine": "a high creatinine",
    "flank pain": "pain in the side", "kidney stones": "stones in the kidney",
    "fever and chills": "a high temperature with chills", "a urinary tract infection": "a bladder infection",
    "cellulitis": "a skin infection", "sepsis": "a blood infection",
    "a seizure": "a convulsion", "left sided weakness": "weakness on the left side",
    "a severe headache": "a very bad headache", "confusion": "altered mental status",
    "nausea and vomiting": "feeling sick and throwing up", "abdominal pain": "belly pain",
    "diarrhea": "loose stools", "a GI bleed": "bleeding from the gut",
    "high blood sugar": "hyperglycemia", "low sodium": "hyponatremia", "low potassium": "hypokalemia",
    "an elevated TSH": "a high TSH",
}

DRUGS = ("aspirin", "metoprolol", "lisinopril", "furosemide", "heparin", "insulin", "ceftriaxone",
         "vancomycin", "levetiracetam", "omeprazole", "prednisone", "amlodipine", "albuterol", "warfarin")
FREQUENCIES = ("once daily", "twice daily", "every 6 hours", "at bedtime", "as needed", "every morning")
DOSES = ("5", "10", "20", "25", "40", "50", "100", "250", "500")
RELATIVES = ("mother", "father", "husband", "wife", "son", "daughter", "grandmother", "brother")


def findings() -> list[tuple[str, str]]:
    """All (finding, category) pairs in a fixed order."""
    return [(finding, category) for category, (_, items) in CATEGORIES.items() for finding in items]


def other_category(rng: random.Random, category: str) -> str:
    """A category different from ``category`` (for unrelated/neutral pairs)."""
    return rng.choice([name for name in CATEGORIES if name != category])


def with_canary(sentence: str) -> str:
    """The sentence with the PHI canary planted as a provider name, outside any labelled content."""
    return f"{sentence} Seen with Dr. {CANARY}."
