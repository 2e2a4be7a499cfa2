"""Blob storage for the replay: journey zips read from a prefix, steps written as blobs."""

from __future__ import annotations

from typing import Callable, Collection, Iterator, Sequence

from azure.core.exceptions import AzureError, HttpResponseError
from azure.storage.blob import ContentSettings

from datagen.replay.steps import TRANSIENT_HTTP, ReplayStep, StepTarget, WriteFailed
from datagen.sinks.azure import AzureBlobWriter
from datagen.sinks.azure_client import open_blob_writer

JSON = ContentSettings(content_type="application/json")


def download_zips(
    url: str, *, check_size: Callable[[str, int], None]
) -> Iterator[tuple[str, bytes]]:
    """``(blob name, bytes)`` of every ``.zip`` under the URL's prefix, in name order.

    ``check_size(name, size)`` is called before each is downloaded: it raises to refuse
    it (the source's :func:`~datagen.replay.source.check_zip_size`).
    """
    writer = open_blob_writer(url, prepare=False)
    prefix = f"{writer.prefix}/" if writer.prefix else None
    try:
        blobs = sorted(
            (blob.name, blob.size)
            for blob in writer.container.list_blobs(name_starts_with=prefix)
            if blob.name.endswith(".zip")
        )
        for name, size in blobs:
            check_size(name, size)  # before downloading it
            yield name, writer.container.download_blob(name).readall()
    except AzureError as err:
        raise writer.error(err, "reading journeys") from None


class BlobStepTarget(StepTarget):
    """Each step's document as the blob ``PREFIX/<journey>/<step file>``, overwritten."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._writer: AzureBlobWriter | None = None

    def open(self, document_types: Collection[str]) -> None:
        # No SDK retries: the replay retries on its own schedule.
        self._writer = open_blob_writer(self.url, retry_total=0)

    def write(self, steps: Sequence[ReplayStep]) -> None:
        assert self._writer is not None, "open() first"
        writer = self._writer
        for step in steps:
            name = writer.blob_name(f"{step.journey}/{step.file}")
            try:
                writer.container.upload_blob(name, step.data, overwrite=True, content_settings=JSON)
            except AzureError as err:
                transient = not isinstance(err, HttpResponseError) or (
                    err.status_code in TRANSIENT_HTTP
                )
                raise WriteFailed(
                    str(writer.error(err, f"writing {name!r}")), transient=transient
                ) from None
