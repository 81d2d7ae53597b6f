"""What a typed message asks for: the intent table applied to the text, then its argument matched
against the person's own invoice numbers, account names or cards. Pure (no Slack, no database).

``parse`` needs nothing but the text; ``resolve`` takes what the person has (``Known``) and turns a
fuzzy argument into exactly one of theirs, several to choose from, or none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from handlers.chat.intents import EXTRA_WORDS, FILLER, GREETINGS, INTENTS, Intent
from handlers.kit.grammar import looks_like_amount

MAX_TEXT = 500  # longer messages are cut: nobody types a longer billing question
_MENTION = re.compile(r"<[@#!][^>]*>")
_INVOICE_WORD = re.compile(r"^(invoice|inv|bill|number|no)\b\.?\s*#?\s*|^#\s*")
_KEEP = re.compile(r"[^a-z0-9\s$€£¥#.,'’-]")
_EDGE = ".,'’-!?;:\"()"
_BALANCE_WORDS = frozenset({"everything", "all", "balance", "total", "lot"})
_GENERIC_ACCOUNT = frozenset({"account", "accounts", "other", "another", "other account", "different account", ""})
MATCH_CUTOFF = 70  # ... an argument to be read as one of the person's values
CLEAR_MARGIN = 8  # the best value must beat the next by this much, else the person is asked


@dataclass(frozen=True, slots=True)
class Parsed:
    """The intent (``None``: not understood) and its argument as typed (normalised)."""

    intent: Intent | None
    argument: str = ""
    greeting: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """One of the person's cards as chat names it: its id, brand and last four digits."""

    id: str
    brand: str
    last4: str

    @property
    def names(self) -> tuple[str, ...]:
        brand = self.brand.lower()
        return (f"{brand} {self.last4}", f"{brand} ending {self.last4}", self.last4, brand)


@dataclass(frozen=True, slots=True)
class Known:
    """The person's own values an argument may name."""

    invoices: tuple[str, ...] = ()
    accounts: tuple[tuple[str, str], ...] = ()  # (external id, name)
    cards: tuple[Card, ...] = ()


@dataclass(frozen=True, slots=True)
class Understood:
    """A parsed message with its argument resolved: ``command`` and ``argument`` as ``/billing``
    would take them (``argument`` an invoice number, account id, card id or amount), or
    ``choices`` when the argument could be several of the person's values, or ``unknown`` when it
    names none of them."""

    intent: str
    command: str
    argument: str = ""
    choices: tuple[str, ...] = field(default_factory=tuple)
    unknown: str = ""


def normalise(text: str) -> str:
    """Lower case, mentions and stray punctuation gone, filler words dropped, small typos fixed."""
    lowered = _MENTION.sub(" ", text[:MAX_TEXT]).lower().replace("’", "'")
    words = []
    for raw in _KEEP.sub(" ", lowered).split():
        word = raw.strip(_EDGE) if not looks_like_amount(raw) else raw.rstrip(".,")
        if word.endswith("'s"):
            word = word[:-2]
        word = word.replace("'", "")
        if not word or word in FILLER:
            continue
        words.append(corrected(word))
    return " ".join(words)


def corrected(word: str) -> str:
    """``word``, or the table's word it is a small slip of ("invoces" -> "invoices")."""
    if len(word) < 4 or any(ch.isdigit() for ch in word) or word in vocabulary():
        return word
    allowed = 1 if len(word) < 7 else 2  # one slip (a swapped pair counts as one) per short word
    found = process.extractOne(word, vocabulary(), scorer=DamerauLevenshtein.distance, score_cutoff=allowed)
    return str(found[0]) if found else word


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """The words the table's patterns name (and ``EXTRA_WORDS``): what typos are corrected to."""
    words = set(EXTRA_WORDS)
    for intent in INTENTS:
        for pattern in intent.patterns:
            # Whole words only: not "oice" of "inv(?:oice)?", nor the halves of "organi[sz]ations".
            cleaned = re.sub(r"\\[a-zA-Z]|\(\?P<\w+>", " ", pattern)
            words.update(re.findall(r"(?<![:\]\w])[a-z]{4,}(?![\[\w])", cleaned))
    return frozenset(words)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[Intent, tuple[re.Pattern[str], ...]], ...]:
    return tuple((intent, tuple(re.compile(p) for p in intent.patterns)) for intent in INTENTS)


def parse(text: str) -> Parsed:
    """The first intent of the table whose pattern is found in the normalised ``text``."""
    original = text.strip().lower()
    normal = normalise(text)
    greeting = bool(original) and original.split()[0].strip(_EDGE) in GREETINGS
    if not normal:
        if original and not original.strip("?"):
            return Parsed(_by_name("help"))
        return Parsed(_by_name("overview") if greeting else None, greeting=greeting)
    for intent, patterns in _compiled():
        for pattern in patterns:
            match = pattern.search(normal)
            if match is not None:
                argument = (match.groupdict().get("arg") or "").strip()
                return Parsed(intent, argument, greeting)
    return Parsed(None, greeting=greeting)


