"""Schemathesis hooks for scripts/schemathesis.sh: tus request bodies
(`application/offset+octet-stream`) are raw bytes."""

from hypothesis import strategies as st

import schemathesis

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))
