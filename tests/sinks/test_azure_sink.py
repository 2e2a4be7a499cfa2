"""AzureBlobWriter, upload_folder and scripts/azcopy_output.sh against Azurite."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from datagen.errors import InputError, SinkError
from datagen.formats import Chunk
from datagen.sinks.azure import AzureBlobWriter, block_id, content_type
from datagen.sinks.azure_client import open_blob_writer
from datagen.sinks.azure_upload import upload_folder
from datagen.sinks.urls import parse_blob_url

from tests.azurite import ACCOUNT_KEY, REPO, Azurite, free_port

needs_azurite = pytest.mark.azurite
SCRIPT = REPO / "scripts" / "azcopy_output.sh"


def conn_env(server: Azurite) -> dict[str, str]:
    return {"AZURE_STORAGE_CONNECTION_STRING": server.connection_string}


def blobs(server: Azurite, container: str, prefix: str = "") -> dict[str, bytes]:
    client = server.container(container)
    return {
        blob.name: client.download_blob(blob.name).readall()
        for blob in client.list_blobs(name_starts_with=prefix or None)
    }


def signature(token: str) -> str:
    return parse_qs(token.lstrip("?"))["sig"][0]


def assert_no_secret(err: BaseException, *secrets: str) -> None:
    text = f"{err} {err!r}"
    for secret in secrets:
        assert secret not in text
    assert err.__cause__ is None and err.__suppress_context__
    assert "\n" not in str(err)


# -- without a server ------------------------------------------------------------


def test_content_types() -> None:
    assert content_type("a/b.json") == "application/json"
    assert content_type("org.jsonl") == "application/x-ndjson"
    assert content_type("org.CSV") == "text/csv"
    assert content_type("journey.zip") == "application/zip"
    assert content_type("noext") == "application/octet-stream"


def test_block_ids_are_deterministic_and_equal_length() -> None:
    assert block_id(3) == block_id(3)
    assert len({len(block_id(n)) for n in (0, 9, 12345, 49999)}) == 1


def test_parse_forms() -> None:
    env = {"BLOB_SAS_TOKEN": "?sv=2024&sr=c&sp=wcl&sig=abc%3D"}
    cloud = parse_blob_url("https://acct.blob.core.windows.net/data/runs/1/", env=env)
    assert (cloud.container, cloud.prefix) == ("data", "runs/1")
    assert cloud.account_url == "https://acct.blob.core.windows.net"
    assert cloud.sas_token == "sv=2024&sr=c&sp=wcl&sig=abc%3D"
    local = parse_blob_url("http://127.0.0.1:10000/devstoreaccount1/data", env=env)
    assert (local.account_url, local.container, local.prefix) == (
        "http://127.0.0.1:10000/devstoreaccount1",
        "data",
        "",
    )
    in_query = parse_blob_url("https://acct.blob.core.windows.net/data?sv=1&sig=zz", env={})
    assert in_query.sas_token == "sv=1&sig=zz"
    azure = parse_blob_url("azure://data/a/b", env={"AZURE_STORAGE_CONNECTION_STRING": "x=y"})
    assert (azure.container, azure.prefix) == ("data", "a/b")
    assert "abc" not in repr(cloud) and "x=y" not in repr(azure)


@pytest.mark.parametrize(
    ("url", "env", "names"),
    [
        ("azure://data/p", {}, "AZURE_STORAGE_CONNECTION_STRING"),
        ("https://acct.blob.core.windows.net/data", {}, "BLOB_SAS_TOKEN"),
        ("https://acct.blob.core.windows.net/data", {"BLOB_SAS_TOKEN": "sv=1"}, "BLOB_SAS_TOKEN"),
        ("https://acct.blob.core.windows.net/", {"BLOB_SAS_TOKEN": "?sig=1"}, "container"),
        ("http://127.0.0.1:10000/devstoreaccount1", {"BLOB_SAS_TOKEN": "?sig=1"}, "container"),
        ("azure://Bad_Name/p", {"AZURE_STORAGE_CONNECTION_STRING": "x"}, "container name"),
        ("ftp://host/data", {}, "azure://CONTAINER/PREFIX"),
        ("https://[::1/data", {"BLOB_SAS_TOKEN": "?sig=1"}, "not a valid URL (Invalid IPv6 URL)"),
        ("https://acct.blob.core.windows.net:99999/data", {}, "not a valid URL (Port out of"),
    ],
)
def test_bad_urls_and_missing_credentials(url: str, env: dict[str, str], names: str) -> None:
    with pytest.raises(InputError) as caught:
        open_blob_writer(url, env=env)
    assert names in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unreachable_endpoint_names_host_and_port() -> None:
    port = free_port()
    token = "?sv=2024-08-04&sr=c&sp=wcl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    url = f"http://127.0.0.1:{port}/devstoreaccount1/data/run"
    with pytest.raises(SinkError) as caught:
        open_blob_writer(url, env={"BLOB_SAS_TOKEN": token}, retry_total=0)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert_no_secret(caught.value, signature(token), "c2VjcmV0LXNpZ25hdHVyZQ")
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    with pytest.raises(SinkError) as caught:
        open_blob_writer(
            "azure://data/run", env={"AZURE_STORAGE_CONNECTION_STRING": connection}, retry_total=0
        )
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert_no_secret(caught.value, ACCOUNT_KEY, connection)


def test_script_requires_both_variables(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOB_")}
    env["BLOB_CONTAINER_URL"] = "https://acct.blob.core.windows.net/data"
    result = subprocess.run(
        ["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "BLOB_SAS_TOKEN" in result.stderr and "BLOB_CONTAINER_URL not" not in result.stderr


# -- against Azurite -------------------------------------------------------------


@needs_azurite
def test_whole_chunks_become_blobs(azurite: Azurite) -> None:
    name = azurite.new_container_name()
    files = {
        "org-000001.json": b'{"id": 1}\n',
        "nested/deeper/org-000002.json": b'{"id": 2}\n',
        "table.csv": b"id,name\n1,a\n",
        "journeys/run.zip": b"PK\x05\x06" + bytes(18),
        "lines.jsonl": b'{"id": 3}\n',
    }
    with open_blob_writer(f"azure://{name}/runs/1", env=conn_env(azurite)) as writer:
        for path, data in files.items():
            writer.add(Chunk(path, data, whole=True))
    assert writer.summary.written == {name: len(files)}
    assert writer.digests() == {p: hashlib.sha256(d).hexdigest() for p, d in sorted(files.items())}
    assert blobs(azurite, name) == {f"runs/1/{p}": d for p, d in files.items()}
    client = azurite.container(name)
    types = {b.name: b.content_settings.content_type for b in client.list_blobs()}
    assert types == {f"runs/1/{p}": content_type(p) for p in files}
    assert types["runs/1/lines.jsonl"] == "application/x-ndjson"
    assert types["runs/1/journeys/run.zip"] == "application/zip"


@needs_azurite
def test_streamed_chunks_become_one_blob(azurite: Azurite) -> None:
    name = azurite.new_container_name()
    parts = [(f'{{"n": {n}}}\n' * (n * 37 % 200 + 1)).encode() for n in range(60)]
    parts.insert(5, b"")
    parts.append(b"x" * 5000)  # larger than a block on its own
    writer = open_blob_writer(f"azure://{name}/s", env=conn_env(azurite))
    writer.BLOCK_SIZE = 4096  # many blocks, some buffered, one staged directly
    for data in parts:
        writer.add(Chunk("org.jsonl", data))
    blob = azurite.container(name).get_blob_client("s/org.jsonl")
    assert not blob.exists()  # nothing visible until the blob is complete
    writer.close()
    assert blob.download_blob().readall() == b"".join(parts)
    assert blob.get_blob_properties().content_settings.content_type == "application/x-ndjson"
    assert len(blob.get_block_list()[0]) > 5
    assert writer.summary.written == {name: 1}
    assert writer.digests() == {"org.jsonl": hashlib.sha256(b"".join(parts)).hexdigest()}


@needs_azurite
def test_empty_streamed_file_is_an_empty_blob(azurite: Azurite) -> None:
    name = azurite.new_container_name()
    with open_blob_writer(f"azure://{name}", env=conn_env(azurite)) as writer:
        writer.add(Chunk("none.csv", b""))
    assert blobs(azurite, name) == {"none.csv": b""}


@needs_azurite
def test_rerun_is_idempotent(azurite: Azurite) -> None:
    name = azurite.new_container_name()

    def run() -> dict[str, bytes]:
        with open_blob_writer(f"azure://{name}/p", env=conn_env(azurite)) as writer:
            writer.BLOCK_SIZE = 1024
            for n in range(5):
                writer.add(Chunk(f"doc-{n}.json", f'{{"n": {n}}}'.encode(), whole=True))
            for n in range(10):
                writer.add(Chunk("all.jsonl", f'{{"n": {n}}}\n'.encode() * 50))
        assert writer.summary.written == {name: 6}
        return blobs(azurite, name)

    first = run()
    assert run() == first
    assert len(first) == 6


@needs_azurite
def test_missing_container_is_created_with_a_connection_string(azurite: Azurite) -> None:
    name = azurite.new_container_name("created")
    assert not azurite.container(name).exists()
    writer = open_blob_writer(f"azure://{name}/x", env=conn_env(azurite))
    assert writer.created_container
    writer.close()
    assert azurite.container(name).exists()
    again = open_blob_writer(f"azure://{name}/x", env=conn_env(azurite))
    assert not again.created_container
    again.close()


@needs_azurite
def test_container_sas_from_env_and_from_url(azurite: Azurite) -> None:
    name = azurite.new_container_name("sas")
    azurite.container(name).create_container()
    token = azurite.sas_token(name)
    env = {"BLOB_SAS_TOKEN": token}
    with open_blob_writer(azurite.container_url(name, "run"), env=env) as writer:
        writer.add(Chunk("a.json", b"{}", whole=True))
        writer.add(Chunk("b.jsonl", b"{}\n"))
    assert not writer.created_container
    assert signature(token) not in writer.summary.target
    with open_blob_writer(azurite.container_url(name, "inline") + token, env={}) as writer:
        writer.add(Chunk("c.json", b"[]", whole=True))
    assert signature(token) not in writer.summary.target
    assert blobs(azurite, name) == {
        "run/a.json": b"{}",
        "run/b.jsonl": b"{}\n",
        "inline/c.json": b"[]",
    }


@needs_azurite
def test_sas_for_missing_container_names_it(
    azurite: Azurite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = azurite.new_container_name("absent")
    token = azurite.sas_token(name)
    with pytest.raises(SinkError) as caught:
        open_blob_writer(azurite.container_url(name, "p"), env={"BLOB_SAS_TOKEN": token})
    message = str(caught.value)
    assert f"container {name!r} does not exist" in message
    assert f"{azurite.host}:{azurite.port}" in message
    assert_no_secret(caught.value, signature(token), token)
    assert not azurite.container(name).exists()
    assert caplog.records  # urllib3 logged the requests (at DEBUG) ...
    assert all(signature(token) not in r.getMessage() for r in caplog.records)  # ... scrubbed


@needs_azurite
def test_bad_credentials_fail_without_showing_them(
    azurite: Azurite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = azurite.new_container_name("auth")
    azurite.container(name).create_container()
    wrong_key = "A" * 86 + "=="
    connection = azurite.connection_string.replace(ACCOUNT_KEY, wrong_key)
    with pytest.raises(SinkError) as caught:
        open_blob_writer(f"azure://{name}/p", env={"AZURE_STORAGE_CONNECTION_STRING": connection})
    assert "access denied at" in str(caught.value)
    assert f"{azurite.host}:{azurite.port}" in str(caught.value)
    assert_no_secret(caught.value, wrong_key, connection)

    token = azurite.sas_token(name)
    forged = token.replace("sig=", "sig=Zm9yZ2Vk")
    with pytest.raises(SinkError) as caught:
        open_blob_writer(azurite.container_url(name), env={"BLOB_SAS_TOKEN": forged})
    assert "access denied at" in str(caught.value)
    assert_no_secret(caught.value, signature(forged), signature(token))
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (wrong_key, signature(forged), signature(token)):
        assert secret not in text


@needs_azurite
def test_upload_folder_keeps_relative_paths(
    azurite: Azurite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AzureBlobWriter, "BLOCK_SIZE", 64 * 1024)
    big = os.urandom(200 * 1024 + 7)  # streamed in four blocks
    files = {
        "documents/org/manifest.json": b'{"v": 1}',
        "documents/org/org-000001.json": b'{"id": 1}',
        "documents/org/deep/er/x.csv": b"a,b\n",
        "journeys/big.jsonl": big,
        "top.txt": b"hello",
    }
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    (tmp_path / ".gitkeep").write_bytes(b"")
    (tmp_path / ".org.partial-x").mkdir()
    (tmp_path / ".org.partial-x" / "junk.json").write_bytes(b"{}")
    name = azurite.new_container_name("folder")
    summary = upload_folder(tmp_path, f"azure://{name}/gen", env=conn_env(azurite))
    assert summary.written == {name: len(files)}
    assert blobs(azurite, name) == {f"gen/{p}": d for p, d in files.items()}


@needs_azurite
def test_script_uploads_without_azcopy(azurite: Azurite, tmp_path: Path) -> None:
    path = "/usr/bin:/bin"
    if shutil.which("azcopy", path=path):
        pytest.skip("azcopy is installed in /usr/bin or /bin")
    name = azurite.new_container_name("script")
    azurite.container(name).create_container()
    token = azurite.sas_token(name)
    output = tmp_path / "output"
    (output / "documents" / "org").mkdir(parents=True)
    (output / "documents" / "org" / "org-000001.json").write_bytes(b'{"id": 1}')
    (output / "documents" / "org.jsonl").write_bytes(b'{"id": 1}\n{"id": 2}\n')
    (output / ".gitkeep").write_bytes(b"")
    env = {
        "PATH": path,
        "HOME": str(tmp_path),
        "BLOB_CONTAINER_URL": azurite.container_url(name),
        "BLOB_SAS_TOKEN": token,
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "azcopy not found: uploaded with Data Generator's publisher" in result.stdout
    assert "2 files" in result.stdout
    assert signature(token) not in result.stdout + result.stderr
    assert blobs(azurite, name) == {
        "documents/org/org-000001.json": b'{"id": 1}',
        "documents/org.jsonl": b'{"id": 1}\n{"id": 2}\n',
    }
