"""The intent table: what people type, as data. Pure.

Each intent maps onto a ``/billing`` word (``command``, the same words ``handlers.kit.grammar`` parses)
so a typed request and the slash command show the same screen. Patterns are searched, in table
order, in the *normalised* text (``handlers.chat.understand.normalise``: lower case, no
punctuation around words, filler words dropped, small typos of the words below corrected), and a
pattern's ``arg`` group is the intent's argument (an invoice, an account, a card, an amount), which
``understand.resolve`` matches against the person's own values.

Adding a phrasing is a pattern here and an example in ``tests/unit/handlers/test_chat_intents.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Slot = Literal["invoice", "account", "card", "pay_target"]


_AUTOPAY = r"\b(auto ?pay|automatic payments?|pay automatically|auto ?charge)\b"

#: The words of the autopay intent's "arg" that turn it on or off.
AUTOPAY_SWITCH = {
    "enable": "on",
    "activate": "on",
    "start": "on",
    "set": "on",
    "turn on": "on",
    "switch on": "on",
    "on": "on",
    "disable": "off",
    "deactivate": "off",
    "stop": "off",
    "cancel": "off",
    "turn off": "off",
    "switch off": "off",
    "off": "off",
}


@dataclass(frozen=True, slots=True)
class Intent:
    """``name`` is what chat answers; ``command`` the ``/billing`` word showing the same screen
    ("" when the slash command has none); ``slot`` what the patterns' ``arg`` group names."""

    name: str
    command: str
    patterns: tuple[str, ...]
    slot: Slot | None = None
    example: str = ""


# Words dropped before matching: they change nothing about what is asked.
FILLER = frozenset(
    """please pls plz hey hi hello yo ok okay so um uh just now quickly kindly can could would will you
    i me my our we us the a an some to for of at is are am be do does did i'm im id i'd show see view
    list get give tell let know want wanna like need check look display bring up pull open current
    currently there thing things bot assistant billing again right this that these those your
    """.split()
)

# Greetings and thanks: a friendly answer, never a miss.
GREETINGS = frozenset({"hi", "hello", "hey", "yo", "morning", "hiya", "howdy"})

_INVOICE = r"(?P<arg>(?:inv(?:oice)?|bill|no|number|#)?\s*[a-z]*-?\s?#?\d[\w-]*)"

