"""Autopay's notices through the messaging port, on the in-memory messenger
(``tests/support/fakes.py``): every contact found is told once, the one who acted is not, a
contact who has not proven the address hears nothing, and one who cannot be reached is passed over."""

from __future__ import annotations

from billing_core.autopay.notices import AutopayNotice, tell_contacts
from billing_core.errors import ChatDeliveryFailed
from tests.support.fakes import FakeMessenger

NOTICE = AutopayNotice(kind="turned_off", account_external_id="acme", account_name="Acme Corp")


def test_every_contact_found_is_told_but_the_one_who_acted() -> None:
    messenger = FakeMessenger()
    messenger.add("ann@acme.test", "UANN")
    messenger.add("bob@acme.test", "UBOB")

    told = tell_contacts(messenger, ["ann@acme.test", "Bob@acme.test", "gone@acme.test"], NOTICE, skip="ANN@acme.test")

    assert told == 1
    assert [(contact.user_id, message) for contact, message in messenger.told] == [("UBOB", NOTICE)]


def test_a_contact_who_has_not_proven_the_address_is_not_told() -> None:
    messenger = FakeMessenger()
    messenger.add("ann@acme.test", "UANN", needs_proof=True)

    assert tell_contacts(messenger, ["ann@acme.test"], NOTICE) == 0
    assert messenger.told == []


def test_a_contact_who_cannot_be_reached_is_passed_over() -> None:
    messenger = FakeMessenger(refuse=ChatDeliveryFailed("channel_not_found"))
    messenger.add("ann@acme.test", "UANN")

    assert tell_contacts(messenger, ["ann@acme.test"], NOTICE) == 0
    assert tell_contacts(None, ["ann@acme.test"], NOTICE) == 0
