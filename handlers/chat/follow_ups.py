"""A short answer to the question the bot asked last: "yes", "no", "the first", "both", "2",
"INV-1001", "the amex". Pure.

The answer is the request asked about with the value chosen, so it shows the same screen with the
same buttons: a "yes" to "Pay INV-1001?" opens that invoice's Pay button, never a payment.
"""

from __future__ import annotations

import re

from handlers.chat.references import invoice_reference, named_account
from handlers.kit.seam import Context, Pending, Understanding

_YES = frozenset(
    """yes y yep yeah yup ya sure ok okay k go ahead please do it confirm correct right absolutely
    definitely affirmative that one pls thanks fine proceed""".split()
)
_REFUSE = frozenset("no n nope nah cancel never nevermind stop forget dont not".split())  # one of these says no
_NO = _REFUSE | frozenset("mind it thanks now thank you leave".split())
_BOTH = frozenset({"both", "all", "either", "of", "them", "the", "two", "three", "please", "pls", "ones"})
_ORDINAL = {
    "first": 0,
    "1st": 0,
    "1": 0,
    "one": 0,
    "second": 1,
    "2nd": 1,
    "2": 1,
    "two": 1,
    "third": 2,
    "3rd": 2,
    "3": 2,
    "three": 2,
    "fourth": 3,
    "4th": 3,
    "4": 3,
    "fifth": 4,
    "5th": 4,
    "5": 4,
    "last": -1,
}
_ORDINAL_NOISE = frozenset({"the", "one", "option", "please", "pls", "number", "no", "#", "card", "invoice", "account"})
_INVOICE_INTENTS = frozenset(
    {"pay_invoice", "invoice", "due_date", "already_paid", "partial_payment", "copy", "reminders"}
)
COMMANDS = {
    "pay_invoice": "pay_invoice",
    "invoice": "invoices",
    "due_date": "invoices",
    "switch": "switch",
    "make_default": "methods",
    "remove_card": "methods",
}
MAX_WORDS = 6  # a longer message is a new request, not an answer


def answer(words: list[str], context: Context) -> Understanding | None:
    """``words`` as the answer to ``context.pending``; ``None`` when they are not one."""
    pending = context.pending
    word_set = set(words)
    if word_set and word_set <= _NO and word_set & _REFUSE and word_set != {"no"}:
        return Understanding("cancel")  # "never mind", asked or not ("no" alone is the table's: thanks)
    if pending is None or pending.kind not in ("choices", "confirm") or not words or len(words) > MAX_WORDS:
        return None
    if word_set <= _NO and word_set & _REFUSE:
        return Understanding("cancel")
    if pending.kind == "confirm":
        if word_set <= _YES and not word_set <= {"it", "that", "one", "thanks", "please", "pls", "do"}:
            return _chosen(pending, pending.values)
        return None
    if word_set <= _BOTH and word_set & {"both", "all", "either"}:
        return _chosen(pending, pending.values)
    rest = [w for w in words if w not in _ORDINAL_NOISE or (w == "one" and len(words) == 1)]
    if len(rest) == 1 and rest[0] in _ORDINAL:
        index = _ORDINAL[rest[0]]
        if -len(pending.values) <= index < len(pending.values):
            return _chosen(pending, (pending.values[index],))
    return _named(words, pending, context)


def _named(words: list[str], pending: Pending, context: Context) -> Understanding | None:
    """One of the values asked about, named by number, description, brand or account name, and
    nothing else ("INV-0998 please", "the november one", "the amex"): a message saying more
    ("pay 200 dollars toward INV-1") is a new request."""
    typed = {re.sub(r"[^a-z0-9]", "", word) for word in words}
    values = pending.values
    if not set(words) <= _naming_words(pending, context) | typed & _value_keys(values):
        return None
    hits = [
        v
        for v in values
        if re.sub(r"[^a-z0-9]", "", v.lower()) in typed or (re.sub(r"\D", "", v) in typed and re.sub(r"\D", "", v))
    ]
    if pending.intent in _INVOICE_INTENTS and not hits:
        asked = Context(
            context.today, context.active, context.accounts, tuple(i for i in context.invoices if i.number in values)
        )
        reference = invoice_reference([*words, "one"] if "one" not in words else words, asked)
        hits = list(reference.numbers) if reference is not None else []
    if pending.intent in ("switch", "accounts") and not hits:
        asked_accounts = Context(context.today, accounts=tuple(a for a in context.accounts if a[0] in values))
        account = named_account(words, asked_accounts)
        hits = [account] if account else []
    if pending.intent in ("make_default", "remove_card") and not hits:
        hits = [
            card.id
            for card in context.cards
            if card.id in values and (card.brand.lower() in words or card.last4 in typed)
        ]
    if len(hits) == 1:
        return _chosen(pending, (hits[0],))
    return None


def _value_keys(values: tuple[str, ...]) -> set[str]:
    keys = {re.sub(r"[^a-z0-9]", "", v.lower()) for v in values}
    return keys | {re.sub(r"\D", "", v) for v in values if re.sub(r"\D", "", v)}


def _naming_words(pending: Pending, context: Context) -> set[str]:
    """The words an answer naming one of ``pending.values`` may consist of."""
    words = set(_ORDINAL_NOISE) | {"that", "this", "it", "ending", "in", "with", "for", "my", "our", "of", "pls"}
    for invoice in context.invoices:
        if invoice.number in pending.values:
            words |= {w.lower() for w in re.findall(r"[A-Za-z]+", invoice.description)} | {invoice.number.lower()}
    for card in context.cards:
        if card.id in pending.values:
            words |= {card.brand.lower(), card.last4}
    for external_id, name in context.accounts:
        if external_id in pending.values:
            words |= {w.lower() for w in re.findall(r"[A-Za-z0-9]+", name)} | {external_id.lower()}
    return words


def _chosen(pending: Pending, values: tuple[str, ...]) -> Understanding:
    intent = pending.intent
    command = COMMANDS.get(intent, "")
    if len(values) != 1:
        return Understanding(intent, command, choices=values)
    value = values[0]
    if intent in ("switch", "accounts"):
        return Understanding("switch", "switch", account=value)
    if intent in ("make_default", "remove_card"):
        return Understanding(intent, command, card=value)
    return Understanding(intent, command, invoice=value)
