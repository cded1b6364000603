"""Convert the Zaragoza construction FAQ (JSONL) into an English gold set and a plain-text document.

The FAQ (``../shared/corpus/zaragoza-construction-faq.en.jsonl``: 503 English question/answer
pairs on Swedish building regulations, fields ``id``, ``category``, ``q``, ``a``, ``sources``) is
not copied into the project. This script makes, at run time:

* with ``--doc-out DIR``: ``DIR/zaragoza-construction-faq.en.txt``, every answer ``a`` as its own
  paragraph (blank line between), in file order, UTF-8, without the questions, so retrieval must
  match a question to its answer (as in ``bench/bench_index.py``);
* ``bench/gold/zaragoza.en.jsonl`` (``--out``), the gold set in the format of
  ``bench/gold/README.md``: one answerable item per FAQ pair, then the hand-written unanswerable
  questions of :data:`UNANSWERABLE` (ids ``zar-off-NN``, kind ``offtopic``).

Answerable items: ``id`` = the FAQ id, ``question`` = ``q``, ``reference`` = the first sentence of
``a`` (joined with the second when the first has fewer than 4 words, e.g. "Yes."), ``doc`` = the
.txt name, ``page`` = null, ``evidence`` = the longest prefix of ``a`` of at most 100 characters
that ends at a word boundary, ``answerable`` = true, ``kind`` from the question's form:

* ``yesno``: starts with Is/Are/Can/Could/Do/Does/Did/Must/Should/May/Will/Would/Has/Have/Shall;
* ``procedure``: "How do/to/can/should ...";
* ``explanation``: "Why ...", "How does ... work", "What is/are ..." asking for a definition
  (not when the question asks for a quantity or a list: limit, maximum, minimum, cost, price, fee,
  penalty, amount, rate, deadline, requirement(s), signs, time, period, size, distance, or
  "What is included/required ...");
* ``fact``: everything else.

Key facts (at most 3 per item; each a list of accepted surface forms, the first verbatim in the
answer) are derived deterministically from ``a``, from the sentences that do not mention Zaragoza
(the firm's own offer never answers the question). Candidates:

1. references to laws, ordinances and standards: "PBL 9 kap. 27 §", "Jordabalken 4 kap.",
   "KTjL 20 §", "ABS 18 clause 5.3", "AB 04 kap. 5 § 22", "AFS 1999:3", "BBR ch. 6", "BBR 6:23",
   "ISO 9001", "SFS 2010:900"; alternatives such as "9 kap. 27 §", "chapter 9, section 27",
   "ABS18", "clause 5.3", "BBR chapter 6", "2010:900";
2. figures: a number or range (digits, or a spelled number up to twenty before a time or length
   unit) with its unit ("10 weeks", "25,000-50,000 SEK", "4.5 m", "30%", "150×150 mm", "63 A"), a
   hyphenated word ("10-year", "3-phase"), an acronym before it ("COP 4–5") or the following word
   when not a stop word ("4 facades", "9 steps"); a bare range ("8-12"); a number after box/class/
   zone/clause ("box 35"); a scale ("1:400"); a bare year (19xx/20xx). Numbers with a leading zero
   (phone numbers, clock times) are skipped. Alternatives: the other dash or "to" between bounds,
   digit groups "25,000"/"25 000"/"25000", unit spellings (SEK/kr/kronor, %/percent, m²/m2/square
   metres, metres/meters, dB(A)/dBA, SEK/m²/SEK per m², year/years), the spelled number
   ("ten weeks", "10 years" for "ten years");
3. Swedish terms and acronyms: upper-case acronyms and codes (BBR, KA, ÄTA, ID06, EI60, BAS-P;
   "ROT-eligible" counts as ROT; units, "AB" and common English abbreviations excluded), words with
   å/ä/ö, names ending like Swedish authorities and laws (-verket, -lagen, -balken,
   -myndigheten...), and the words of :data:`SWEDISH_TERMS` (bygglov, startbesked, friggebod...);
   adjacent Swedish words make one term ("Omvänd skattskyldighet", "Allmänna bestämmelser för
   småhusentreprenad", "Plåt & Ventföretagen"); places, brands and the firm (:data:`NOT_TERMS`)
   never count. Alternatives are the other names the FAQ gives in parentheses (glossary built from
   every question and answer: "bygglov (building permit)", "delay penalty (dröjsmålsbot)",
   "KA (kontrollansvarig)").

A candidate with any surface form in the question is dropped (it does not answer it), as is a
repeat of a kept one and an acronym inside a candidate reference ("PBL" beside "PBL 10 kap. 9 §").
Scores: base 3 for a reference or a figure with a known unit, 2 for another figure or a term, 0
for a bare year (+5 when the question asks which year or since when); +4 when the question asks
for that type (how long/often/when/valid/lifespan -> durations; cost/price/fee/how much/deduction
-> money and percentages; how large/high/deep/far/size -> sizes; energy, flow, noise, temperature,
electricity words -> those units; how many -> counts; law/act/section/rules/requirements ->
references; who/which authority/certificate/standard -> terms); +1 for a term or a reference in a
"What is/are" definition question; +2 in the first sentence, +1 in the second (a leading "Yes." or
"No." counts with the sentence after it); +1 when a term or reference also occurs in the item's
``sources`` (the FAQ's own citations); -1 inside parentheses. Kept: the candidates scoring at least
4 (or, when none does, at least 3); of those the 3 best within 4 points of the best.

Items with no kept candidate get as key facts the 1-2 rarest content words (at least 5 letters,
not stop words, not sharing their first 5 letters with a question word, plural "s" dropped) of the
reference sentence (of the whole answer when the reference has none), rarity being the number of
FAQ answers containing the word; the second word only when it occurs in at most 20 answers. Every
answerable item therefore has at least one key fact.

The script checks what it writes: every key fact's first form matches its answer under the
README rule (case/accent-insensitive, 4 characters or fewer as a whole word), every evidence
occurs in exactly one paragraph of the document; problems are logged and the exit status is 1.

Run: ``python bench/gold/zaragoza_to_gold.py --doc-out /tmp/zaragoza-docs`` (stdlib only), then
``python -m oracle eval --gold bench/gold/zaragoza.en.jsonl --docs /tmp/zaragoza-docs``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FAQ = Path(__file__).resolve().parents[3] / "shared/corpus/zaragoza-construction-faq.en.jsonl"
DEFAULT_OUT = REPO / "bench/gold/zaragoza.en.jsonl"
DOC_NAME = "zaragoza-construction-faq.en.txt"
NOT_FOUND = "I could not find this information in the documents."
MAX_FACTS = 3
EVIDENCE_CHARS = 100

log = logging.getLogger("zaragoza_to_gold")

#: Questions the FAQ does not answer (checked by grepping it), the last three wholly off-topic.
UNANSWERABLE = [
    "What is the minimum ceiling height for a bedroom in a converted basement?",
    "Do I need a building permit to mount a small wind turbine on my villa's roof?",
    "How many parking spaces must a new apartment building in Helsingborg provide?",
    "What does it cost to install a home elevator in a two-storey villa?",
    "What gradient may a wheelchair ramp at the front entrance have?",
    "Do I need permission to put up a satellite dish on the balcony of a tenant-owner apartment?",
    "How thick must the substrate layer of a sedum green roof be?",
    "What lightning protection is required for a thatched roof?",
    "How much does it cost to rent a mobile crane per day for a roof replacement?",
    "Can I fly a drone over my neighbour's property to inspect my roof?",
    "Is a sprinkler system required in a newly built single-family house?",
    "How should rainwater gutters be dimensioned for a 200 m² roof?",
    "How deep must frost insulation be laid around a slab foundation?",
    "What are the rules for installing a septic tank at a holiday home without municipal sewage?",
    "What is the minimum hourly wage for construction apprentices under the collective agreement?",
    "What is the scholarship amount for teachers?",
    "Who won the 2018 FIFA World Cup?",
    "How do I bake Swedish cinnamon buns?",
]

#: Swedish words the FAQ uses without å/ä/ö or an authority/law suffix (case-insensitive; longer
#: compounds of the words of 6+ letters count too). Adjacent Swedish words make one term.
SWEDISH_TERMS = {
    "altan", "arbeten", "attefall", "attefallshus", "byggentreprenad", "bygglov", "byggregler",
    "byggsanktionsavgift", "detaljplan", "eternit", "f-skatt", "a-skatt", "fa-skatt", "f-tax",
    "friggebod", "garantibesiktning", "heta", "kc-bruk", "kontrollansvarig", "marklov", "momsen",
    "nybyggnadskarta", "obligatorisk", "ombyggnad", "personalliggare", "plank", "projektering",
    "redovisar", "rivningslov", "servitut", "skattskyldighet", "skyddsrond", "slutbesiktning",
    "slutbesked", "staket", "stambyte", "startbesked", "statusbesiktning", "strandskydd",
    "svensk", "tekniskt", "varsamhet", "vatten", "ventilationskontroll",
}

#: Short Swedish words allowed inside a multi-word term.
SWEDISH_GLUE = {"for", "och", "om", "av", "pa", "med", "i", "till"}

#: Suffixes of Swedish authorities, laws and organisations (Boverket, Jordabalken...).
SWEDISH_SUFFIXES = (
    "verket", "lagen", "balken", "myndigheten", "styrelsen", "foretagen", "foreningen",
    "namnden", "fogden", "kassan", "materiet", "forvaltningen", "branschen",
)

#: Names that look Swedish but are places, brands or the firm itself: never a key fact.
NOT_TERMS = {
    "helsingborg", "helsingborgs", "skane", "malmo", "lund", "zaragoza", "weber", "ifo", "schonox",
    "stockholm", "stockholms", "sverige", "kiilto", "isola", "tyvek",
}

#: Capitalised tokens that are units, company forms or common English abbreviations.
NOT_ACRONYMS = {
    "SEK", "MSEK", "AB", "AND", "DIY", "EU", "GPS", "ID", "IKEA", "IT", "PDF", "SMS", "TV", "WC",
    "ABB", "OR", "NOT", "FAQ", "A1", "B2B", "EV", "P3", "S3", "OGC",
}

STOPWORDS = set(
    """a about above after again against all also always an and any are around as at be because
    been before being below between both but by can cannot could did do does doing down during
    each either else even ever every few for from further get gets got had has have having he her
    here hers how however i if in into is it its itself just least less like made make many may
    me might more most much must my neither never no nor not now of off often on once one only or
    other otherwise our out over own per same shall she should since so some such than that the
    their them then there these they this those through thus to too under until up upon us usually
    very was we were what when where whether which while who whom whose why will with within
    without would yes you your normally generally typically often approx approximately max min
    maximum minimum about around roughly some several various usually also e.g i.e etc unless
    although though means mean meaning applies apply applied used using need needs needed include
    includes including included given gives give make makes take takes taken well still already
    instead rather something anything everything nothing someone anyone everyone thing things case
    cases certain different specific whole example mainly mostly sometimes depending depends
    based there here where which require requires required vs""".split()
)

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
WORDS_FOR_NUMBER = {value: word for word, value in NUMBER_WORDS.items()}

YESNO_STARTS = {
    "is", "are", "can", "could", "do", "does", "did", "must", "should", "may", "will", "would",
    "has", "have", "shall", "am", "was", "were",
}
QUANTITY_WORDS = re.compile(
    r"\b(limit|maximum|minimum|max|cost|costs|price|fee|fees|penalty|amount|rate|deadline|"
    r"requirements?|signs|time|period|size|distance)\b|^what (is|are) (included|required|needed)",
    re.I,
)

# --- units -----------------------------------------------------------------------------------
#: unit pattern -> (type, alternatives). Longest first; matched right after the number.
UNITS: list[tuple[str, str, list[str]]] = [
    (r"SEK/m²/year", "money", ["kr/m²/year", "SEK/m2/year"]),
    (r"SEK/person/year", "money", ["SEK per person per year"]),
    (r"SEK/linear metre", "money", ["SEK per linear metre"]),
    (r"SEK/m²", "money", ["SEK/m2", "kr/m²", "SEK per m²"]),
    (r"SEK/m2", "money", ["SEK/m²", "kr/m2", "SEK per m2"]),
    (r"SEK/year", "money", ["SEK per year", "kr/year"]),
    (r"SEK/h", "money", ["SEK per hour", "kr/h"]),
    (r"MSEK", "money", ["million SEK", "million kronor"]),
    (r"SEK", "money", ["kr", "kronor"]),
    (r"kronor", "money", ["SEK", "kr"]),
    (r"kr", "money", ["SEK", "kronor"]),
    (r"öre", "money", []),
    (r"%", "percent", [" %", " percent", " per cent"]),
    (r"‰", "percent", [" ‰", " per mille"]),
    (r"kWh/m²/year", "energy", ["kWh/m2/year", "kWh per m² per year"]),
    (r"kWh/m²", "energy", ["kWh/m2"]),
    (r"W/m²K", "energy", ["W/m2K"]),
    (r"W/m2K", "energy", ["W/m²K"]),
    (r"kWh", "energy", []),
    (r"kW", "energy", []),
    (r"m3/h", "size", ["m³/h"]),
    (r"m²", "size", ["m2", " square metres", " square meters", " sqm"]),
    (r"m2", "size", ["m²", " square metres", " square meters", " sqm"]),
    (r"sqm", "size", ["m²", "m2", " square metres"]),
    (r"m³", "size", ["m3", " cubic metres"]),
    (r"m3", "size", ["m³", " cubic metres"]),
    (r"mm/m", "size", ["mm per metre"]),
    (r"mm²", "size", ["mm2"]),
    (r"mm", "size", [" millimetres", " millimeters"]),
    (r"cm", "size", [" centimetres", " centimeters"]),
    (r"km", "size", [" kilometres", " kilometers"]),
    (r"metres", "size", ["meters", "m"]),
    (r"metre", "size", ["meter", "m"]),
    (r"meters", "size", ["metres", "m"]),
    (r"meter", "size", ["metre", "m"]),
    (r"m", "size", [" metres", " meters"]),
    (r"l/s/person", "flow", ["l/s per person"]),
    (r"l/s", "flow", [" litres per second", " liters per second"]),
    (r"l/person", "flow", ["litres per person"]),
    (r"litres", "flow", ["liters", "l"]),
    (r"dB\(A\)", "sound", ["dBA", "dB"]),
    (r"dBA", "sound", ["dB(A)", "dB"]),
    (r"dB", "sound", []),
    (r"Bq/m3", "radon", ["Bq/m³"]),
    (r"°C", "temperature", [" °C", " degrees"]),
    (r"°", "angle", [" degrees"]),
    (r"mA", "electric", [" milliamperes"]),
    (r"A", "electric", [" amperes", " amps"]),
    (r"V", "electric", [" volts"]),
    (r"hectares?", "size", []),
    (r"minutes?", "time", []),
    (r"hours?", "time", []),
    (r"working days?", "time", ["business days"]),
    (r"days?", "time", []),
    (r"weeks?", "time", []),
    (r"months?", "time", []),
    (r"years?", "time", []),
    (r"decades?", "time", []),
    (r"price base amounts?", "money", ["prisbasbelopp"]),
    (r"base amounts?", "money", ["prisbasbelopp"]),
]
UNIT_RE = re.compile(
    r"\s?(?:" + "|".join(f"(?P<u{i}>{pat})" for i, (pat, _, _) in enumerate(UNITS)) + r")(?![\w²³])"
)
TIME_UNITS = {"minute", "hour", "day", "week", "month", "year", "decade"}

NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
NUM_RANGE = re.compile(
    rf"(?<![\w.,:/§-])(?P<range>(?:{NUM})(?:/\d+)?(?:\s?(?:[-–×]|to)\s?(?:{NUM}))?)(?![\d:/])"
)
SPELLED = re.compile(
    r"\b(?P<word>" + "|".join(NUMBER_WORDS) + r")[ -](?P<unit>(?:minute|hour|day|week|month|year|"
    r"decade|metre|meter)s?|price base amounts?)\b",
    re.I,
)
SCALE = re.compile(r"(?<![\w:])1:\d{2,4}(?![\d:])")

# --- references --------------------------------------------------------------------------------
LAW = (
    r"(?:PBL|PBF|ML|KTjL|AML(?:\s*\([^)]*\))?|AB\s?04|ABT\s?06|ABS\s?18|"
    r"(?:the\s+)?(?:Work\s+)?Environment\s+Act|Lag\s+om\s+\w+|"
    r"[A-ZÅÄÖ][a-zåäö]+(?:lagen|balken))"
)
#: Series of numbered regulations ("AFS 1999:3", "SFS 2010:900", "Lag 2014:227").
CODE_SERIES = r"(?:AFS|SFS|BFS|FoHMFS|MSBFS|NFS|Lag|Ordinance|Act|Elsäkerhetslagen|ELSÄK-FS)"
KAP = r"\d+(?:\s?[–-]\s?\d+)?\s?kap\.?"
SECT = r"\d+\s?[a-z]?(?:\s?[–-]\s?\d*\s?[a-z]?)?(?:\s+and\s+\d+)?\s?§§?"
REF_PATTERNS = [
    re.compile(r"\b(?:AB\s?04|ABT\s?06|ABS\s?18)\s+(?:chapter|kap\.)\s*\d+(?:\s*§\s*\d+)?"),
    re.compile(rf"\b{LAW}\s+{KAP}(?:\s+{SECT}(?:\s\d+\b(?!\s?[a-zA-Z%²]))?)?"),
    re.compile(r"\b(?:AB\s?04|ABT\s?06|ABS\s?18)(?:\s+(?:clause|p\.)\s*\d+(?:\.\d+)?|\s*§\s*\d+)?(?![\w/])"),
    re.compile(rf"(?<![\w.]){KAP}\s+{SECT}(?:\s+\d+\s?[a-z]\s+ML\b)?"),
    re.compile(rf"\b{LAW}\s+{SECT}(?:\s?\d+\s?st\.)?"),
    re.compile(rf"\b{CODE_SERIES}\s+\d{{4}}:\d+(?:\s*§\s*\d+)?"),
    re.compile(r"\bBBR(?:\s+(?:ch\.|chapter|section))?\s+\d+(?::\d+)?(?![\d:])"),
    re.compile(r"\b(?:ISO|SS|EN|OHSAS/ISO)\s+\d{3,5}(?:-\d+)?"),
    re.compile(r"(?<![\w:])(?:19|20)\d\d:\d+\b"),
    re.compile(rf"\b{LAW}\s+\d+(?::\d+)?\b(?!\s?(?:kap|§|clause|chapter))"),
    re.compile(r"(?<![\w.§])\d+\s?[a-z]?\s?§§?"),
]

ACRONYM = re.compile(
    r"(?<![\w-])[A-ZÅÄÖ][A-ZÅÄÖ0-9]*[A-ZÅÄÖ0-9]"  # two or more capitals/digits: KA, ID06
    r"(?:-[A-ZÅÄÖ]{1,3}(?![a-zåäö]))?"  # BAS-P, ELSÄK-FS
    r"(?P<suffix>-[a-zåäö]+)?(?![\w])"  # ROT-eligible, FA-skatt
)
WORD = re.compile(r"[A-Za-zÅÄÖåäöÉé][\wÅÄÖåäöÉé'’-]*")

CUES = {
    "time": re.compile(r"\b(how long|how often|when|within|deadline|period|how soon|lifespan|last|valid|"
                       r"expire|how old|time|timeline|years?|months?|weeks?|days?)\b", re.I),
    "money": re.compile(r"\b(cost|costs|costing|price|prices|fee|fees|how much|expensive|pay|paid|charge|"
                        r"afford|budget|cheap|sek|amount|fine|sanction|deduction|cap|ceiling|maximum|max|"
                        r"subsidy|discount|raise|value|penalty|compensation)\b", re.I),
    "percent": re.compile(r"\b(how much|percent|percentage|deduction|rate|share|reduction|vat|margin|subsidy|"
                          r"cap|ceiling|discount|more than|penalty|efficien\w*|save|saving)\b|%", re.I),
    "size": re.compile(r"\b(how (large|big|high|tall|deep|thick|far|wide|close|near|long a)|size|height|"
                       r"distance|area|thickness|depth|width|square|m²|large|big|flow|slope|fall)\b", re.I),
    "energy": re.compile(r"\b(energy|kwh|u-value|insulation|efficien\w*|power|heat)\b", re.I),
    "flow": re.compile(r"\b(flow|ventilation|fan|water heater|litres?)\b", re.I),
    "sound": re.compile(r"\b(noise|sound|db|limit)\b", re.I),
    "radon": re.compile(r"\b(radon|limit)\b", re.I),
    "temperature": re.compile(r"\b(temperature|degrees?|hot|warm)\b", re.I),
    "electric": re.compile(r"\b(fuse|current|electric\w*|rcd|phase|socket)\b", re.I),
    "angle": re.compile(r"\b(pitch|angle|slope)\b", re.I),
    "ref": re.compile(r"\b(law|laws|act|section|chapter|regulat\w*|rules?|legal|legally|under what|governed|"
                      r"statute|statutory|requirements?|obliged)\b", re.I),
    "term": re.compile(r"^(who|which)\b|\b(what|which) (authority|agency|organisation|organization|body|"
                       r"certificate|certification|standard|contract|insurance)\b", re.I),
    "count": re.compile(r"\b(how many|number)\b", re.I),
    "year": re.compile(r"\b(since when|what year|which year|from when|when (was|were|did)|introduced)\b",
                       re.I),
}
BASE = {"ref": 3.0, "term": 2.0, "generic": 2.0, "range": 2.0, "year": 0.0, "scale": 2.0}
#: Words before a bare number that make it a fact ("box 35", "zones 0-3").
PRE_WORDS = re.compile(r"\b(box|boxes|class|zones?|clause|point|grade|level)\s$", re.I)
MIN_SCORE = 4.0


@dataclass
class Candidate:
    """One possible key fact: its position in the answer, type and accepted surface forms."""

    start: int
    kind: str
    forms: list[str]
    score: float = 0.0


def fold(text: str) -> str:
    """Lower-case, accent-free, whitespace-collapsed form used for every comparison."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"\s+", " ", text).strip()


