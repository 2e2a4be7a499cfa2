"""A blob writer from a URL: the container client, its retries and its connection pool."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qs

from azure.core.exceptions import (
    AzureError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import ContainerClient, ExponentialRetry
from requests import Session
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from datagen.errors import InputError
from datagen.sinks.urls import CONNECTION_STRING_ENV, SAS_TOKEN_ENV
from datagen.sinks.urls import parse_blob_url, redact, url_uses_sas_query

from datagen.sinks.azure import AzureBlobWriter


def _retry_policy(retry_total: int) -> ExponentialRetry:
    """The SDK's retries, shorter than its default (which waits 15 s, then 18 s, …).

    Throttling (503), server errors and dropped connections are retried after
    about 3, 5, 9 and 17 s; a refused connection (a wrong host or port) only
    twice, so a typo fails in seconds.
    """
    return ExponentialRetry(
        initial_backoff=1,
        increment_base=2,
        retry_total=retry_total,
        retry_connect=min(2, retry_total),
        random_jitter_range=1,
    )


def _transport(connections: int) -> RequestsTransport:
    """The SDK's transport with one pooled connection per upload thread.

    (requests keeps 10 per host by default; more threads would open and drop
    connections.) Retries are left to the SDK's policy, as in its own transport.
    """
    session = Session()
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=connections,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    return RequestsTransport(session=session, session_owner=True)


def open_blob_writer(
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    retry_total: int = 4,
    prepare: bool = True,
) -> AzureBlobWriter:
    """An ``AzureBlobWriter`` for ``url``; with ``prepare`` the container is checked now."""
    target = parse_blob_url(url, env=env)
    options: dict[str, Any] = {
        "retry_policy": _retry_policy(retry_total),
        "transport": _transport(AzureBlobWriter.THREADS + 2),
        "connection_timeout": 20,
        "read_timeout": 300,
        "max_single_put_size": 64 << 20,
        "max_block_size": 8 << 20,
    }
    secrets: list[str] = []
    try:
        if target.connection_string is not None:
            client = ContainerClient.from_connection_string(
                target.connection_string, target.container, **options
            )
            secrets.append(target.connection_string)
            secrets.extend(
                value
                for key, _, value in (
                    item.partition("=") for item in target.connection_string.split(";")
                )
                if key.strip().lower() in ("accountkey", "sharedaccesssignature") and value
            )
        else:
            assert target.account_url is not None and target.sas_token is not None
            client = ContainerClient(
                target.account_url, target.container, credential=target.sas_token, **options
            )
            secrets.append(target.sas_token)
            secrets.extend(parse_qs(target.sas_token).get("sig", []))
    except (ValueError, AzureError) as err:
        what = CONNECTION_STRING_ENV if target.connection_string else "the container URL"
        raise InputError(
            f"{what} for {redact(url)!r} is malformed ({type(err).__name__})",
            hint="copy it again from the Azure portal (storage account → Access keys)",
        ) from None
    if target.connection_string is not None:
        credential = f"the account key or SAS in {CONNECTION_STRING_ENV}"
    elif url_uses_sas_query(url):
        credential = "the SAS token in the URL"
    else:
        credential = f"the SAS token in {SAS_TOKEN_ENV}"
    writer = AzureBlobWriter(
        client, prefix=target.prefix, target=url, secrets=secrets, credential=credential
    )
    if prepare:
        try:
            writer.prepare()
        except BaseException:
            writer.abort()  # closes its client and connections: the check failed
            raise
    return writer
