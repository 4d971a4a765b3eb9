// {{name}}: a Hangar material. Renders a notice with a title and a text.
// A material must be a pure function of its props.

const SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 200 },
    text: { type: 'string', maxLength: 2000 },
  },
  additionalProperties: false,
};
const DEFAULTS = { title: 'Notice', text: 'Hello' };

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function describe() {
  return {
    name: '{{name}}',
    title: '{{name}}',
    version: '0.1.0',
    category: 'display',
    propsSchema: JSON.stringify(SCHEMA),
    defaultProps: JSON.stringify(DEFAULTS),
  };
}

// A leaf: no slots for children, no events.
export function structure() {
  return { role: 'content', slots: [], events: [] };
}

// An error is thrown: it becomes the `err` of the result.
export function render(propsJson) {
  const props = { ...DEFAULTS, ...JSON.parse(propsJson) };
  return `<section><h3>${escape(props.title)}</h3><p>${escape(props.text)}</p></section>`;
}
