"""The rule-based understander behind ``handlers.kit.seam.Understander``. Pure.

In order: a short answer to the question the bot asked last (``handlers.chat.follow_ups``); the
requests the intent table has no word for (partial payments, paid elsewhere, contact changes,
copies, reminders, who the contacts are, what is due in a range); the intent table
(``handlers.chat.understand``); then the references in the text resolved against the person's own
invoices, accounts and cards (``handlers.chat.references``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

from handlers.chat import follow_ups
from handlers.chat.intents import AUTOPAY_SWITCH, FILLER
from handlers.chat.references import (
    MONTHS,
    amount_minor,
    invoice_by_amount,
    invoice_reference,
    named_account,
    next_due,
    words_of,
)
from handlers.chat.understand import Card, Known, Understood, corrected, parse, resolve, vocabulary
from handlers.kit.seam import Context, Understanding

# Requests the table has no word for, searched in the typo-corrected lower-case text, in order.
_CONTACT_CHANGE = (
    r"\bnot (the |a )?(right|correct|proper|billing) (person|contact|one)\b",
    r"\bnot (the |a )?billing contact\b",
    r"\bno longer (the |a )?(billing|right|contact|responsible)\b",
    r"\bno longer\b.*\b(billing|invoices|payments|accounts payable|responsible|in charge|handling|here)\b",
    r"\b(wrong|another) (person|contact)\b",
    r"\bremove me\b",
    r"\b(left|leaving) the company\b",
    r"\b(billing|invoice|mailing|company|postal|street) address\b",
    r"\baddress\b.*\b(changed|change|update|updated|moved|new|wrong)\b",
    r"\b(change|update|new|correct|fix)\b.*\be-?mail\b(?!.* me\b)",
    r"\b(change|update|correct|new|moved|fix)\b.*\baddress\b",
    r"\b(vat|tax|ein|abn|gst)( id| number| no| registration)?\b.*\b(change|changed|update|new|wrong|add|missing)\b",
    r"\b(change|update|add|correct|new|wrong)\b.*\b(vat|tax id|tax number|ein|gst)\b",
    r"\b(po|purchase order)( number| no)?\b",
    r"\b(billing|invoice|contact) e-?mail\b",
    r"\bsend (the )?(invoices|bills|reminders) to\b",
    r"\b(add|invite|include|replace)\b.*\b(colleague|coworker|co-worker|teammate|person|someone|manager)\b.*\b"
    r"(contact|billing|invoices)\b",
    r"\b(company|legal|business) name\b",
    r"\bmoved (offices|office|address)\b",
)
_PARTIAL = (
    r"\b(half|part of|partial|partially|portion|some of it|in parts|a part)\b",
    r"\binstal+ments?\b",
    r"\bpayment plan\b",
    r"\bsplit\b.*\b(payment|invoice|bill|it)\b",
    r"\b(toward|towards)\b",
    r"\bonly (afford|pay|have) \$?\d",
    r"\bspread\b.*\b(payments?|over|out)\b",
    r"\b(monthly|weekly) (payments|instalments|installments)\b",
)
_PAID_ELSEWHERE = (
    r"\b(paid|settled)\b.*\b(wire|bank|transfer|check|cheque|ach|sepa|bacs|by card|over the phone|elsewhere|"
    r"another way)\b",
    r"\b(wire|bank transfer|transfer|check|cheque|ach payment|ach)\b.*\b(sent|made|paid|went out|initiated)\b",
    r"\b(sent|made|mailed|initiated|wired) (a |the |our |you )*(wire|transfer|bank transfer|check|cheque|ach|"
    r"money|payment|remittance)\b",
    r"\b(was|were|been|is|are) (already |all )?(paid|settled)\b",
    r"\bpaid (already|last|yesterday|on|this morning|earlier|weeks? ago|days? ago)\b",
    r"\b(we|i|ive|weve|have) (already|just) (paid|settled)\b",
    r"\b(we|i|ive|weve) (paid|settled) (it|this|that|the (invoice|bill|one))\b",
    r"\balready (paid|settled|sent|wired|transferred|remitted)\b",
)
_COPY = (
    r"\b(copy|copies|pdf|duplicate|download|printable|print)\b",
    r"\b(resend|re-send|send|email|e-mail|forward)\b.*\b(me|us)\b.*\b(invoice|bill|receipt|statement)\b",
    r"\breceipt (for|of)\b",
    r"\b(resend|re-send)\b",
    r"\b(need|want|get) (a |the )?receipt\b",
)
_REMINDER = r"\b(remind|reminders?|reminding|nudges?|notifications?|notify|pinging|pings)\b"
_REMINDER_STOP = (
    r"\b(stop|off|unsubscribe|no more|too many|mute|disable|opt out|don'?t|do not|quit|silence|"
    r"less|fewer|spam)\b"
)
_REMINDER_SNOOZE = (
    r"\b(snooze|pause|hold off|later|tomorrow|next week|in a (few|couple)|on (monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday)|in \d+ days?|remind me (about|of|to|in|on|next|again))\b"
)
_CONTACTS = (
    r"\bwho\b.*\b(contacts?|else|gets?|receives?|see|sees|on billing|in charge|responsible|pay|pays|"
    r"notified|access)\b",
    r"\b(billing|account) contacts\b",
    r"\b(list|show)\b.*\bcontacts\b",
)
_SUPPORT_EXTRA = (
    r"\b(refund|refunded|double charged|charged twice|overcharged|over-charged|charged wrong|wrong amount|"
    r"incorrect|mistake|not right|is wrong|are wrong|looks wrong|error on|discrepancy|credit note)\b",
    r"\b(question|questions|query|queries) (about|on|regarding|re)\b",
    r"\b(someone|somebody|a person|a human)\b.*\b(call|contact|email|reach|ring)\b",
)
_PAY_AMOUNT = re.compile(r"\bpay (?P<amount>\$?\d[\d,.]*)( dollars| usd| eur| euros)?\b")
_OVERDUE = r"\b(overdue|late|past due|behind)\b"
_NEXT_DUE = (
    r"\b(due next(?! (week|month))|next (payment|invoice|bill|one|thing)?\s*(is )?due|next due|"
    r"next payment|next bill|next invoice)\b"
)
_NEXT_DAYS = re.compile(r"^(next|coming) (?P<count>\d{1,2}|two|three|four) (?P<unit>days|weeks)$")
_COUNTS = {"two": 2, "three": 3, "four": 4}
_RANGE = re.compile(
    r"\b(next|coming) (\d{1,2}|two|three|four) (days|weeks)\b|"
    r"\b(this|next|coming) (week|month)\b|\b(in|by|before|during|for) (?P<month>"
    + "|".join(name for name in MONTHS if len(name) > 3)
    + r")\b|\b(today|tomorrow)\b"
)
_RANGE_ASK = r"\b(due|owe|owing|payable|coming up)\b|\b(what|anything|which|how much)\b.*\bpay\b"

# Intents whose argument is one invoice.
_INVOICE_INTENTS = frozenset({"pay_invoice", "invoice", "due_date", "already_paid", "partial_payment", "copy"})
# Intents answered for one account, which the text may name.
_ACCOUNT_INTENTS = frozenset(
    {"balance", "invoices", "pay_balance", "history", "autopay", "contacts", "overview", "methods", "pay"}
)
_NOT_AN_ACCOUNT = frozenset(
    {
        "the",
        "our",
        "my",
        "we",
        "i",
        "us",
        "account",
        "accounts",
        "please",
        "pls",
        "plz",
        "all",
        "open",
        "unpaid",
        "overdue",
        "outstanding",
        "current",
        "this",
        "that",
        "company",
        "me",
        "you",
        "it",
        "everything",
        "past",
        "due",
        "latest",
        "new",
        "recent",
        "billing",
        "any",
        "some",
        "much",
        "team",
        "guys",
        "now",
        "total",
        "full",
        "whole",
        "on",
        "at",
        "in",
    }
)
_ACCOUNT_SLOT = (
    re.compile(r"\bwhat (does|do|did) (?P<a>[a-z][a-z .&-]*?) owe\b"),
    re.compile(r".*\b(for|of) (the )?(?P<a>[a-z][a-z .&-]*?)( account)?$"),
    re.compile(r"\b(show|list|see) (me )?(the )?(?P<a>[a-z][a-z .&-]*?) (invoices|bills|balance)\b"),
)


# Common words the typo corrector must leave alone (it knows only the table's words).
_PLAIN = frozenset(
    """think were where much many thank thanks sure file what when which who whom whose have
    this that there their then than they them your yours about after again also could would should something
    someone anything anyone every month week today tomorrow yesterday last next first second third""".split()
)


@lru_cache(maxsize=1)
def _rule_words() -> frozenset[str]:
    """Every word the rules below search for: typed as is, it is never "corrected" away."""
    patterns = [
        *_CONTACT_CHANGE,
        *_PARTIAL,
        *_PAID_ELSEWHERE,
        *_COPY,
        _REMINDER,
        _REMINDER_STOP,
        _REMINDER_SNOOZE,
        *_CONTACTS,
        *_SUPPORT_EXTRA,
        _OVERDUE,
        _NEXT_DUE,
        _RANGE.pattern,
        _RANGE_ASK,
    ]
    return _PLAIN | {word for pattern in patterns for word in re.findall(r"[a-z]{3,}", pattern)}


def _corrected(word: str) -> str:
    return word if word in _rule_words() else corrected(word)


class RuleUnderstander:
    """The intent table, extra rules and the person's own values; no model, nothing learned."""

    def understand(self, text: str, context: Context) -> Understanding | None:
        words = [_corrected(word) for word in words_of(text)]
        answer = follow_ups.answer(words, context)
        if answer is not None:
            return answer
        shown = context.pending.values if context.pending and context.pending.kind == "shown" else ()
        joined = " ".join(words)
        known = Known(
            invoices=tuple(invoice.number for invoice in context.invoices),
            accounts=context.accounts,
            cards=tuple(Card(card.id, card.brand, card.last4) for card in context.cards),
        )
        base = resolve(parse(text), known)
        special = _special(joined, base)
        if special is not None and special[0] == "due_range" and invoice_reference(words, context, shown):
            special = None  # "pay the november bill next week": about that invoice, not a range
        if special is not None:
            intent, detail = special
            # Only a number written exactly: a close one ("INV-1001" for INV-3001) is asked, never assumed.
            base_invoice = base.argument if base is not None and base.argument == _number_in(words, context) else ""
            close = (base.choices or (base.argument,)) if base is not None and base.argument != base_invoice else ()
            if intent in _INVOICE_INTENTS and not base_invoice and any(close):
                return Understanding(intent, _COMMAND.get(intent, ""), choices=close, unknown=_typed_number(words))
            return _with_invoice(
                Understanding(intent, _COMMAND.get(intent, ""), detail=detail),
                words,
                context,
                shown,
                base_invoice,
                _range_of(detail, context.today) if intent == "due_range" else "",
            )
        if base is None:
            amount = _PAY_AMOUNT.search(joined)
            if amount is not None:  # "is it ok if we pay 300 now": the /billing rule for an amount
                return _amount(amount.group("amount"), words, context)
            reference = invoice_reference(words, context, shown)
            if reference is None:
                if re.search(_OVERDUE, joined):
                    return Understanding("invoices", "invoices", detail="overdue")
                return None
            # "the second" after a list: what the list was for ("pay …" offers Pay), else that invoice
            listed_for = context.pending.intent if context.pending is not None else ""
            intent = listed_for if listed_for in _INVOICE_INTENTS else "due_date" if "due" in words else "invoice"
            found = Understanding(intent, follow_ups.COMMANDS.get(intent, "invoices"))
            return _from_reference(found, reference.numbers, reference.phrase)
        return _adjusted(base, words, joined, context, shown)


