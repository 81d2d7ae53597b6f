"""The tokenised authentication links cannot be guessed or moved to another payment."""

from __future__ import annotations

from billing_core.payments.auth_links import AuthLinks
from billing_core.payments.settlement import failure_reason


def links() -> AuthLinks:
    return AuthLinks(secret="whsec_x", base_url="https://bot.example/")


def test_a_link_names_its_payment() -> None:
    url = links().url_for(42)
    assert url.startswith("https://bot.example/stripe/authenticate/42.")
    assert links().payment_id(url.rsplit("/", 1)[1]) == 42


def test_a_link_moved_to_another_payment_or_signed_with_another_secret_is_refused() -> None:
    token = links().token_for(42)
    other = AuthLinks(secret="whsec_other", base_url="https://bot.example")
    assert links().payment_id("43." + token.split(".")[1]) is None
    assert other.payment_id(token) is None
    for junk in ("", ".", "42", "42.", "x.abc", "-1.abc", "9" * 40 + ".abc"):
        assert links().payment_id(junk) is None


def test_declines_are_explained_in_words_a_person_can_read() -> None:
    assert failure_reason("card_declined") == "The card was declined by the bank."
    assert failure_reason("insufficient_funds") == "The card has insufficient funds."
    assert failure_reason("something_new") == "The payment was not accepted by the card processor."
    assert failure_reason(None) == "The payment was not accepted by the card processor."