# Order matters: the first intent with a matching pattern wins.
INTENTS: tuple[Intent, ...] = (
    Intent(
        "help",
        "help",
        (
            r"^(help|\?|commands?|menu|options|usage|how (it )?works?|what can say|what can type|"
            r"what can ask|what can help with|help me|instructions|how use|what|what now|how|guide)$",
            r"^(what|how) .*\b(you|this) (do|work)",
        ),
        example="help",
    ),
    Intent(
        "support",
        "support",
        (
            r"\b(talk|speak|chat|connect|get in touch)\b.*\b(person|human|someone|somebody|agent|support|team|"
            r"people|staff|representative|rep)\b",
            r"\b(contact|call|email|reach)\b.*\b(support|team|person|human|someone|accounts receivable)\b",
            r"^(support|agent|person|operator|representative)$",
            r"\b(human|real person|live person|actual person|someone real|ticket)\b",
            r"\b(open|raise|file|create) .*\b(ticket|request|case)\b",
            r"\bdispute\b",
        ),
        example="talk to a person",
    ),
    # `/billing autopay [on|off]`: "arg" holds the word that says which way (see AUTOPAY_SWITCH).
    Intent(
        "autopay",
        "autopay",
        (
            rf"\b(?P<arg>enable|disable|activate|deactivate|start|stop|cancel|set|turn on|turn off|switch on|"
            rf"switch off)\b.*{_AUTOPAY}",
            rf"{_AUTOPAY}.*\b(?P<arg>on|off|enable|disable)\b",
            rf"\b(?P<arg>on|off)\b.*{_AUTOPAY}",
            _AUTOPAY,
        ),
        example="turn on autopay",
    ),
    Intent(
        "already_paid",
        "",
        (
            rf"\b(already )?paid {_INVOICE}\b",
            r"\b(already|allready) (paid|settled|sent)\b",
            r"^(paid|paid already|paid it|paid this|have paid|i paid)$",
            r"\bpaid (it |this )?already\b",
            r"\b(sent|made|wired) (the )?(payment|money|transfer)\b",
        ),
        slot="invoice",
        example="I already paid this",
    ),
    Intent(
        "pay_balance",
        "pay_balance",
        (
            r"^(pay|settle|clear) (off )?(everything|all|it all|all of it|everything owe|whole balance|full balance|"
            r"balance|total|in full|entire balance|whole thing|all invoices|all bills|lot|whole lot|outstanding)"
            r"( (now|today|off))?$",
            r"^pay off (balance|everything|all)$",
        ),
        example="pay everything",
    ),
    Intent(
        "pay_invoice",
        "pay_invoice",
        (
            r"^(pay|settle|clear) (off )?(?P<arg>(?!it$|now$|bill$|invoice$|bills$|invoices$|"
            r"something$|up$).+)$",
        ),
        slot="pay_target",
        example="pay INV-1001",
    ),
    Intent(
        "pay",
        "pay",
        (
            r"^(pay|make payment|payment|settle up|pay now|pay it|pay bill|pay invoice|pay bills|pay invoices|"
            r"pay something|pay up|make a payment|how pay|how do pay|where pay|pay online)$",
            r"\b(make|do|send) (a )?payment\b",
        ),
        example="pay",
    ),
    Intent(
        "due_date",
        "invoices",
        (
            rf"\bwhen (is|was)? ?{_INVOICE} due\b",
            rf"\bdue date (of |for )?{_INVOICE}\b",
            rf"\bwhen (should|must|have) pay {_INVOICE}\b",
            rf"^{_INVOICE} due( date)?$",
        ),
        slot="invoice",
        example="when is INV-1001 due",
    ),
    Intent(
        "invoice",
        "invoices",
        (
            r"^(invoice |bill |inv )?(?P<arg>[a-z]{0,4}-?\s?#?\d[\w-]*)( details?| pdf)?$",
            rf"^((details?|about|what|whats|how) )+(of |on |is )?{_INVOICE}$",
        ),
        slot="invoice",
        example="INV-1001",
    ),
    Intent(
        "due_when",
        "overview",
        (
            r"\bwhen\b.*\b(due|pay|payment)\b",
            r"\b(next|upcoming) (payment|invoice|bill|due)\b",
        ),
        example="when is my next payment due",
    ),
    Intent(
        "balance",
        "balance",
        (
            r"\bbalance\b",
            r"\b(owe|owing|outstanding)\b",
            r"\bhow much\b",
            r"\b(amount|total) (due|owed|outstanding)\b",
            r"\bwhat('?s| is)? due\b",
            r"^due$",
            r"\bin (the )?red\b",
        ),
        example="what do I owe?",
    ),
    Intent(
        "invoices",
        "invoices",
        (r"\b(invoices?|bills?|statements?|unpaid|open items|overdue)\b",),
        example="show my invoices",
    ),
    Intent(
        "add_card",
        "methods",
        (
            r"\b(add|new|save|register|update|change|replace|enter|attach)\b.*\b(card|payment method|"
            r"credit card|debit card|method)\b",
            r"^(card|new card) (expired|expiring)$",
            r"\bcard (is )?(expired|expiring)\b",
            r"\b(visa|mastercard|amex|card) (has |is )?(expired|expiring|expires|declined)\b",
        ),
        example="add a card",
    ),
    Intent(
        "make_default",
        "methods",
        (
            r"\b(make|set|use|switch)\b (?P<arg>.+?) (as |the |my )*(default|primary|main)( card| method)?$",
            r"\b(default|primary|main) (card|method) (to |should be |=)?(?P<arg>.+)$",
            # "to" is a filler
            r"\b(change|swap|switch|set|move) (default|primary|main)( card| method)? (as )?(?P<arg>.+)$",
            r"\b(pay|charge) with (?P<arg>.+?)( from now on| by default| instead)$",
            # "now" is a filler
            r"^use (?P<arg>.+?)( from (now )?on| by default| instead| going forward)$",
        ),
        slot="card",
        example="make the Mastercard default",
    ),
    Intent(
        "remove_card",
        "methods",
        (r"\b(remove|delete|drop|forget|unlink|detach|rid|take off|take away)\b (of )?(?P<arg>.+)$",),
        slot="card",
        example="remove the card ending 4242",
    ),
    Intent(
        "methods",
        "methods",
        (
            r"\b(cards?|payment methods?|methods?|wallet|visa|mastercard|amex|credit cards?|saved cards?)\b",
            r"\bhow (am|do) pay\b",
        ),
        example="my cards",
    ),
    Intent(
        "history",
        "history",
        (
            r"\b(history|receipts?|past payments?|previous payments?|payments made|paid (before|so far|last)|"
            r"payments?|transactions?|what have paid|what paid|last payment|recent payments?)\b",
        ),
        example="payment history",
    ),
    Intent(
        "switch",
        "switch",
        (
            r"^(switch|change|swap|move|go|jump|use)( account)?( over)? ?(to|into)? "
            r"(account )?(?P<arg>.+?)( account)?$",
            r"^(account|work on|act for|as) (?P<arg>.+)$",
        ),
        slot="account",
        example="switch to Globex",
    ),
    Intent(
        "accounts",
        "accounts",
        (r"\b(accounts|which account|what account|companies|organi[sz]ations|customers|switch|change account)\b",),
        example="which accounts do I have",
    ),
    Intent(
        "overview",
        "overview",
        (
            r"^(overview|summary|status|account|dashboard|home|start|main menu|menu please|where am i|"
            r"where do stand|how am doing|how things|whats up|what's up|sup|anything new|news|update|updates)$",
            r"^(morning|hiya|howdy|greetings|good (morning|afternoon|evening)|hello there)$",
        ),
        example="overview",
    ),
    Intent(
        "thanks",
        "",
        (
            r"^(thanks|thank|thx|ty|cheers|great|cool|perfect|awesome|nice|got it|ok thanks|okay thanks|"
            r"bye|goodbye|that's all|thats all|all good|no|nope|nothing|done)$",
        ),
        example="thanks",
    ),
)

# Words the typo corrector knows (besides the table's own): small mistakes in these are fixed.
EXTRA_WORDS = frozenset(
    """invoices invoice balance history receipts receipt payment payments methods method cards card
    mastercard visa amex default remove delete switch accounts account support person human overdue
    outstanding everything settle already paid owe expired expiring statement transactions wallet
    primary autopay overview summary status dashboard help commands options january february march april
    june july august september october november december quarter transferred""".split()
)
