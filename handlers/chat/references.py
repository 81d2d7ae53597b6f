"""References in a typed message resolved against the person's own values. Pure.

An invoice named the way people name it: "the november invoice", "last month's", "the $480 one",
"the overdue one", "the oldest", "the next one due", "the labs bill", "the second one" (after a
list), "it"/"that one". An account named anywhere ("what does acme labs owe"). Only the person's
own values (``Context``) can come out; a phrase naming none of them is ``unknown``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.kit.grammar import amount_minor as typed_amount
from handlers.kit.seam import Context, InvoiceRef

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4, "may": 5, "june": 6,
    "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10,
    "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
# Words that end a reference phrase: "the november *invoice*", "the overdue *one*".
_NOUNS = frozenset({"invoice", "bill", "one", "statement", "payment", "receipt", "charge", "ones", "invoices", "bills"})
_PLURAL = frozenset({"ones", "invoices", "bills"})
_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "last": -1,
}
_STATES = frozenset(
    """overdue late oldest older earliest latest newest recent newer next upcoming biggest largest big large
    bigger larger smallest small smaller due unpaid open most outstanding""".split()
)
_DEICTIC = frozenset({"it", "that", "this", "same"})
_GLUE = frozenset(
    {"the", "of", "s", "my", "our", "both", "for", "in", "from", "month", "quarter", "usd", "dollar", "dollars"}
)
_DESCRIPTION_STOP = frozenset({"invoice", "bill", "the", "and", "for", "of", "fee", "fees", "monthly", "service"})


@dataclass(frozen=True, slots=True)
class InvoiceReference:
    """What a reference phrase named: one or several of the person's invoices, or none (``phrase``)."""

    numbers: tuple[str, ...]
    phrase: str


def words_of(text: str) -> list[str]:
    """Lower-case words, possessive "'s" gone, punctuation at the edges gone ("$1,250" kept)."""
    lowered = re.sub(r"<[@#!][^>]*>", " ", text.lower()).replace("’", "'")
    words = []
    for raw in lowered.split():
        word = raw.strip(".,!?;:\"()'")
        if word.endswith("'s"):
            word = word[:-2]
        word = word.replace("'", "")
        if word:
            words.append(word)
    return words


def amount_minor(word: str, currency: str = "usd") -> int | None:
    """``$480``, ``1,250``, ``99.50`` in minor units; ``None`` when not an amount."""
    return typed_amount(word, currency) if any(ch.isdigit() for ch in word) else None


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def account_words(context: Context) -> dict[str, tuple[str, ...]]:
    """Each word of an account name (stemmed) -> the accounts whose name holds it."""
    found: dict[str, list[str]] = {}
    for external_id, name in context.accounts:
        for word in {*(_stem(w) for w in words_of(name)), _stem(external_id.lower())}:
            found.setdefault(word, []).append(external_id)
    return {word: tuple(ids) for word, ids in found.items()}


def named_account(words: list[str], context: Context) -> str | None:
    """The one account of the person's that ``words`` name (all its name's words, or a word only
    its name holds); ``None`` when none or several."""
    stems = {_stem(word) for word in words}
    full = [external_id for external_id, name in context.accounts if {_stem(w) for w in words_of(name)} <= stems]
    if len(full) == 1:
        return full[0]
    if len(full) > 1:  # "acme labs" holds "acme" too: the longest name wins
        return max(full, key=lambda external_id: len(dict(context.accounts)[external_id]))
    by_word = account_words(context)
    unique = {ids[0] for stem in stems if len(ids := by_word.get(stem, ())) == 1 and stem not in _DESCRIPTION_STOP}
    return unique.pop() if len(unique) == 1 else None


def _description_words(invoice: InvoiceRef) -> set[str]:
    return {_stem(w) for w in words_of(invoice.description) if w not in MONTHS and w not in _DESCRIPTION_STOP}


