"""The schema of each landed release, as that release's own revision 0001 built it.

``schema_<commit>.py`` is the file ``billing_core/db/migrations/versions/0001_initial_schema.py``
exactly as it was at that commit (``git show <commit>:<path>``), never edited (f7eed73 has none:
its 0001 is the tree's own file, byte for byte and pinned by hash): both releases
stamped their databases ``0001`` although their schemas differ. Revisions are never edited from
0002 on, so a later release's database is built by running the tree's revisions up to that
release's head: add it as ``"<commit>": "<its head revision>"`` (see README, "Upgrading").
"""

#: Landed releases, oldest first: commit -> the head revision its databases have, or ``None`` when
#: the database is built from the release's own ``schema_<commit>.py``.
RELEASES: dict[str, str | None] = {"ab2e42a": None, "f7eed73": None}
