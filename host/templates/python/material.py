"""{{name}}: a Hangar material. Renders a notice with a title and a text.
A material must be a pure function of its props."""

import html
import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import types

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "text": {"type": "string", "maxLength": 2000},
    },
    "additionalProperties": False,
}
DEFAULTS = {"title": "Notice", "text": "Hello"}


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.MaterialInfo:
        return types.MaterialInfo(
            name="{{name}}",
            title="{{name}}",
            version="0.1.0",
            category="display",
            props_schema=json.dumps(SCHEMA),
            default_props=json.dumps(DEFAULTS),
        )

    def structure(self) -> types.MaterialStructure:
        # A leaf: no slots for children, no events.
        return types.MaterialStructure(role=types.MaterialRole.CONTENT, slots=[], events=[])

    def render(self, props_json: str) -> str:
        try:
            props = {**DEFAULTS, **json.loads(props_json)}
        except ValueError as err:
            raise Err(str(err))
        title = html.escape(str(props["title"]))
        text = html.escape(str(props["text"]))
        return f"<section><h3>{title}</h3><p>{text}</p></section>"
