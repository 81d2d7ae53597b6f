"""The schema of each landed release, as that release's own revision 0001 built it.

``schema_<commit>.py`` is the file ``billing_core/db/migrations/versions/0001_initial_schema.py``
exactly as it was at that commit (``git show <commit>:<path>``), never edited: both releases
stamped their databases ``0001`` although their schemas differ. A later release that lands a
revision adds its own snapshot here only if its databases cannot be built from the revisions
in the tree (see README, "Upgrading").
"""

#: Landed releases, oldest first.
RELEASES = ("ab2e42a", "f7eed73")
