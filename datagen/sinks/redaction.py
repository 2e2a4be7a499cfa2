"""Target strings in messages: secrets redacted, places labelled, the unsupported-scheme error.

Nothing here raises for a malformed string (except the errors it builds): every
message about a target goes through :func:`redact`.
"""

from __future__ import annotations

from typing import Sequence
from urllib.parse import urlsplit

from datagen.errors import InputError


def url_scheme(url: str) -> str:
    """The scheme of ``url`` (``""`` for a path), lowercased; never raises."""
    head, separator, _ = url.partition("://")
    return head.lower() if separator and head.replace("+", "").isalnum() else ""


def redact(url: str) -> str:
    """``url`` without its password or query secrets (for messages and logs).

    Never raises: in a URL too malformed to parse (``postgresql://u:pw@[::1/db``)
    everything before the host and the query are hidden.
    """
    if "://" not in url:
        return url  # a path
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return _redact_by_hand(url)
    if not parts.scheme:
        return url
    netloc = parts.netloc
    if netloc and "@" not in netloc and "@" in url.partition("://")[2][len(netloc) :]:
        return _redact_by_hand(url)  # a "/", "?" or "#" in a password cut the host short
    if password is not None:
        user = parts.username or ""
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{user}:***@{host}"
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def _redact_by_hand(url: str) -> str:
    """Everything before the last ``@`` (a password may hold ``/?#@``) and the query hidden."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    rest, mark, _ = rest.split("#", 1)[0].partition("?")
    return f"{scheme}://{rest}{'?***' if mark else ''}"


def unsupported_target(url: str) -> InputError:
    """The error for a URL of a scheme no target takes."""
    return InputError(
        f"unsupported target {redact(url)!r}",
        hint="use a folder, NAME.zip, sqlite:///FILE.db, postgresql://…, "
        "mysql+pymysql://… or azure://CONTAINER/PREFIX",
    )


def require_scheme(url: str, known: Sequence[str]) -> str:
    scheme = url_scheme(url)
    if scheme.split("+")[0] not in known:
        raise unsupported_target(url)
    return scheme


def endpoint(url: str) -> str:
    """``host:port`` of ``url`` (the default port when none is given), for messages."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or '?'}:{port}"
