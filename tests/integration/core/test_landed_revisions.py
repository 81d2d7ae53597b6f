"""A landed migration is never edited: deployed databases stamped with its id would never see the
edit (issue 23). Every revision file is pinned here by its SHA-256 in the commit that adds it; a
schema change is a new revision, chained after the head."""

from __future__ import annotations

import hashlib
from pathlib import Path

from alembic.script import ScriptDirectory

from billing_core.db.database import alembic_config

VERSIONS = Path(__file__).resolve().parents[3] / "billing_core" / "db" / "migrations" / "versions"

#: file name -> SHA-256 of its bytes. Add a new revision's line in the commit that adds the file.
LANDED = {
    "0001_initial_schema.py": "3e07a44b713cf8453675b8cb21c119f52606674bf60e2835adeb87a8a270ad5c",
    "0002_repair_release_drift.py": "946261d834af6e9bfc2688a1451b40f4005069ce8f5a0b2142f34aea6649bd44",
    "0003_chat_question.py": "0fae442cfd5da623980eebe75a0fa01709627bc0a30b9155b8d865d3def5a7aa",
    "0004_contact_preferences_token_refresh.py": "2ae37ffd5de59b55653e6ff673b10590afd76a1e318ee6a527ae6afb2a18d264",
    "0005_refunds_and_disputes.py": "bf462ba79fb0491b2e8f1fdcee2ed0d976f1951234c09d11734eef55cff83cdf",
    "0006_invoices_from_their_source.py": "44b99fc65e4b6ac3a05d23bc699908727dfc39ce3de27f16182a1bd20256cb93",
    "0007_payment_dm_thread.py": "0e9fc1f1727f8955d9cc54d41c72335e71f970d74fc9f4158ce02da04998a377",
    "0008_slack_limits.py": "2474bcb63b4b60b856b9553fbbac6ad10142f9e097c2bbb1e3fa2f6f532ff181",
    "0009_chat_answered.py": "83b32627cdcd755bedeb46c886eed46d1d7372190f050b0381d068bd44a9fa4a",
    "0010_support_threads.py": "be95a51e6cfb645c36c86749446e73bc68a3caa5418345b25cfb62a2c753feae",
    "0011_promises_and_reminder_holds.py": "0087c2c11af1a2bfe3a9631e900b15a899ec18285d083f0bb6fa6efc815f436f",
    "0012_open_balance_summary.py": "796810eea39bbdf189b014ad034743b09dc90c94e13a1d915efeaed51f04ade4",
}


def test_no_landed_revision_was_edited() -> None:
    changed = [
        name for name, digest in LANDED.items() if hashlib.sha256((VERSIONS / name).read_bytes()).hexdigest() != digest
    ]
    assert changed == [], f"landed revisions were edited: {changed}; write a new revision instead"


def test_every_revision_file_is_pinned() -> None:
    files = sorted(path.name for path in VERSIONS.glob("*.py"))
    unpinned = [name for name in files if name not in LANDED]
    assert unpinned == [], f"pin these revisions in LANDED (their SHA-256) in the commit that adds them: {unpinned}"


def test_the_revisions_form_one_chain_with_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    chain = [revision.revision for revision in script.walk_revisions()]
    assert len(chain) == len(LANDED)