def contains_fact(text: str, form: str) -> bool:
    """README rule: case/accent-insensitive; a form of 4 characters or fewer matches a whole word."""
    t, f = fold(text), fold(form)
    if not f:
        return False
    if len(f) <= 4:
        return re.search(rf"(?<!\w){re.escape(f)}(?!\w)", t) is not None
    return f in t


def load_faq(path: Path) -> list[dict]:
    """Read the FAQ JSONL (one object per non-blank line)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def document_text(rows: list[dict]) -> str:
    """The answers as paragraphs separated by a blank line, in file order (no questions)."""
    return "\n\n".join(" ".join(r["a"].split()) for r in rows) + "\n"


def write_document(rows: list[dict], out_dir: Path) -> Path:
    """Write ``out_dir/zaragoza-construction-faq.en.txt`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / DOC_NAME
    path.write_text(document_text(rows), encoding="utf-8")
    return path


_NO_SPLIT_AFTER = re.compile(r"(?:\b(?:approx|e\.g|i\.e|ch|vs|no|incl|min|max|p|st|Nr|nr)\.|\b[A-Z]\.)$")


def split_sentences(text: str) -> list[tuple[int, str]]:
    """Split an answer into sentences as ``(start offset, sentence)``.

    A sentence ends at ``.``, ``!`` or ``?`` followed by white space and an upper-case letter, a
    digit or a quote, except after abbreviations such as "approx.", "e.g." or "ch.", and "kap."
    before a section number.
    """
    sentences, start = [], 0
    for m in re.finditer(r"[.!?]\s+(?=[A-ZÅÄÖ0-9\"'(])", text):
        if _NO_SPLIT_AFTER.search(text[start : m.start() + 1]):
            continue
        if text[m.end()].isdigit() and text[: m.start() + 1].endswith(("kap.", "ch.")):
            continue  # "PBL 10 kap. 9 §"
        sentences.append((start, text[start : m.start() + 1]))
        start = m.end()
    if text[start:].strip():
        sentences.append((start, text[start:].rstrip()))
    return sentences


def reference_sentence(answer: str) -> str:
    """First sentence of the answer; joined with the second when shorter than 4 words ("Yes.")."""
    sentences = split_sentences(" ".join(answer.split()))
    ref = sentences[0][1]
    if len(ref.split()) < 4 and len(sentences) > 1:
        ref = f"{ref} {sentences[1][1]}"
    return ref


def evidence_prefix(answer: str, limit: int = EVIDENCE_CHARS) -> str:
    """Longest prefix of the answer of at most ``limit`` characters ending at a word boundary."""
    text = " ".join(answer.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else text[:limit]
    return cut.rstrip(" ,;:(-–")


def question_kind(question: str) -> str:
    """``yesno``, ``procedure``, ``explanation`` or ``fact`` from the question's form."""
    q = question.strip()
    first = q.split()[0].lower() if q else ""
    if first in YESNO_STARTS:
        return "yesno"
    if re.match(r"how (do|to|can|should)\b", q, re.I):
        return "procedure"
    if re.match(r"why\b", q, re.I) or re.match(r"how does\b.*\bwork\b", q, re.I):
        return "explanation"
    if re.match(r"what (is|are)\b", q, re.I) and not QUANTITY_WORDS.search(q):
        return "explanation"
    return "fact"


# --- surface variants ------------------------------------------------------------------------------


def digit_variants(number: str) -> list[str]:
    """``25,000`` -> ``25,000``, ``25 000``, ``25000`` (the number as written comes first)."""
    if not re.search(r"\d,\d{3}", number):
        return [number]
    return [number, number.replace(",", " "), number.replace(",", "")]


def range_variants(text: str) -> list[str]:
    """A number or range as written, then: the other dash or "to" between the bounds ("4-6" ->
    "4–6", "4 to 6"; "150×150" -> "150x150"), then the digit-group variants of :func:`digit_variants`."""
    parts = re.split(r"(\s?(?:[-–×]|to)\s?)", text, maxsplit=1)
    if len(parts) == 1:
        return digit_variants(text)
    low, sep, high = parts
    seps = [sep]
    if sep.strip() in "-–":
        seps += ["–" if "-" in sep else "-", " to "]
    elif sep.strip() == "×":
        seps += ["x", " × ", " x "]
    out = [f"{low}{s}{high}" for s in seps]
    out += [f"{lo}{sep}{hi}" for lo, hi in zip(digit_variants(low), digit_variants(high))]
    return list(dict.fromkeys(out))


def combine(numbers: list[str], units: list[str], joiner: str) -> list[str]:
    """The written number with every unit spelling, then the other number forms with the written
    unit. A unit starting with a space carries its own separator; the others follow ``joiner``."""

    def join(n: str, u: str) -> str:
        """Number ``n`` followed by unit ``u``."""
        return n + (u if u.startswith(" ") else joiner + u)

    out = [join(numbers[0], u) for u in units] + [join(n, units[0]) for n in numbers[1:]]
    return list(dict.fromkeys(out))


def plural_variants(unit: str) -> list[str]:
    """A singular word unit with its plural ("40–60 year" also as "40–60 years"); a plural alone,
    since a form is matched as a substring and the singular adds nothing."""
    return [unit] if unit.endswith("s") else [unit, unit + "s"]


# --- candidate extraction ------------------------------------------------------------------------


def find_refs(sentence: str, offset: int) -> tuple[list[Candidate], list[tuple[int, int]]]:
    """Law, ordinance and standard references in a sentence, with the spans they cover."""
    found, spans = [], []
    for pattern in REF_PATTERNS:
        for m in pattern.finditer(sentence):
            if any(s < m.end() and m.start() < e for s, e in spans):
                continue
            text = re.sub(r"^the\s+", "", m.group(0).strip())
            spans.append((m.start(), m.end()))
            found.append(Candidate(offset + m.start(), "ref", ref_variants(text)))
    return found, spans


def ref_variants(text: str) -> list[str]:
    """Alternative spellings of a reference: "9 kap. 27 §" -> "chapter 9, section 27", "ABS18"..."""
    text = " ".join(text.split())
    forms = [text]
    m = re.match(r"(AB|ABT|ABS)\s?(\d\d)\s+(?:kap\.|chapter)\s*(\d+)(?:\s*§\s*(\d+))?$", text)
    if m:
        name, year, chap, sect = m.groups()
        tail = f" § {sect}" if sect else ""
        forms += [f"{name}{year} kap. {chap}{tail}", f"{name} {year} chapter {chap}{tail}",
                  f"kap. {chap}{tail}", f"chapter {chap}{tail}"]
        if sect:
            forms.append(f"chapter {chap}, section {sect}")
        return list(dict.fromkeys(forms))
    m = re.match(r"(?P<law>.*?)\s*(?P<chap>\d+(?:\s?[–-]\s?\d+)?)\s?kap\.?"
                 r"(?:\s+(?P<sect>\d+\s?[a-z]?(?:\s?[–-]\s?\d*\s?[a-z]?)?)\s?§§?)?", text)
    if m:
        law, chap, sect = m.group("law").strip(), m.group("chap"), m.group("sect")
        law = re.sub(r"\s*\(.*\)", "", law)
        if sect:
            forms += [f"{chap} kap. {sect} §", f"chapter {chap}, section {sect}",
                      f"chapter {chap} section {sect}"]
        elif law:
            forms += [f"{law} {chap} kap", f"{law} chapter {chap}", f"chapter {chap} of the {law}"]
    m = re.match(r"(AB|ABT|ABS)\s?(\d\d)(.*)", text)
    if m:
        name, year, rest = m.groups()
        forms += [f"{name}{year}{rest}", f"{name} {year}{rest}"]
        clause = re.search(r"(?:clause|p\.)\s*(\d+(?:\.\d+)?)", rest)
        if clause:
            forms += [f"clause {clause.group(1)}", f"point {clause.group(1)}", f"section {clause.group(1)}"]
    m = re.match(r"BBR(?:\s+(?:ch\.|chapter|section))?\s+(\d+)(?::(\d+))?$", text)
    if m:
        chap, sub = m.groups()
        if sub:
            forms += [f"BBR {chap}:{sub}", f"BBR section {chap}:{sub}", f"{chap}:{sub}"]
        elif int(chap) > 9:
            forms += [f"BBR {chap}"]
        else:
            forms += [f"BBR {chap}", f"BBR chapter {chap}", f"BBR ch. {chap}", f"chapter {chap} of BBR"]
    m = re.match(rf"{CODE_SERIES}\s+(\d{{4}}:\d+)$", text)
    if m:
        forms.append(m.group(1))
    return list(dict.fromkeys(f for f in forms if f.strip()))


def unit_info(match: re.Match) -> tuple[str, str, list[str]]:
    """(written unit, type, alternatives) of a :data:`UNIT_RE` match."""
    for i, (_, kind, alts) in enumerate(UNITS):
        if match.group(f"u{i}") is not None:
            return match.group(f"u{i}"), kind, alts
    raise ValueError("no unit group matched")


def spelled_number(number: str) -> str | None:
    """``"10"`` -> ``"ten"`` for whole numbers up to twenty, else None."""
    return WORDS_FOR_NUMBER.get(int(number)) if number.isdigit() else None


def unit_forms(number: str, unit: str, joiner: str, kind: str, alts: list[str]) -> list[str]:
    """Surface forms of a number with a unit: digit groups, dashes, unit spellings, spelled number."""
    units = plural_variants(unit) if kind == "time" and number != "1" else [unit]
    units += [a.strip() if joiner and a.startswith(" ") else a for a in alts]
    forms = combine(range_variants(number), units, joiner)
    spelled = spelled_number(number)
    if spelled and kind == "time":
        forms += [f"{spelled} {u}" for u in units[:2]]
    if unit == "m" and joiner == "":
        forms = [f for f in forms if not re.fullmatch(r"[\d.,–-]+m", f)] or forms
    return list(dict.fromkeys(forms))


def find_figures(sentence: str, offset: int, skip: list[tuple[int, int]]) -> list[Candidate]:
    """Numbers (digits or spelled) with their unit or following word; scales such as 1:400.

    In order: a known unit ("10 weeks", "25,000 SEK"); a hyphenated word ("10-year"); an acronym
    before the number ("COP 4–5"); any following word that is not a stop word ("4 facades"); a bare
    range ("8-12") or a number after "box", "class", "zone"... ("box 35"). A bare year (19xx/20xx)
    is a candidate of type ``year``; other bare numbers are not candidates.
    """
    found = []
    for m in SCALE.finditer(sentence):
        if not any(s <= m.start() < e for s, e in skip):
            found.append(Candidate(offset + m.start(), "scale", [m.group(0), m.group(0).replace(":", " : ")]))
            skip = skip + [(m.start(), m.end())]
    for m in NUM_RANGE.finditer(sentence):
        if any(s <= m.start() < e for s, e in skip):
            continue
        number = m.group("range")
        if re.match(r"0\d", number):
            continue  # phone numbers, clock times ("0771-567", "07-19")
        rest, before = sentence[m.end() :], sentence[: m.start()]
        unit = UNIT_RE.match(rest)
        hyphen = re.match(r"-(year|month|week|day|hour|minute|metre|phase|storey|family|layer|step)s?\b",
                          rest)
        code = re.search(r"(?<![\w-])([A-Z]{2,5})\s$", before)
        word = re.match(r"\s([A-Za-z][a-z-]+)", rest)
        pre = PRE_WORDS.search(before)
        if unit:
            written, kind, alts = unit_info(unit)
            joiner = unit.group(0)[: len(unit.group(0)) - len(written)]
            forms = unit_forms(number, written, joiner, kind, alts)
        elif hyphen:
            w = hyphen.group(1)
            numbers = range_variants(number)
            forms = [f"{n}-{w}" for n in numbers] + [f"{n} {w}s" for n in numbers]
            forms += [f"{n} {w}" for n in numbers]
            if spelled_number(number):
                forms += [f"{spelled_number(number)}-{w}", f"{spelled_number(number)} {w}s"]
            kind = "time" if w in TIME_UNITS else "generic"
        elif code and code.group(1) not in NOT_ACRONYMS:
            kind, forms = "generic", [f"{code.group(1)} {v}" for v in range_variants(number)]
            found.append(Candidate(offset + code.start(1), kind, forms))
            continue
        elif re.fullmatch(r"(19|20)\d\d", number):
            kind, forms = "year", [number]
        elif word and word.group(1).lower() not in STOPWORDS and len(word.group(1)) > 2:
            w = word.group(1)
            forms = [f"{n} {w}" for n in range_variants(number)]
            if spelled_number(number) and w.islower():
                forms.append(f"{spelled_number(number)} {w}")
            kind = "generic"
        elif pre:
            kind, forms = "generic", [f"{pre.group(1)} {v}" for v in range_variants(number)]
            found.append(Candidate(offset + pre.start(1), kind, forms))
            continue
        elif re.search(r"[-–×/]", number):
            kind, forms = "range", range_variants(number)
        else:
            continue
        found.append(Candidate(offset + m.start(), kind, list(dict.fromkeys(forms))))
    for m in SPELLED.finditer(sentence):
        value = NUMBER_WORDS[m.group("word").lower()]
        unit = m.group("unit")
        kind = "money" if "amount" in unit.lower() else ("size" if unit.lower().startswith("met") else "time")
        units = [unit] if value == 1 else plural_variants(unit)
        forms = [m.group(0), f"{m.group('word')} {unit}"] + [f"{value} {u}" for u in units]
        if "-" in m.group(0):
            forms += [f"{value}-{unit}"]
        found.append(Candidate(offset + m.start(), kind, list(dict.fromkeys(forms))))
    return found


def is_swedish_word(word: str) -> bool:
    """A Swedish term: å/ä/ö, an authority/law suffix, or a (compound of a) :data:`SWEDISH_TERMS` word."""
    f = fold(re.sub(r"['’]s$", "", word))
    if f in NOT_TERMS or len(f) < 4:
        return False
    if re.search(r"[åäöÅÄÖ]", word):
        return True
    if f.endswith(SWEDISH_SUFFIXES) and len(f) > 7:
        return True
    return any(f == t or (f.startswith(t) and len(t) >= 6) for t in SWEDISH_TERMS)


def build_glossary(rows: list[dict], doc_freq: Counter) -> dict[str, list[str]]:
    """Swedish term or acronym -> other names, from "term (gloss)" and "gloss (term)" in the FAQ.

    A gloss is 1-5 plain words (no digits, no acronym); a one-word English gloss must be rare (in at
    most 10 answers), so that "ARN (consumer)" does not make "consumer" a name of ARN. An acronym
    and a Swedish term glossing each other ("KA (kontrollansvarig)") are entered both ways.
    """
    gloss: dict[str, list[str]] = {}

    def add(term: str, other: str) -> None:
        """Record ``other`` as another name of ``term`` if it passes the filters above."""
        other = other.strip(" ,.;")
        if not re.fullmatch(r"[A-Za-zÅÄÖåäöé][A-Za-zÅÄÖåäöé' -]*", other) or len(other) < 5:
            return
        if re.search(r"\b[A-ZÅÄÖ]{2,}\b", other) or len(other.split()) > 5:
            return
        if len(other.split()) == 1 and not is_term_text(other) and doc_freq[fold(other)] > 10:
            return
        if fold(other.split()[0]) in STOPWORDS or fold(other) == fold(term):
            return
        entry = gloss.setdefault(fold(term), [])
        if other not in entry:
            entry.append(other)

    for r in rows:
        for m in re.finditer(r"([\w' -]+?)\s+\(([^)]+)\)", r["q"]):
            left, parts = question_phrase(m.group(1)), [p.strip() for p in m.group(2).split(",")]
            for part in parts:
                if is_term_text(left) and not is_term_text(part):
                    add(left, part)
                elif is_term_text(part) and not is_term_text(left):
                    add(part, left)
        text = r["q"] + " " + r["a"]
        for m in re.finditer(r"(?<![\w-])([\wÅÄÖåäö-]+(?:\s[\wÅÄÖåäö-]+)?)\s\(([^()]{3,40})\)",
                             text):
            left, inside = strip_stopwords(m.group(1)), m.group(2)
            last = left if is_term_text(left) else left.split()[-1]
            if is_term_text(last) and not is_term_text(inside):
                add(last, inside)
            elif " " not in inside and (
                (is_acronym(last) and is_swedish_word(inside))
                or (is_acronym(inside) and is_swedish_word(last))
            ):
                add(last, inside)
                add(inside, last)
    return gloss


def question_phrase(text: str) -> str:
    """The noun phrase before a parenthesis in a question: the words after the last article
    ("What is a delay penalty" -> "delay penalty"), only the last word when that is over 3 words."""
    words = text.split()
    articles = [i for i, w in enumerate(words) if w.lower() in {"a", "an", "the"}]
    phrase = words[articles[-1] + 1 :] if articles else words[-3:]
    return strip_stopwords(" ".join(phrase if len(phrase) <= 3 else phrase[-1:]))


def strip_stopwords(text: str) -> str:
    """``text`` without leading stop words ("a bygglov" -> "bygglov")."""
    words = text.split()
    while len(words) > 1 and fold(words[0]) in STOPWORDS:
        words.pop(0)
    return " ".join(words)


def is_acronym(text: str) -> bool:
    """An upper-case acronym or code such as KA, ÄTA, ID06 (not a unit or common abbreviation)."""
    pattern = r"[A-ZÅÄÖ][A-ZÅÄÖ0-9]+(?:-[A-Z]{1,3})?"
    return text not in NOT_ACRONYMS and re.fullmatch(pattern, text) is not None


def is_term_text(text: str) -> bool:
    """True when a short text is an acronym or a Swedish term of at most 3 words."""
    text = text.strip()
    if is_acronym(text):
        return True
    words = text.split()
    return 0 < len(words) <= 3 and all(is_swedish_word(w) or fold(w) in STOPWORDS for w in words) and any(
        is_swedish_word(w) for w in words
    )


def find_terms(
    sentence: str, offset: int, skip: list[tuple[int, int]], glossary: dict[str, list[str]]
) -> list[Candidate]:
    """Acronyms/codes and Swedish terms; adjacent Swedish words make one term ("Omvänd
    skattskyldighet"). An acronym with an English suffix counts as the acronym ("ROT-eligible")."""
    found, taken = [], list(skip)

    def free(a: int, b: int) -> bool:
        """True when the span a..b overlaps nothing taken yet."""
        return not any(s < b and a < e for s, e in taken)

    for m in ACRONYM.finditer(sentence):
        token, suffix = m.group(0), m.group("suffix")
        if suffix and is_swedish_word(token):
            continue  # FA-skatt, KC-bruk: a Swedish word, found below
        core = token[: len(token) - len(suffix)] if suffix else token
        if core in NOT_ACRONYMS or re.fullmatch(r"[A-Z]\d*", core) or not free(m.start(), m.end()):
            continue
        taken.append((m.start(), m.start() + len(core)))
        found.append(Candidate(offset + m.start(), "term", [core] + glossary.get(fold(core), [])))
    words = [(m.start(), m.end(), m.group(0)) for m in WORD.finditer(sentence)]
    i = 0
    while i < len(words):
        a, b, w = words[i]
        if not free(a, b) or not is_swedish_word(w.strip("'’-")):
            i += 1
            continue
        j = i
        while not words[j][2].endswith(("'s", "’s")):
            k = j + 1
            if k + 1 < len(words) and fold(words[k][2]) in SWEDISH_GLUE:
                k += 1  # "Allmänna bestämmelser för småhusentreprenad"
            if k >= len(words) or not free(*words[k][:2]) or not is_swedish_word(words[k][2]):
                break
            if any(sentence[words[x][1] : words[x + 1][0]] not in {" ", " & "} for x in range(j, k)):
                break
            j = k
        text = re.sub(r"['’]s$", "", sentence[a : words[j][1]]).strip("'’-")
        suffix = re.search(r"-([a-z]+)$", text)
        if suffix and fold(text) not in SWEDISH_TERMS and is_swedish_word(text[: suffix.start()]) \
                and not is_swedish_word(suffix.group(1)):
            text = text[: suffix.start()]  # "Säker Vatten-certified" -> "Säker Vatten"
        taken.append((a, words[j][1]))
        alts = list(glossary.get(fold(text), []))
        if fold(text) in {"f-skatt", "f-tax"}:
            alts += ["F-skatt", "F-tax"]
        found.append(Candidate(offset + a, "term", list(dict.fromkeys([text] + alts))))
        i = j + 1
    return found


def inside_parentheses(text: str, pos: int) -> bool:
    """True when ``pos`` lies inside an open parenthesis of ``text``."""
    before = text[:pos]
    return before.count("(") > before.count(")")


def score_candidates(
    cands: list[Candidate], question: str, answer: str, positions: dict[int, int], sources: str
) -> None:
    """Fill ``score`` (see the module docstring): base by type, +4 when the question asks for that
    type, +1 for a term or reference in a "What is" question, +2/+1 in the first/second sentence,
    +1 when it also occurs in the item's sources, -1 inside parentheses."""
    wants = {kind for kind, cue in CUES.items() if cue.search(question)}
    definition = question_kind(question) == "explanation" and re.match(r"what (is|are)\b", question, re.I)
    for c in cands:
        s = BASE.get(c.kind, 3.0)
        if c.kind == "year":
            s += 5 if "year" in wants else 0
        elif c.kind in wants or (c.kind in {"generic", "range"} and "count" in wants):
            s += 4
        elif c.kind == "percent" and "money" in wants:
            s += 4
        if definition and c.kind in {"term", "ref"}:
            s += 1
        position = positions.get(c.start, 9)
        s += 2 if position == 0 else 1 if position == 1 else 0
        if c.kind in {"ref", "term"} and contains_fact(sources, c.forms[0]):
            s += 1
        if inside_parentheses(answer, c.start):
            s -= 1
        c.score = s


def distinctive_facts(row: dict, glossary: dict[str, list[str]]) -> list[list[str]]:
    """At most :data:`MAX_FACTS` scored key facts of one FAQ item (see the module docstring)."""
    answer = " ".join(row["a"].split())
    question = row["q"]
    sentences = split_sentences(answer)
    merged = 1 if len(sentences) > 1 and len(sentences[0][1].split()) < 4 else 0  # "Yes." + next
    cands: list[Candidate] = []
    positions: dict[int, int] = {}
    for i, (offset, sentence) in enumerate(sentences):
        if "zaragoza" in sentence.lower():
            continue
        refs, spans = find_refs(sentence, offset)
        figures = find_figures(sentence, offset, spans)
        fig_spans = [(c.start - offset, c.start - offset + len(c.forms[0])) for c in figures]
        terms = find_terms(sentence, offset, spans + fig_spans, glossary)
        for c in refs + figures + terms:
            positions[c.start] = max(0, i - merged)
            cands.append(c)
    kept: list[Candidate] = []
    seen: set[str] = set()
    refs = [fold(c.forms[0]) for c in cands if c.kind == "ref"]
    for c in sorted(cands, key=lambda c: c.start):
        c.forms = [f for f in dict.fromkeys(" ".join(f.split()) for f in c.forms) if f]
        if not contains_fact(answer, c.forms[0]) or any(contains_fact(question, f) for f in c.forms):
            continue
        if any(fold(f) in seen for f in c.forms):
            continue  # the same fact again, or another name of one already kept
        if c.kind == "term" and any(contains_fact(r, c.forms[0]) for r in refs):
            continue  # "PBL" when "PBL 10 kap. 9 §" is a candidate
        seen.update(fold(f) for f in c.forms)
        kept.append(c)
    score_candidates(kept, question, answer, positions, " ".join(row.get("sources") or []))
    strong = [c for c in kept if c.score >= MIN_SCORE]
    kept = strong or [c for c in kept if c.score >= MIN_SCORE - 1]
    if not kept:
        return []
    best = max(c.score for c in kept)
    chosen = sorted((c for c in kept if c.score >= best - 4), key=lambda c: (-c.score, c.start))[:MAX_FACTS]
    return [c.forms for c in chosen]


def singular(word: str) -> str:
    """A plural's stem that still occurs in it ("facades" -> "facade"); other words unchanged."""
    f = word.lower()
    if len(f) > 5 and f.endswith("s") and not f.endswith(("ss", "us", "is", "ies", "ses")):
        return word[:-1]
    return word


def rare_word_facts(row: dict, doc_freq: Counter) -> list[list[str]]:
    """Fallback: the 1-2 rarest content words of the reference sentence (of the whole answer when
    the reference has none) that are not in the question; the second only if in <= 20 answers."""
    question_words = {fold(w) for w in WORD.findall(row["q"])}
    question_stems = {q[:5] for q in question_words if len(q) >= 5}

    def content_words(text: str) -> list[str]:
        """Distinct candidate words of ``text`` in order (singular, possessive dropped)."""
        words: list[str] = []
        for m in WORD.finditer(text):
            w = singular(re.sub(r"['’]s$", "", m.group(0)).strip("-'’"))
            f = fold(w)
            if len(f) < 5 or f in STOPWORDS or f in question_words or f[:5] in question_stems:
                continue
            if f not in {fold(x) for x in words}:
                words.append(w)
        return words

    words = content_words(reference_sentence(row["a"])) or content_words(row["a"])
    ranked = sorted(words, key=lambda w: (doc_freq[fold(w)], words.index(w)))
    facts = [[ranked[0]]] if ranked else []
    if len(ranked) > 1 and doc_freq[fold(ranked[1])] <= 20:
        facts.append([ranked[1]])
    return facts


def answer_doc_freq(rows: list[dict]) -> Counter:
    """Number of answers containing each folded word (and its singular); a word counts once per answer."""
    freq: Counter = Counter()
    for r in rows:
        words = {re.sub(r"['’]s$", "", w).strip("-'’") for w in WORD.findall(r["a"])}
        freq.update({fold(w) for w in words} | {fold(singular(w)) for w in words})
    return freq


def build_gold(rows: list[dict]) -> list[dict]:
    """The gold items: one per FAQ pair, then the :data:`UNANSWERABLE` questions."""
    doc_freq = answer_doc_freq(rows)
    glossary = build_glossary(rows, doc_freq)
    items = []
    for row in rows:
        facts = distinctive_facts(row, glossary) or rare_word_facts(row, doc_freq)
        items.append({
            "id": row["id"],
            "question": row["q"],
            "reference": reference_sentence(row["a"]),
            "keyfacts": facts,
            "doc": DOC_NAME,
            "page": None,
            "evidence": evidence_prefix(row["a"]),
            "answerable": True,
            "kind": question_kind(row["q"]),
        })  # fmt: skip
    for i, question in enumerate(UNANSWERABLE, 1):
        items.append({
            "id": f"zar-off-{i:02d}",
            "question": question,
            "reference": NOT_FOUND,
            "keyfacts": [],
            "doc": DOC_NAME,
            "page": None,
            "answerable": False,
            "kind": "offtopic",
        })  # fmt: skip
    return items


def validate(items: list[dict], rows: list[dict], doc_text: str) -> list[str]:
    """Problems found: missing fields, a key fact whose first form is not in its answer (or that
    the answer would not match under the README rule), evidence not in exactly one paragraph."""
    problems = []
    by_id = {r["id"]: r for r in rows}
    paragraphs = [fold(p) for p in doc_text.split("\n\n")]
    required = {"id", "question", "reference", "keyfacts", "doc", "page", "answerable", "kind"}
    for item in items:
        json.loads(json.dumps(item, ensure_ascii=False))
        missing = required - item.keys()
        if missing:
            problems.append(f"{item.get('id')}: missing {sorted(missing)}")
        if not item["answerable"]:
            continue
        answer = " ".join(by_id[item["id"]]["a"].split())
        if not item["keyfacts"]:
            problems.append(f"{item['id']}: no key facts")
        for fact in item["keyfacts"]:
            if fold(fact[0]) not in fold(answer) or not contains_fact(answer, fact[0]):
                problems.append(f"{item['id']}: key fact {fact[0]!r} not in the answer")
        ev = fold(item["evidence"])
        holders = sum(ev in p for p in paragraphs)
        if len(item["evidence"]) > EVIDENCE_CHARS or holders != 1:
            problems.append(f"{item['id']}: evidence in {holders} paragraphs")
    return problems


def summary(items: list[dict]) -> str:
    """A few lines: item counts, key facts per item, kinds."""
    answerable = [i for i in items if i["answerable"]]
    per_item = Counter(len(i["keyfacts"]) for i in answerable)
    kinds = Counter(i["kind"] for i in items)
    return "\n".join([
        f"items: {len(items)} ({len(answerable)} answerable + {len(items) - len(answerable)} unanswerable)",
        "key facts per answerable item: " + ", ".join(f"{k}: {v}" for k, v in sorted(per_item.items())),
        f"key facts in all: {sum(len(i['keyfacts']) for i in answerable)}",
        "kinds: " + ", ".join(f"{k}: {v}" for k, v in kinds.most_common()),
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """CLI: read the FAQ, optionally write the .txt document, write and check the gold set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faq", nargs="?", type=Path, default=DEFAULT_FAQ,
                        help="The FAQ JSONL (default: %(default)s).")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="Gold set to write (default: %(default)s).")
    parser.add_argument("--doc-out", type=Path, default=None, help=f"Folder to write {DOC_NAME} into.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    rows = load_faq(args.faq)
    if args.doc_out:
        log.info("document: %s", write_document(rows, args.doc_out))
    items = build_gold(rows)
    problems = validate(items, rows, document_text(rows))
    for p in problems:
        log.warning("problem: %s", p)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    log.info("gold set: %s", args.out)
    log.info("%s", summary(items))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
