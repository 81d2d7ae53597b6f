"""Links to the 3-D Secure page with non-ASCII digits are refused politely, never a 5xx (issue 19, item 8).

``'1²'.isdigit()`` is true but ``int('1²')`` fails: ids are parsed with ``isascii()`` and
``isdecimal()``. Real parts: the HTTP app as ``serve`` runs it (``tests/security/full_run.py``).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.full_run import FullRun

ODD_DIGITS = ["1²", "²", "١٢", "１２", "߁", "1\u00b9.x", "٣.abc", "1²." + "0" * 32, "𝟏𝟐"]
FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Unicode decimal and other digits (superscripts, fractions, other scripts) next to ASCII ones.
DIGITISH = st.characters(categories=["Nd", "No"]) | st.sampled_from("0123456789.")


@pytest.mark.parametrize("head", ODD_DIGITS)
def test_an_authentication_link_with_non_ascii_digits_is_not_valid_rather_than_an_error(
    full_run: FullRun, head: str
) -> None:
    path = f"/stripe/authenticate/{quote(head)}.abc"
    assert full_run.http.get(path).status_code == 404
    assert full_run.http.post(path).status_code == 404


@FUZZ
@given(token=st.text(DIGITISH, min_size=1, max_size=40))
def test_fuzzed_tokens_of_unicode_digits_never_get_a_5xx(full_run: FullRun, token: str) -> None:
    path = f"/stripe/authenticate/{quote(token, safe='')}"
    for method in ("GET", "POST"):
        response = full_run.http.request(method, path)
        assert response.status_code < 500, (method, token)
        assert "Traceback" not in response.text
