"""{{name}}: a Hangar upload hook. Rejects files over a configured size and
files whose first bytes say they are Windows executables.

Configuration (JSON, set by an admin): {"max_bytes": 10485760}.
"""

import json

import wit_world
from wit_world.imports import host, types

_config = None


def config():
    global _config
    if _config is None:
        try:
            value = json.loads(host.config())
        except ValueError:
            value = {}
        _config = {"max_bytes": int(value.get("max_bytes", 10 << 20)) if isinstance(value, dict) else 10 << 20}
    return _config


class WitWorld(wit_world.WitWorld):
    def on_upload(self, file: types.FileInfo, head: bytes) -> types.Verdict:
        limit = config()["max_bytes"]
        if file.size > limit:
            return types.Verdict_Reject(f"files are limited to {limit} bytes")
        if head.startswith(b"MZ"):
            return types.Verdict_Reject("executables are not accepted")
        return types.Verdict_Allow()
