"""Measuring an understander on a set of phrasings written as data (``chat_heldout_*.txt``).

Each line is ``text => intent key=value ...``; ``@shown``/``@pending``/``@clear`` lines set what the
bot showed or asked last for the lines after them (the format is described atop each set).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from handlers.kit.seam import CardRef, Context, InvoiceRef, Pending, Understander, Understanding

HERE = Path(__file__).parent

# The person every held-out set is written for (see the header of chat_heldout_1.txt).
ANN = Context(
    today=date(2025, 12, 10),
    active="acme",
    accounts=(("acme", "Acme Corp"), ("acme-labs", "Acme Labs")),
    invoices=(
        InvoiceRef("INV-1001", "acme", date(2025, 11, 20), date(2025, 12, 20), 125000, "usd", "November usage"),
        InvoiceRef(
            "INV-0998",
            "acme",
            date(2025, 10, 31),
            date(2025, 12, 5),
            48000,
            "usd",
            "October support plan",
            overdue=True,
        ),
        InvoiceRef("INV-2001", "acme-labs", date(2025, 12, 1), date(2025, 12, 31), 31500, "usd", "Lab seats"),
    ),
    cards=(CardRef("pm_visa", "visa", "4242", is_default=True), CardRef("pm_amex", "amex", "8431")),
)
_KEYS = ("invoice", "account", "card", "amount", "choices", "detail")


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    intent: str
    expected: dict[str, str]
    context: Context
    line: int


def load(name: str, person: Context = ANN) -> list[Case]:
    """The cases of a set file, each with the context its ``@`` lines set."""
    cases: list[Case] = []
    context = person
    for number, raw in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            word, *rest = line[1:].split()
            if word == "clear":
                context = person
            elif word == "shown":
                context = _with(person, Pending("invoices", "shown", tuple(rest)))
            elif word == "pending":
                context = _with(person, Pending(rest[0], rest[1], tuple(rest[2:])))
            continue
        text, _, answer = line.partition(" => ")
        intent, *pairs = answer.split()
        expected = dict(pair.split("=", 1) for pair in pairs)
        cases.append(Case(text, intent, expected, context, number))
    return cases


def _with(person: Context, pending: Pending) -> Context:
    return Context(person.today, person.active, person.accounts, person.invoices, person.cards, pending)


def got(found: Understanding | None) -> tuple[str, dict[str, str]]:
    """An understanding as a case writes it: the intent and its non-empty arguments."""
    if found is None:
        return "(none)", {}
    values = {key: getattr(found, key) for key in _KEYS}
    written = {key: ",".join(value) if isinstance(value, tuple) else value for key, value in values.items() if value}
    if found.unknown:
        written["unknown"] = "yes"
    return found.intent, written


def measure(understander: Understander, cases: list[Case]) -> tuple[float, list[str]]:
    """The share of cases understood exactly (intent and arguments), and a line per miss."""
    misses = []
    for case in cases:
        intent, arguments = got(understander.understand(case.text, case.context))
        if (intent, arguments) != (case.intent, case.expected):
            misses.append(
                f"  line {case.line}: {case.text!r}: expected {case.intent} {case.expected}, got {intent} {arguments}"
            )
    return 100.0 * (len(cases) - len(misses)) / max(len(cases), 1), misses
