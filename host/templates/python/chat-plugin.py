"""{{name}}: a Hangar chat plugin. Rejects messages with a configured word
and answers "ping" with "pong".

Configuration (JSON, set by an admin): {"banned": ["word", ...]}.
"""

import json

import wit_world
from wit_world.imports import host, types

KNOWN_KEYS = {"banned"}

# Parsed on the first call of an instance: an instance's configuration never
# changes. (Module-level code runs when the component is built, where there is
# no host to ask.)
_config = None


def config():
    global _config
    if _config is None:
        try:
            value = json.loads(host.config())
        except ValueError as err:
            host.log(types.LogLevel.ERROR, "invalid configuration", [("error", str(err))])
            value = {}
        if not isinstance(value, dict):
            value = {}
        for key in value.keys() - KNOWN_KEYS:
            host.log(types.LogLevel.WARN, "unknown configuration key", [("key", key)])
        _config = {"banned": [str(w).lower() for w in value.get("banned", [])]}
    return _config


class WitWorld(wit_world.WitWorld):
    def on_message(self, msg: types.ChatMessage) -> types.Outcome:
        text = msg.text.lower()
        for word in config()["banned"]:
            if word in text:
                host.log(types.LogLevel.INFO, "rejected a message", [("word", word)])
                return types.Outcome(types.Verdict_Reject("this word is not allowed here"), [])
        replies = [types.BotReply("pong")] if text.strip() == "ping" else []
        return types.Outcome(types.Verdict_Allow(), replies)
