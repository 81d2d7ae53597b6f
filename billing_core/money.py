"""Money as an integer amount of minor units plus an ISO 4217 currency code.

Never a float: amounts are stored, added, sent to Stripe and formatted for people as integers.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_core.errors import CurrencyMismatch

# Minor-unit exponents that differ from the usual two (ISO 4217 and Stripe's zero-decimal list).
_ZERO_DECIMAL = frozenset("bif clp djf gnf isk jpy kmf krw pyg rwf ugx uyi vnd vuv xaf xof xpf".split())
_THREE_DECIMAL = frozenset("bhd iqd jod kwd lyd omr tnd".split())

ISO_4217_CODES = frozenset(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd btn bwp byn
    bzd cad cdf chf clp cny cop crc cuc cup cve czk djf dkk dop dzd egp ern etb eur fjd fkp gbp gel
    ghs gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr iqd irr isk jmd jod jpy kes kgs khr kmf kpw
    krw kwd kyd kzt lak lbp lkr lrd lsl lyd mad mdl mga mkd mmk mnt mop mru mur mvr mwk mxn myr mzn
    nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sdg sek
    sgd shp sle sll sos srd ssp stn svc syp szl thb tjs tmt tnd top try ttd twd tzs uah ugx usd uyu
    uyi uzs ves vnd vuv wst xaf xcd xof xpf yer zar zmw zwl
    """.split()
)

_SYMBOLS = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "inr": "₹",
    "krw": "₩",
    "cny": "CN¥",
    "cad": "CA$",
    "aud": "A$",
    "nzd": "NZ$",
    "hkd": "HK$",
    "sgd": "SGD ",
    "mxn": "MX$",
    "brl": "R$",
    "ils": "₪",
    "vnd": "₫",
    "php": "₱",
    "ngn": "₦",
    "twd": "NT$",
}


def is_known_currency(code: str) -> bool:
    """True for a lowercase ISO 4217 code."""
    return code in ISO_4217_CODES


def minor_digits(currency: str) -> int:
    """How many digits the currency has after the decimal point."""
    if currency in _ZERO_DECIMAL:
        return 0
    if currency in _THREE_DECIMAL:
        return 3
    return 2


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents for usd, yen for jpy) of one currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("Money amounts are whole minor units (int)")
        if self.currency != self.currency.lower() or len(self.currency) != 3:
            raise ValueError(f"currency must be a lowercase ISO 4217 code, got {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    @property
    def is_zero(self) -> bool:
        return self.amount_minor == 0

    def format(self) -> str:
        """For people: ``$1,250.00`` for usd 125000, ``¥125,000`` for jpy 125000."""
        digits = minor_digits(self.currency)
        whole, fraction = divmod(abs(self.amount_minor), 10**digits)
        number = f"{whole:,}.{fraction:0{digits}d}" if digits else f"{whole:,}"
        symbol = _SYMBOLS.get(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        if symbol is None:
            return f"{sign}{self.currency.upper()} {number}"
        return f"{sign}{symbol}{number}"

    def __str__(self) -> str:
        return self.format()


def total(amounts: list[Money], currency: str) -> Money:
    """The sum of ``amounts``, all in ``currency`` (zero for an empty list)."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