_COMMAND = {
    "partial_payment": "support",
    "contact_change": "support",
    "copy": "invoices",
    "reminders": "",
    "contacts": "",
    "due_range": "invoices",
    "already_paid": "",
}


def _special(joined: str, base: Understood | None) -> tuple[str, str] | None:
    """An intent the table has no word for, and its detail."""
    if any(re.search(p, joined) for p in _CONTACT_CHANGE):
        return "contact_change", ""
    if re.search(_REMINDER, joined):
        if re.search(_REMINDER_STOP, joined):
            return "reminders", "stop"
        if re.search(_REMINDER_SNOOZE, joined):
            return "reminders", "snooze"
        return "reminders", "how"
    if any(re.search(p, joined) for p in _CONTACTS):
        return "contacts", ""
    if (base is not None and base.intent in ("support",)) or any(re.search(p, joined) for p in _SUPPORT_EXTRA):
        return "support", ""
    if any(re.search(p, joined) for p in _PAID_ELSEWHERE):
        return "already_paid", ""
    if any(re.search(p, joined) for p in _PARTIAL):
        return "partial_payment", ""
    if any(re.search(p, joined) for p in _COPY):
        return "copy", ""
    if re.search(_RANGE_ASK, joined) and not re.search(_NEXT_DUE, joined):
        found = _RANGE.search(joined)
        if found is not None:
            return "due_range", found.group(0)
    return None


