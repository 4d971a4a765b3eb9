"""tuspy (the tus project's Python client) against a Hangar server.

Usage: tuspy_client.py BASE_URL TOKEN

Uploads 5 MiB in 1 MiB chunks with SHA-1 checksums, stops after 2 MiB
(an interrupted client), resumes with a new uploader from the upload's URL,
then sends one chunk whose checksum is wrong. Prints a JSON object: the
file id and SHA-256 of the data, the offset the resumed uploader started
from, and the status of the wrong checksum with the offset after it.
"""

import hashlib
import io
import json
import os
import sys

from tusclient import client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

MIB = 1 << 20


class LyingUploader(Uploader):
    """Sends the SHA-1 of other bytes than the chunk's."""

    CHECKSUM_ALGORITHM_PAIR = ("sha1", lambda chunk: hashlib.sha1(chunk + b"!"))


def main():
    base, token = sys.argv[1], sys.argv[2]
    tus = client.TusClient(f"{base}/api/tus", headers={"Authorization": f"Bearer {token}"})
    data = os.urandom(5 * MIB)
    first = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=MIB,
        metadata={"filename": "ledger.txt", "filetype": "text/plain"},
        upload_checksum=True,
        store_url=False,
    )
    first.upload(stop_at=2 * MIB)
    url = first.url

    resumed = tus.uploader(
        file_stream=io.BytesIO(data), url=url, chunk_size=MIB, upload_checksum=True
    )
    resumed_from = resumed.offset
    resumed.upload()
    file_id = resumed.request.response_headers.get("hangar-file-id")

    other = os.urandom(2 * MIB)
    lying = LyingUploader(
        client=tus,
        file_stream=io.BytesIO(other),
        chunk_size=MIB,
        metadata={"filename": "wrong.txt"},
        upload_checksum=True,
    )
    try:
        lying.upload_chunk()
        mismatch = 200
    except (TusUploadFailed, TusCommunicationError) as err:
        mismatch = err.status_code
    after = Uploader(client=tus, file_stream=io.BytesIO(other), url=lying.url).offset

    print(json.dumps({
        "file_id": file_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "resumed_from": resumed_from,
        "mismatch_status": mismatch,
        "offset_after_mismatch": after,
    }))


if __name__ == "__main__":
    main()
