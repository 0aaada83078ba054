"""Sample QUAERO French Medical corpus: French drug-leaflet (EMEA) and title (MEDLINE) files in BRAT.

Writes ``QUAERO_FrenchMed/corpus/{train,dev,test}/{EMEA,MEDLINE}/*.txt,*.ann`` under ``root``; the gold splits
are the official folders. Each semantic group has its own lexicon and
contexts. Reproduced quirks of the real release: nested entities (DISO containing ANAT, CHEM inside CHEM), one
span with two types (``VIH``: DISO and LIVB), discontinuous entities (``hépatite ... B``), one listed with its
fragments last-first, EMEA sub-documents ``<n>_<k>.txt`` beginning with blank lines, tokenised text (``l ’``),
MEDLINE titles one per file, titles without entities (empty ``.ann``), and ``AnnotatorNotes`` lines with CUIs.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

from mtclin.corpora.brat import format_text_bound
from mtclin.corpora.samples.common import CANARY, rng_for
from mtclin.corpora.samples.n2c2_2018 import CLOSE, OPEN, entities_of, gold_document, render_markup
from mtclin.corpora.types import Document, Entity, Pair

NAME = "quaero-2014"
CORPUS = Path("QUAERO_FrenchMed") / "corpus"

# Per-group lexicons (inline markup nests the inner entities).
LEXICON: dict[str, list[str]] = {
    "ANAT": ["foie", "rein", "cœur", "pancréas", "poumon", "peau", "estomac", "moelle osseuse"],
    "CHEM": ["lamivudine", "paracétamol", "insuline", "zidovudine", "héparine", "ciclosporine",
             f"{OPEN}CHEM:comprimés{CLOSE} pelliculés"],
    "DISO": ["hépatite", "diabète", "hypertension", "nausées", "anémie", "éruption cutanée",
             f"cancer du {OPEN}ANAT:poumon{CLOSE}", f"inflammation du {OPEN}ANAT:pancréas{CLOSE}",
             f"maladie du {OPEN}ANAT:foie{CLOSE}", f"lésions de la {OPEN}ANAT:peau{CLOSE}"],
    "LIVB": ["patients", "enfants", "souris", "rats", "femmes", "nourrissons"],
    "PROC": ["traitement", "dialyse", "chirurgie", "analyse", f"biopsie du {OPEN}ANAT:foie{CLOSE}",
             f"greffe de {OPEN}ANAT:rein{CLOSE}"],
    "PHYS": ["grossesse", "allaitement", "croissance", f"fonction du {OPEN}ANAT:rein{CLOSE}"],
    "GEOG": ["France", "Europe", "Afrique", "Canada", "Québec"],
    "DEVI": ["seringue", "stylo injecteur", "cathéter", f"pompe à {OPEN}CHEM:insuline{CLOSE}"],
    "OBJC": ["véhicules", "machines", "lunettes", "vêtements"],
    "PHEN": ["rayonnement", "lumière du soleil", "température", "radiation"],
}
DRUG_NAMES = ["Lamivax", "Zorpreval", "Cardiolen", "Hepatrex", "Rinovix", "Dolzanor"]


def _t(rng: random.Random, label: str) -> str:
    return f"{OPEN}{label}:{rng.choice(LEXICON[label])}{CLOSE}"


def _emea_line(rng: random.Random, drug: str) -> str:
    t = lambda label: _t(rng, label)  # noqa: E731
    options = [
        lambda: f"Chaque {OPEN}CHEM:comprimé{CLOSE} contient {rng.choice([25, 100, 150])} mg de {t('CHEM')} .",
        lambda: f"{drug} est indiqué dans le {t('PROC')} de la {t('DISO')} chez les {t('LIVB')} .",
        lambda: f"Chez les {t('LIVB')} présentant une {t('DISO')} , la dose doit être réduite .",
        lambda: f"Ne pas utiliser pendant la {t('PHYS')} ou l ’ {t('PHYS')} .",
        lambda: f"Des cas de {t('DISO')} et de {t('DISO')} ont été rapportés .",
        lambda: f"Utiliser une {t('DEVI')} stérile pour chaque injection .",
        lambda: f"Ne pas conduire de {t('OBJC')} ni utiliser de {t('OBJC')} .",
        lambda: f"Éviter l ’ exposition à la {t('PHEN')} .",
        lambda: f"Une {t('PROC')} doit être réalisée avant l ’ administration de {drug} .",
        lambda: f"L ’ infection par le {OPEN}DISO+LIVB:VIH{CLOSE} reste fréquente en {t('GEOG')} .",
        lambda: (f"Les {t('LIVB')} atteints d ’ {OPEN}DISO~h:hépatite{CLOSE} chronique {OPEN}~h:B{CLOSE} "
                 "doivent être surveillés ."),
        lambda: (f"Des {OPEN}DISO~t!:troubles{CLOSE} anxieux {OPEN}~t:liés à la séparation{CLOSE} ont été "
                 "observés ."),
    ]
    return rng.choice(options)()


def _emea(rng: random.Random, drug: str, part: int) -> str:
    """Markup of one leaflet sub-document: 8-20 lines starting with a space; parts after the first begin with
    blank lines, as in the release (offsets count them)."""
    lines = [f"{OPEN}CHEM:{drug}{CLOSE} {rng.choice([25, 100, 150])} mg , {_t(rng, 'CHEM')}"] if part == 1 else []
    lines += [_emea_line(rng, drug) for _ in range(rng.randint(8, 19 - len(lines)))]
    if part == 1:
        lines.append(f"Titulaire de l ’ autorisation : Laboratoires {CANARY} , {OPEN}GEOG:France{CLOSE} .")
    head = "" if part == 1 else "\n\n"
    return head + "".join(f" {line} \n" for line in lines) + "\n\n"


def _medline(rng: random.Random, canary: bool) -> str:
    """Markup of one MEDLINE title (one line); some titles have no entity at all (empty .ann)."""
    t = lambda label: _t(rng, label)  # noqa: E731
    options = [
        lambda: f"{t('PROC')} de la {t('DISO')} chez les {t('LIVB')} .",
        lambda: f"{t('DISO')} et {t('DISO')} : étude de {rng.randint(3, 90)} cas en {t('GEOG')} .",
        lambda: f"Effets de la {t('CHEM')} sur la {t('PHYS')} chez les {t('LIVB')} .",
        lambda: f"Apport de la {t('PROC')} dans le diagnostic de la {t('DISO')} .",
        lambda: f"Intérêt du {t('DEVI')} dans la {t('PROC')} .",
        lambda: f"Rôle de la {t('PHEN')} dans la {t('DISO')} .",
        lambda: "À propos d ’ un cas .",
    ]
    if canary:
        return f"Hommage au professeur {CANARY} .\n"
    return rng.choice(options)() + "\n"


def _capitalised(text: str) -> str:
    # Titles start upper-case; same length, so the offsets stay valid.
    return text[:1].upper() + text[1:]


def _cui(entity: Entity, text: str) -> str:
    surface = " ".join(text[start:end] for start, end in entity.fragments).lower()
    return f"C{zlib.crc32(f'{entity.type}|{surface}'.encode()) % 10_000_000:07d}"


def _write(folder: Path, name: str, text: str, listed: list[Entity]) -> None:
    lines = []
    for entity in listed:
        note = f"#{entity.id[1:]}\tAnnotatorNotes {entity.id}\t{_cui(entity, text)}"
        lines += [format_text_bound(entity, text), note]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8", newline="")
    (folder / f"{name}.ann").write_text("".join(line + "\n" for line in lines), encoding="utf-8", newline="")


def write(root: Path, *, seed: int = 0, scale: float = 1.0) -> dict[str, list[Document | Pair]]:
    """Write the sample corpus under ``root`` (official layout) and return the gold per split."""
    rng = rng_for(NAME, seed)
    # official folder -> (leaflets, MEDLINE titles): train + dev ~ 30 documents, test ~ 10
    plan = {official: (max(1, round(leaflets * scale)), max(1, round(titles * scale)))
            for official, (leaflets, titles) in {"train": (3, 12), "dev": (1, 4), "test": (1, 6)}.items()}
    leaflets = iter(rng.sample(range(100, 10_000), sum(n for n, _ in plan.values())))
    pmids = iter(rng.sample(range(1_000_000, 30_000_000), sum(m for _, m in plan.values())))
    documents: dict[str, list[Document | Pair]] = {official: [] for official in plan}
    for official, (n_leaflets, n_titles) in plan.items():
        ours = official
        for _ in range(n_leaflets):
            number, drug = next(leaflets), rng.choice(DRUG_NAMES)
            for part in range(1, rng.randint(2, 4) + 1):
                folder = CORPUS / official / "EMEA"
                text, marked = render_markup(_emea(rng, drug, part))
                listed = entities_of(marked)
                _write(Path(root) / folder, f"{number}_{part}", text, listed)
                documents[ours].append(gold_document((folder / f"{number}_{part}").as_posix(), text, listed))
        for index in range(n_titles):
            folder, pmid = CORPUS / official / "MEDLINE", str(next(pmids))
            text, marked = render_markup(_medline(rng, canary=index == 1))
            text, listed = _capitalised(text), entities_of(marked)
            _write(Path(root) / folder, pmid, text, listed)
            documents[ours].append(gold_document((folder / pmid).as_posix(), text, listed))
    # the reader returns documents sorted by id
    return {split: sorted(docs, key=lambda d: d.id) for split, docs in documents.items()}