def _range_of(words: str, today: date) -> str:
    """``YYYY-MM-DD..YYYY-MM-DD`` for "next week", "this month", "in january", "today"."""
    monday = today - timedelta(days=today.weekday())
    counted = _NEXT_DAYS.match(words)
    if counted is not None:  # "the next 2 weeks": from today
        count = _COUNTS.get(counted.group("count")) or int(counted.group("count"))
        end = today + timedelta(days=count * (7 if counted.group("unit") == "weeks" else 1))
        return f"{today.isoformat()}..{end.isoformat()}"
    if words.endswith("week"):
        start = monday if words.startswith("this") else monday + timedelta(days=7)
        return f"{start.isoformat()}..{(start + timedelta(days=6)).isoformat()}"
    if words in ("today", "tomorrow"):
        day = today + timedelta(days=1 if words == "tomorrow" else 0)
        return f"{day.isoformat()}..{day.isoformat()}"
    if words.endswith("month"):
        start = today.replace(day=1)
        if not words.startswith("this"):
            start = (start + timedelta(days=32)).replace(day=1)
    else:
        month = MONTHS[words.split()[-1]]
        start = date(today.year + (1 if month < today.month else 0), month, 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return f"{start.isoformat()}..{end.isoformat()}"


def _with_invoice(
    found: Understanding, words: list[str], context: Context, shown: tuple[str, ...], number: str, detail: str
) -> Understanding:
    """``found`` with the invoice the text names (by number, or a reference), its amount, range."""
    if detail:
        return Understanding(found.intent, found.command, detail=detail)
    amount = ""
    if found.intent == "partial_payment":
        named = [
            a for w in words if (a := amount_minor(w)) is not None and a > 0 and not _is_invoice_digits(w, context)
        ]
        amount = str(named[0]) if named else ""
    if found.intent == "reminders" and found.detail != "snooze":
        return found
    if found.intent not in _INVOICE_INTENTS and found.intent != "reminders":
        account = _account(words, " ".join(words), context, found.intent)
        return Understanding(found.intent, found.command, detail=found.detail, account=account[0], unknown=account[1])
    number = number or _number_in(words, context)
    if number:
        return Understanding(found.intent, found.command, invoice=number, amount=amount, detail=found.detail)
    unknown = _unknown_number(words, context)
    if unknown:
        return Understanding(found.intent, found.command, amount=amount, detail=found.detail, unknown=unknown)
    reference = invoice_reference(words, context, shown)
    if reference is None and found.intent == "copy" and set(words) & {"receipt", "receipts"}:
        return Understanding("history", "history")  # a receipt of no open invoice: the payments, with theirs
    if reference is None:
        return Understanding(found.intent, found.command, amount=amount, detail=found.detail)
    located = _from_reference(found, reference.numbers, reference.phrase)
    return Understanding(
        located.intent,
        located.command,
        invoice=located.invoice,
        choices=located.choices,
        amount=amount,
        detail=found.detail,
        unknown=located.unknown,
    )


def _from_reference(found: Understanding, numbers: tuple[str, ...], phrase: str) -> Understanding:
    if len(numbers) == 1:
        return Understanding(found.intent, found.command, invoice=numbers[0], detail=found.detail)
    if numbers:
        return Understanding(found.intent, found.command, choices=numbers[:5], detail=found.detail)
    return Understanding(found.intent, found.command, detail=found.detail, unknown=phrase)


def _is_invoice_digits(word: str, context: Context) -> bool:
    return any(re.sub(r"\D", "", i.number) == word for i in context.invoices)


def _number_in(words: list[str], context: Context) -> str:
    """An invoice of the person's written by its number ("INV-1001", "inv 1001", "1001")."""
    keys = {re.sub(r"[^a-z0-9]", "", i.number.lower()): i.number for i in context.invoices}
    digits = {re.sub(r"\D", "", i.number): i.number for i in context.invoices}
    for index, word in enumerate(words):
        key = re.sub(r"[^a-z0-9]", "", word)
        pair = key + re.sub(r"[^a-z0-9]", "", words[index + 1]) if index + 1 < len(words) else ""
        for candidate in (pair, key):
            if candidate in keys:
                return keys[candidate]
        if key.isdigit() and key in digits and not word.startswith("$"):
            return digits[key]
    return ""


def _typed_number(words: list[str]) -> str:
    return next((w for w in words if any(ch.isdigit() for ch in w)), "")


def _unknown_number(words: list[str], context: Context) -> str:
    """A word written like an invoice number ("INV-3001", "invoice 4455") that is none of theirs."""
    for index, word in enumerate(words):
        previous = words[index - 1] if index else ""
        if re.match(r"^[a-z]{1,4}-?#?\d{2,}$", word) or (
            word.isdigit() and previous in ("invoice", "inv", "bill", "number", "no", "#")
        ):
            return word
    return ""


def _adjusted(
    base: Understood, words: list[str], joined: str, context: Context, shown: tuple[str, ...]
) -> Understanding:
    """The table's answer, with what the text names resolved against the person's own values."""
    intent = base.intent
    found = Understanding(intent, base.command, choices=base.choices, unknown=base.unknown)
    if intent in ("make_default", "remove_card"):
        return _card(base, words, context)
    if intent == "switch":
        named = named_account(words, context)
        if named is not None:
            return Understanding(intent, base.command, account=named)
    if intent in ("switch", "accounts"):
        return Understanding(intent, base.command, account=base.argument, choices=base.choices, unknown=base.unknown)
    if intent == "due_when" and "did" in words:  # "when did we last pay": the past is the history
        return Understanding("history", "history")
    if intent == "pay_invoice" and re.search(r"\bpay (by|with|using|via)\b", joined):
        return Understanding("pay", "pay")  # "pay by card": how to pay, not what
    if intent == "autopay":
        asked = words[0] in ("is", "are", "do", "does", "have", "has", "did")
        switch = "" if asked else AUTOPAY_SWITCH.get(base.argument, "")
        account = _account(words, joined, context, intent)
        return Understanding(intent, base.command, detail=switch, account=account[0], unknown=account[1])
    if intent == "pay_amount":
        return _amount(base.argument, words, context)
    if intent in ("pay_invoice", "pay") and any(w.startswith("$") for w in words):
        reference = invoice_reference(words, context, shown)
        amounts = [a for w in words if w.startswith("$") and (a := amount_minor(w)) is not None]
        if reference is not None and len(reference.numbers) == 1 and amounts:
            owed = next(i.amount_minor for i in context.invoices if i.number == reference.numbers[0])
            if amounts[0] != owed:  # "pay $100 of the november invoice": only whole invoices are paid here
                return Understanding("partial_payment", "support", invoice=reference.numbers[0], amount=str(amounts[0]))
    if intent in ("pay_invoice", "due_date", "invoice", "already_paid") and (base.argument or base.choices):
        if base.argument and _number_in(words, context) != base.argument:
            # Close to one of theirs, but not it ("INV-1001" when theirs is INV-3001): asked, never assumed.
            return Understanding(intent, base.command, choices=(base.argument,), unknown=_typed_number(words))
        return Understanding(intent, base.command, invoice=base.argument, choices=base.choices)
    reference = invoice_reference(words, context, shown)
    if intent == "pay_balance" and set(words) & {"everything", "all", "balance", "total", "whole", "full"}:
        reference = None
    if reference is not None and intent in (
        "pay",
        "pay_invoice",
        "pay_balance",
        "due_when",
        "due_date",
        "invoice",
        "invoices",
        "balance",
        "overview",
        "already_paid",
    ):
        target = {
            "pay": "pay_invoice",
            "pay_balance": "pay_invoice",
            "due_when": "due_date",
            "invoices": "invoice",
            "balance": "invoice",
            "overview": "invoice",
        }.get(intent, intent)
        command = {"pay_invoice": "pay_invoice", "due_date": "invoices", "invoice": "invoices"}.get(target, "")
        return _from_reference(Understanding(target, command), reference.numbers, reference.phrase)
    if intent in ("due_when", "balance", "invoices", "overview") and re.search(_NEXT_DUE, joined):
        number = next_due(context)
        return Understanding("due_date", "invoices", invoice=number) if number else found
    if intent in ("invoices", "balance") and re.search(_OVERDUE, joined):
        account = _account(words, joined, context, intent)
        return Understanding("invoices", "invoices", detail="overdue", account=account[0], unknown=account[1])
    if intent in _ACCOUNT_INTENTS:
        account = _account(words, joined, context, intent)
        return Understanding(intent, base.command, account=account[0], unknown=account[1] or base.unknown)
    return found


def _account(words: list[str], joined: str, context: Context, intent: str) -> tuple[str, str]:
    """(the account the text names, or "", and a name that is none of theirs, or "")."""
    if intent not in _ACCOUNT_INTENTS:
        return "", ""
    named = named_account(words, context)
    if named is not None:
        return named, ""
    for pattern in _ACCOUNT_SLOT:
        match = pattern.search(joined)
        if match is None:
            continue
        # A name is a word chat knows no other meaning of ("globex"), not "our" or "invoices".
        rest = [w for w in match.group("a").split() if w not in _NOT_AN_ACCOUNT]
        if rest and not any(w in FILLER or w in vocabulary() or w in _rule_words() for w in rest):
            return "", " ".join(rest)
    return "", ""


def _amount(typed: str, words: list[str], context: Context) -> Understanding:
    """``pay <amount>``: the invoice owing exactly that, the whole balance, or a partial payment."""
    active_currency = next((i.currency for i in context.invoices if i.account == context.active), "usd")
    minor = amount_minor(typed.replace(" ", ""), active_currency) or amount_minor(typed, active_currency)
    if minor is None:  # another currency: answered as `/billing pay <typed>` answers it
        return Understanding("pay_amount", "pay_invoice", detail=typed)
    owing = invoice_by_amount(minor, context)
    if len(owing) == 1:
        return Understanding("pay_invoice", "pay_invoice", invoice=owing[0])
    if owing:
        return Understanding("pay_invoice", "pay_invoice", choices=owing[:5])
    number = _number_in([typed], context) if typed.isdigit() else ""
    if number:
        return Understanding("pay_invoice", "pay_invoice", invoice=number)
    balance = sum(i.amount_minor for i in context.invoices if i.account == context.active)
    if balance and minor == balance:
        return Understanding("pay_balance", "pay_balance")
    return Understanding("partial_payment", "support", amount=str(minor))


def _card(base: Understood, words: list[str], context: Context) -> Understanding:
    """A card named by brand or last four, or "the other card" (the one that is not the default)."""
    if base.argument or base.choices:
        return Understanding(base.intent, base.command, card=base.argument, choices=base.choices)
    if set(words) & {"other", "second", "another", "non-default", "backup"}:
        others = [card.id for card in context.cards if not card.is_default]
        if len(others) == 1:
            return Understanding(base.intent, base.command, card=others[0])
        if others:
            return Understanding(base.intent, base.command, choices=tuple(others[:5]))
    return Understanding(base.intent, base.command, unknown=base.unknown)
