"""Passwords out of text: what is stored, logged or echoed in an error never holds one."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["mask_passwords", "mask_text"]

#: ``scheme://user:password@`` in any text; the password is group 2.
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/@\s:]*:)([^@\s]+)@")


def mask_text(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _USERINFO.sub(r"\1***@", text)


def mask_passwords(value: Any) -> Any:
    """``value`` with the password of every URL in it (``scheme://user:pw@``) replaced by ``***``.

    Walks dicts, lists and tuples; other values are returned as they are.
    Used on monitor definitions before they are stored (an alert channel's
    Apprise URL, ``json://user:pw@host/...``, must not land in the results
    database in clear) and on values echoed by configuration errors.
    """
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_passwords(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_passwords(v) for v in value)
    return value
