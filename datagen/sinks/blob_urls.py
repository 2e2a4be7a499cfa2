"""Blob container URLs (``azure://CONTAINER/PREFIX`` or a container URL) and their credentials."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from datagen.errors import InputError
from datagen.sinks.redaction import redact

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"
SAS_TOKEN_ENV = "BLOB_SAS_TOKEN"
CONTAINER_URL_ENV = "BLOB_CONTAINER_URL"

_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class BlobTarget:
    """A parsed target: where the container is and how to authenticate."""

    container: str
    prefix: str
    account_url: str | None = None  # with a SAS token
    sas_token: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, repr=False)  # with azure://


def _check_container(name: str, url: str) -> str:
    if not _CONTAINER_NAME.match(name):
        raise InputError(
            f"{name!r} in {redact(url)!r} is not a valid container name",
            hint="use 3-63 lowercase letters, digits and single hyphens",
        )
    return name


def _path_style(hostname: str) -> bool:
    """Azurite (and other emulators) put the account in the path, not the host."""
    if hostname == "localhost" or "." not in hostname:
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def sas_from_query(query: str) -> str | None:
    return query if "sig" in parse_qs(query) else None


def _clean_sas(token: str) -> str:
    token = token.strip().lstrip("?")
    if "sig" not in parse_qs(token):
        raise InputError(
            f"{SAS_TOKEN_ENV} does not look like a SAS token",
            hint="copy the whole token from the portal: it starts with '?sv=' and contains 'sig='",
        )
    return token


def parse_blob_url(url: str, *, env: Mapping[str, str] | None = None) -> BlobTarget:
    """Parse a target URL and find its credentials (InputError when impossible)."""
    env = os.environ if env is None else env
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as err:
        raise InputError(
            f"{redact(url)!r} is not a valid URL ({err})",
            hint="use azure://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER",
        ) from None
    if parts.scheme == "azure":
        container = _check_container(unquote(parts.netloc), url)
        connection = env.get(CONNECTION_STRING_ENV, "").strip()
        if not connection:
            raise InputError(
                f"{redact(url)!r} needs {CONNECTION_STRING_ENV}",
                hint=f"export {CONNECTION_STRING_ENV}='…' (portal → storage account → "
                "Access keys), or use the container URL with BLOB_SAS_TOKEN",
            )
        return BlobTarget(container, unquote(parts.path).strip("/"), connection_string=connection)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"unsupported blob target {redact(url)!r}",
            hint="use azure://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER",
        )
    segments = [unquote(s) for s in parts.path.split("/") if s]
    account_path = ""
    if _path_style(parts.hostname):
        if len(segments) < 2:
            raise InputError(
                f"{redact(url)!r} has no account and container",
                hint="for Azurite use http://127.0.0.1:10000/devstoreaccount1/CONTAINER",
            )
        account_path = "/" + segments.pop(0)
    if not segments:
        raise InputError(
            f"{redact(url)!r} names no container",
            hint="copy the container URL (container → Properties → URL)",
        )
    container = _check_container(segments[0], url)
    sas = sas_from_query(parts.query)
    if sas is None:
        token = env.get(SAS_TOKEN_ENV, "").strip()
        if not token:
            raise InputError(
                f"no SAS token for {redact(url)!r}",
                hint=f"export {SAS_TOKEN_ENV}='?sv=…' (portal → Shared access signature)",
            )
        sas = _clean_sas(token)
    return BlobTarget(
        container,
        "/".join(segments[1:]),
        account_url=f"{parts.scheme}://{parts.netloc}{account_path}",
        sas_token=sas,
    )


def url_uses_sas_query(url: str) -> bool:
    """Whether the container URL carries its SAS token in its query."""
    return sas_from_query(urlsplit(url).query) is not None
