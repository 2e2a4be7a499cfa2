"""Azure Blob Storage failures as one-line messages, and logs that never show a secret."""

from __future__ import annotations

import logging
import re
from typing import Sequence

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from datagen.errors import SinkError

_SIG = re.compile(r"(sig=)[^&\s'\"]+", re.IGNORECASE)
NOT_PERMITTED = {"AuthorizationPermissionMismatch", "AuthorizationResourceTypeMismatch"}
_AUTH_FAILED = {"AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo"}
# Loggers that may see request URLs (with a SAS) when an application turns on DEBUG.
_URL_LOGGERS = (
    "urllib3.connectionpool",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.storage.blob._shared.policies",
)


class _ScrubSecrets(logging.Filter):
    """Removes SAS signatures and registered secrets from log records."""

    def __init__(self) -> None:
        super().__init__("datagen-azure-scrub")
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot be formatted is left alone
            return True
        clean = _SIG.sub(r"\1***", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if clean != text:
            record.msg, record.args = clean, None
        return True


_SCRUB = _ScrubSecrets()


def protect_logs(secrets: Sequence[str]) -> None:
    _SCRUB.secrets.update(s for s in secrets if len(s) >= 8)
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)
    # The SDK's INFO request log is noise for a data generator (and the only
    # place a URL appears without DEBUG); quiet it unless someone chose a level.
    http_log = logging.getLogger(_URL_LOGGERS[1])
    if http_log.level == logging.NOTSET:
        http_log.setLevel(logging.WARNING)


def error_code(err: HttpResponseError) -> str:
    code = getattr(err, "error_code", None)
    return str(getattr(code, "value", code) or "")


def blob_error(
    err: AzureError, doing: str, *, where: str, container: str, credential: str
) -> SinkError:
    """A one-line SinkError for ``err`` that never carries a secret."""
    if isinstance(err, ServiceRequestError):
        return SinkError(
            f"cannot reach Azure Blob Storage at {where} ({doing})",
            hint="check the URL and the network, or start Azurite for local runs",
        )
    if isinstance(err, ServiceResponseError):
        return SinkError(
            f"the connection to {where} failed while {doing}",
            hint="retry; check the network or a proxy",
        )
    if not isinstance(err, HttpResponseError):
        return SinkError(f"Azure Blob Storage error at {where} while {doing}: {type(err).__name__}")
    code = error_code(err)
    status = err.status_code
    if status is None:  # no HTTP answer at all: nothing listens there
        return SinkError(
            f"cannot reach Azure Blob Storage at {where} ({doing})",
            hint="check the URL and the network, or start Azurite for local runs",
        )
    if code == "ContainerNotFound":
        return SinkError(
            f"container {container!r} does not exist at {where}",
            hint="create it (portal → Containers) or use credentials allowed to create it",
        )
    if code == "ContainerBeingDeleted":
        return SinkError(
            f"container {container!r} at {where} is being deleted",
            hint="wait a minute, or use another container",
        )
    if code in NOT_PERMITTED:
        return SinkError(
            f"not permitted to write to container {container!r} at {where} ({code})",
            hint="the SAS token needs write (w) and create (c) permissions for blobs",
        )
    if status in (401, 403) or code in _AUTH_FAILED:
        return SinkError(
            f"access denied at {where} for container {container!r} ({code or status})",
            hint=f"check {credential}: it may be wrong, expired or for another "
            "account; or the account's network rules block this machine",
        )
    return SinkError(
        f"Azure Blob Storage answered {status} {code or 'error'} at {where} "
        f"while {doing} in container {container!r}"
    )