def _period(words: list[str], today: date) -> tuple[date, date] | None:
    text = " ".join(words)
    if re.search(r"\blast month\b", text):
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if re.search(r"\bthis month\b", text):
        return today.replace(day=1), today
    quarter = re.search(r"\b(this|last) quarter\b", text)
    if quarter:
        start_month = 3 * ((today.month - 1) // 3) + 1
        start = date(today.year, start_month, 1)
        if quarter.group(1) == "last":
            start = (start - timedelta(days=1)).replace(day=1)
            start = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
        end_month = start.month + 2
        end = date(start.year, end_month, 28) + timedelta(days=4)
        return start, end - timedelta(days=end.day)
    return None


def phrase_before_noun(words: list[str], known: frozenset[str] = frozenset()) -> tuple[list[str], str] | None:
    """The qualifier words right before the first invoice noun ("pay the november *invoice*"),
    and the noun; ``None`` when no noun follows a qualifier."""
    if (
        len(words) >= 2
        and words[-2] in ("the", "my", "our")
        and (words[-1] in _STATES or words[-1] in MONTHS or words[-1] in _ORDINALS)
    ):
        words = [*words, "one"]  # "pay the oldest": the noun left unsaid
    for index, word in enumerate(words):
        if word not in _NOUNS:
            continue
        start = index
        while start > 0 and _qualifies(words[start - 1], known) and words[start - 1] != "of":  # "part *of* the …"
            start -= 1
        qualifiers = words[start:index]
        if index + 1 < len(words) and words[index + 1] == "due":
            qualifiers = [*qualifiers, "due"]
        if (
            not any(w not in _GLUE for w in qualifiers)
            and index + 2 < len(words)
            and words[index + 1] in ("for", "of", "from", "about", "on")
        ):
            after = words[index + 2 : index + 6]  # "the invoice *for lab seats*"
            qualifiers = after[: next((n for n, w in enumerate(after) if not _qualifies(w, known)), len(after))]
        if any(w not in _GLUE for w in qualifiers):
            return qualifiers, word
    return None


def _described(words: list[str], context: Context) -> list[str]:
    """Two words in a row of an invoice's description ("support plan", "lab seats"), said without a
    noun: a phrase that names that invoice (one word alone, like "support", is too common)."""
    stems = [_stem(w) for w in words]
    for invoice in context.invoices:
        said = [_stem(w) for w in words_of(invoice.description) if w not in _DESCRIPTION_STOP]
        for first, second in itertools.pairwise(said):
            for index in range(len(stems) - 1):
                if stems[index] == first and stems[index + 1] == second:
                    return words[index : index + 2]
    return []


_QUALIFIERS = frozenset({"last", "this", "month", "quarter", "all", "two", "three", "both"})


def _qualifies(word: str, known: frozenset[str]) -> bool:
    """A word that can be part of a phrase naming an invoice: a state, a position, a month or
    period, an amount or number, or a word of one of the person's descriptions or account names."""
    return (
        word in _GLUE
        or word in _STATES
        or word in _ORDINALS
        or word in _DEICTIC
        or word in MONTHS
        or word in _QUALIFIERS
        or _stem(word) in known
        or amount_minor(word) is not None
        or bool(re.match(r"^[a-z]*-?\d", word))
    )


def _known_words(context: Context) -> frozenset[str]:
    """The stems of the person's invoice descriptions and account names."""
    described = {w for invoice in context.invoices for w in _description_words(invoice)}
    return frozenset(described | set(account_words(context)))


def invoice_reference(words: list[str], context: Context, shown: tuple[str, ...] = ()) -> InvoiceReference | None:
    """The invoices a phrase like "the november invoice" names, or ``None`` when there is no
    such phrase (an explicit number is ``handlers.chat.understand``'s job)."""
    found = phrase_before_noun(words, _known_words(context))
    listed_before = bool(shown or context.reminder_invoices)
    alone = [w for w in words if w == "it" or w in _ORDINALS] if listed_before else []
    unsaid_noun = _described(words, context) if found is None and not alone else []
    if found is None and not alone and not unsaid_noun:
        return None
    qualifiers, noun = found if found else (alone[:1] or unsaid_noun, "")
    plural = noun in _PLURAL
    if plural and not set(words) & {"both", "all", "two", "three"}:
        return None
    phrase = " ".join([*qualifiers, noun]).strip()
    candidates = list(context.invoices)
    recognised = False

    def keep(selected: list[InvoiceRef]) -> None:
        nonlocal candidates, recognised
        recognised = True
        candidates = selected

    positions = [(_ORDINALS[w], w) for w in qualifiers if w in _ORDINALS]
    if (positions or set(qualifiers) & _DEICTIC) and (shown or context.reminder_invoices):
        listed = [number for number in (shown or context.reminder_invoices)]
        by_number = {invoice.number: invoice for invoice in context.invoices}
        if positions and not (positions[0][1] == "last" and {"month", "quarter"} & set(qualifiers)):
            index = positions[0][0]
            if -len(listed) <= index < len(listed):
                chosen = by_number.get(listed[index])
                return InvoiceReference((chosen.number,) if chosen else (), phrase)
        if set(qualifiers) & _DEICTIC and not positions:
            return InvoiceReference(tuple(n for n in listed if n in by_number), phrase)
    account = named_account(qualifiers, context)
    if account is not None:
        keep([i for i in candidates if i.account == account])
    else:  # a word several accounts' names hold ("acme"): the invoices of those accounts
        by_word = account_words(context)
        shared = {a for w in qualifiers for a in by_word.get(_stem(w), ()) if w not in _DESCRIPTION_STOP}
        if shared:
            keep([i for i in candidates if i.account in shared])
    period = _period(qualifiers, context.today)
    months = [MONTHS[w] for w in qualifiers if w in MONTHS and not (w == "may" and noun == "")]
    if months:
        month_name = next(name for name, number in MONTHS.items() if number == months[0] and len(name) > 3)
        described = [i for i in candidates if month_name in i.description.lower()]
        keep(described or [i for i in candidates if i.issued_on.month == months[0]])
    elif period is not None:
        keep([i for i in candidates if period[0] <= i.issued_on <= period[1]])
    stems = {_stem(w) for w in qualifiers}
    described = [i for i in candidates if _description_words(i) & stems]
    if any(_description_words(i) & stems for i in context.invoices):
        keep(described)
    amounts = [a for w in qualifiers if (a := amount_minor(w)) is not None and a > 0]
    if amounts:
        keep([i for i in candidates if i.amount_minor == amounts[0]])
    if "overdue" in qualifiers or "late" in qualifiers:
        keep([i for i in candidates if i.overdue])
    # "my last payment" is a payment, not an invoice: only "the oldest invoice"/"the next one" pick one.
    picked = None if noun in ("payment", "receipt", "charge") else _superlative(set(qualifiers), candidates)
    if picked is not None:
        recognised = True
        candidates = picked
    if not recognised:
        return None
    return InvoiceReference(tuple(i.number for i in candidates), phrase)


def _superlative(qualifiers: set[str], candidates: list[InvoiceRef]) -> list[InvoiceRef] | None:
    if not candidates:
        return None
    if qualifiers & {"oldest", "earliest", "older"}:
        return [min(candidates, key=lambda i: (i.issued_on, i.due_on))]
    if qualifiers & {"latest", "newest", "recent", "newer"} or (
        "last" in qualifiers and not qualifiers & {"month", "quarter"}
    ):
        return [max(candidates, key=lambda i: (i.issued_on, i.due_on))]
    if qualifiers & {"next", "upcoming"}:
        coming = [i for i in candidates if not i.overdue] or candidates
        return [min(coming, key=lambda i: i.due_on)]
    if qualifiers & {"biggest", "largest", "big", "large", "bigger", "larger"}:
        return [max(candidates, key=lambda i: i.amount_minor)]
    if qualifiers & {"smallest", "small", "smaller"}:
        return [min(candidates, key=lambda i: i.amount_minor)]
    return None


def next_due(context: Context) -> str:
    """The open invoice due next (not yet overdue), of all the person's accounts; "" when none."""
    coming = [i for i in context.invoices if not i.overdue]
    return min(coming, key=lambda i: i.due_on).number if coming else ""


def invoice_by_amount(amount: int, context: Context) -> tuple[str, ...]:
    """The open invoices owing exactly ``amount`` (minor units)."""
    return tuple(i.number for i in context.invoices if i.amount_minor == amount)