def _by_name(name: str) -> Intent:
    return next(intent for intent in INTENTS if intent.name == name)


def resolve(parsed: Parsed, known: Known) -> Understood | None:
    """``parsed`` with its argument matched against ``known``; ``None`` when nothing was understood."""
    intent = parsed.intent
    if intent is None:
        return None
    argument = parsed.argument
    if intent.slot == "pay_target":
        if set(argument.split()) & _BALANCE_WORDS and not any(ch.isdigit() for ch in argument):
            return Understood("pay_balance", "pay_balance")
        # The /billing rule: an amount (checked later against the invoices), unless it says invoice.
        if looks_like_amount(argument) and not _INVOICE_WORD.match(argument):
            return Understood("pay_amount", "pay_invoice", argument)
        return _one_of(intent, "pay_invoice", argument, _invoice_names(known))
    if intent.slot == "invoice":
        return (
            _one_of(intent, intent.command, argument, _invoice_names(known))
            if argument
            else Understood(intent.name, intent.command)
        )
    if intent.slot == "account":
        if argument in _GENERIC_ACCOUNT:
            return Understood("accounts", "accounts")
        names = {_key(name): external_id for external_id, name in known.accounts}
        names.update({_key(external_id): external_id for external_id, _ in known.accounts})
        return _one_of(intent, "switch", argument, names)
    if intent.slot == "card":
        return _one_of(intent, "methods", _card_words(argument), _card_names(known))
    return Understood(intent.name, intent.command, argument)


def _one_of(intent: Intent, command: str, typed: str, names: dict[str, str]) -> Understood:
    """The one value ``typed`` names, or the ones it might name, or ``unknown``."""
    name = intent.name if intent.slot != "pay_target" else "pay_invoice"
    key = _key(typed)
    bare = _key(_INVOICE_WORD.sub("", typed)) if intent.slot in ("invoice", "pay_target") else key
    if not key:
        return Understood(name, command)
    for exact in (key, bare):
        if exact in names:
            return Understood(name, command, names[exact])
    scorer = _invoice_score if intent.slot in ("invoice", "pay_target") else _score
    scored = process.extract(key, list(names), scorer=scorer, score_cutoff=MATCH_CUTOFF, limit=None)
    values: dict[str, float] = {}
    for candidate, score, _ in scored:
        value = names[candidate]
        values[value] = max(values.get(value, 0.0), float(score))
    if not values:
        return Understood(name, command, unknown=typed)
    ranked = sorted(values.items(), key=lambda item: -item[1])
    best_score = ranked[0][1]
    close = [value for value, score in ranked if best_score - score < CLEAR_MARGIN]
    if len(close) == 1:
        return Understood(name, command, close[0])
    return Understood(name, command, choices=tuple(close[:5]))


def _score(a: str, b: str, **_: object) -> float:
    if a.isdigit() or b.isdigit():
        return float(fuzz.ratio(a, b))
    return max(float(fuzz.ratio(a, b)), float(fuzz.partial_ratio(a, b)) - 10 if len(a) >= 3 else 0.0)


def _invoice_score(a: str, b: str, **_: object) -> float:
    """``_score``, but the numbers must be within one slip of each other: INV-99 is not INV-1."""
    if Levenshtein.distance(re.sub(r"\D", "", a), re.sub(r"\D", "", b)) > 1:
        return 0.0
    return _score(a, b)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _invoice_names(known: Known) -> dict[str, str]:
    names: dict[str, str] = {}
    for number in known.invoices:
        names[_key(number)] = number
        digits = re.sub(r"\D", "", number)
        if digits and sum(1 for other in known.invoices if re.sub(r"\D", "", other) == digits) == 1:
            names.setdefault(digits, number)  # "1001" alone names INV-1001 when no other has those digits
    return names


_CARD_NOISE = frozenset({"card", "cards", "ending", "ends", "in", "with", "last", "digits", "one", "credit", "debit"})


def _card_words(typed: str) -> str:
    return " ".join(word for word in typed.split() if word not in _CARD_NOISE)


def _card_names(known: Known) -> dict[str, str]:
    names: dict[str, str] = {}
    brands = [card.brand.lower() for card in known.cards]
    for card in known.cards:
        names[_key(f"{card.brand} {card.last4}")] = card.id
        names[_key(card.last4)] = card.id
        if brands.count(card.brand.lower()) == 1:
            names[_key(card.brand)] = card.id
        else:  # two of that brand: the brand alone names both, so the person is asked
            names[_key(card.brand) + card.last4[-1]] = card.id
    return names
