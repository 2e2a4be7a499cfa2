#!/usr/bin/env bash
# Upload ./output to an Azure Blob Storage container (`make azcopy_output`).
#
#   export BLOB_CONTAINER_URL="https://ACCOUNT.blob.core.windows.net/CONTAINER"
#   export BLOB_SAS_TOKEN="?sv=…"
#   make azcopy_output
#
# Uses azcopy when it is installed (the devcontainer installs it); otherwise Data
# Generator's own publisher (azure-storage-blob) from the repo's virtualenv.
# The SAS token is never printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
source_dir="${AZCOPY_SOURCE:-output}"

missing=()
[[ -n "${BLOB_CONTAINER_URL:-}" ]] || missing+=("BLOB_CONTAINER_URL")
[[ -n "${BLOB_SAS_TOKEN:-}" ]] || missing+=("BLOB_SAS_TOKEN")
if ((${#missing[@]})); then
    {
        echo "azcopy_output: ${missing[*]} not set."
        echo "  export BLOB_CONTAINER_URL=\"https://ACCOUNT.blob.core.windows.net/CONTAINER\"" \
            "(container → Properties → URL)"
        echo "  export BLOB_SAS_TOKEN=\"?sv=…\" (storage account → Shared access signature)"
    } >&2
    exit 2
fi
if [[ ! -d "$source_dir" ]]; then
    echo "azcopy_output: no ./$source_dir folder in $(pwd): generate some data first (make demo)" >&2
    exit 2
fi

if command -v azcopy >/dev/null 2>&1; then
    token="$BLOB_SAS_TOKEN"
    [[ "$token" == \?* ]] || token="?$token"
    azcopy copy "./$source_dir/*" "${BLOB_CONTAINER_URL%/}$token" --recursive
    echo "Uploaded with azcopy"
    exit 0
fi

python="$repo/.venv/bin/python"
if [[ ! -x "$python" ]]; then
    python="$(command -v python3 || true)"
fi
if [[ -z "$python" ]]; then
    echo "azcopy_output: neither azcopy nor Python found: install azcopy, or run make in $repo" >&2
    exit 2
fi
# The URL and token reach Python through the environment, not the command line.
report="$(PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$python" -m datagen.sinks.azure_upload "$source_dir")" ||
    exit $?
echo "azcopy not found: uploaded with Data Generator's publisher (azure-storage-blob)"
echo "$report"
