"""The verification modal's one input: the code from the e-mail."""

from __future__ import annotations

import re
from typing import Any

from handlers.identity.ids import VERIFY_CODE_BLOCK, VERIFY_CODE_INPUT
from handlers.kit.payloads import SubmittedView

_CODE = re.compile(r"\d{6}")


def typed_code(body: dict[str, Any]) -> str | None:
    """The six digits typed (spaces dropped), or ``None`` when that is not what was typed."""
    typed = "".join(SubmittedView.of(body).state.typed(VERIFY_CODE_BLOCK, VERIFY_CODE_INPUT).split())
    return typed if _CODE.fullmatch(typed) else None
