// The outline (the page's tree) and the inspector (the selected node's
// props, version and event bindings).

import { element } from '/sdk/js/hangar-client.js';

/** The actions a binding may perform, with their parameters. */
export const ACTIONS = {
  navigate: { title: 'Navigate to a URL', params: [['url', 'URL', '/thanks']] },
  'submit-form': { title: 'Submit the enclosing form', params: [] },
  'show-message': { title: 'Show a message', params: [['text', 'Message', 'Thank you!']] },
  'set-variable': { title: 'Set a page variable', params: [['name', 'Variable', 'choice'], ['value', 'Value', '']] },
};

/** Renders the outline of `doc` into `root`; `title(node)` names a node. */
export function renderOutline(root, doc, selected, { select, title }) {
  const item = (node) => {
    const row = element('div', {
      class: node.id === selected ? 'o-row selected' : 'o-row', 'data-id': node.id, role: 'treeitem',
      'aria-selected': String(node.id === selected), tabindex: '-1',
      onclick: () => select(node.id),
    }, title(node), element('small', {}, ` ${node.id}`));
    const groups = [];
    for (const [slot, list] of Object.entries(node.slots ?? {})) {
      if (!list.length) continue;
      groups.push(element('li', { class: 'o-slot' }, element('span', { class: 'o-slot-name' }, slot), element('ul', { role: 'group' }, ...list.map(item))));
    }
    if (node.children?.length) groups.push(element('li', { class: 'o-slot' }, element('span', { class: 'o-slot-name' }, 'children'), element('ul', { role: 'group' }, ...node.children.map(item))));
    return element('li', {}, row, groups.length ? element('ul', { role: 'group' }, ...groups) : '');
  };
  root.replaceChildren(doc.page.nodes.length
    ? element('ul', { role: 'tree' }, ...doc.page.nodes.map(item))
    : element('p', { class: 'empty' }, 'No nodes yet.'));
}

function control(key, schema, value, onChange) {
  const id = `prop-${key}`;
  if (schema.enum) {
    const select = element('select', { id, name: key }, ...schema.enum.map((v) => element('option', { value: v, selected: v === value }, String(v))));
    select.addEventListener('change', () => onChange(select.value));
    return select;
  }
  if (schema.type === 'boolean') {
    const box = element('input', { id, name: key, type: 'checkbox', checked: Boolean(value) });
    box.addEventListener('change', () => onChange(box.checked));
    return box;
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    const input = element('input', { id, name: key, type: 'number', value: value ?? '', min: schema.minimum, max: schema.maximum, step: schema.type === 'integer' ? 1 : 'any' });
    input.addEventListener('input', () => onChange(input.value === '' ? undefined : Number(input.value)));
    return input;
  }
  const colour = schema.format === 'color';
  const long = !colour && (schema.maxLength || 0) > 200;
  const input = long
    ? element('textarea', { id, name: key, rows: 3 }, value ?? '')
    : element('input', { id, name: key, type: colour ? 'color' : 'text', value: value ?? '' });
  input.addEventListener('input', () => onChange(input.value));
  return input;
}

/** Shows validation messages under the inspector's fields. */
export function showFieldErrors(root, errors) {
  for (const node of root.querySelectorAll('.message')) node.textContent = '';
  for (const error of errors) {
    const field = error.path.split('/')[1] || '';
    const target = root.querySelector(`.message[data-field="${CSS.escape(field)}"]`) || root.querySelector('.message[data-field=""]');
    if (target) target.textContent = error.message;
  }
}

function eventEditor(node, event, setEvent) {
  const bound = node.events?.[event.name];
  const kind = element('select', { 'aria-label': `${event.name} action`, 'data-event': event.name },
    element('option', { value: '' }, 'Do nothing'),
    ...Object.entries(ACTIONS).map(([name, a]) => element('option', { value: name, selected: bound?.action === name }, a.title)));
  const params = element('div', { class: 'params' });
  const current = () => {
    const action = kind.value;
    if (!action) return null;
    const out = { action };
    for (const input of params.querySelectorAll('input')) out[input.name] = input.value;
    return out;
  };
  const drawParams = () => {
    const spec = ACTIONS[kind.value];
    params.replaceChildren(...(spec?.params ?? []).map(([name, title, example]) => {
      const input = element('input', { name, 'aria-label': `${event.name} ${title}`, value: bound?.action === kind.value ? bound[name] ?? '' : example });
      input.addEventListener('input', () => setEvent(event.name, current()));
      return element('label', {}, title, input);
    }));
  };
  kind.addEventListener('change', () => { drawParams(); setEvent(event.name, current()); });
  drawParams();
  return element('div', { class: 'field event' }, element('label', {}, `On ${event.title || event.name}`), kind, params);
}

/**
 * Renders the inspector of `node` (null: nothing selected).
 * @param {object} ctx {info, versions, latest, setProp, setVersion, setEvent, errors}
 */
export function renderInspector(root, node, ctx) {
  if (!node) { root.replaceChildren(element('p', { class: 'empty' }, 'Select a node on the canvas or in the outline.')); return; }
  const { info } = ctx;
  if (!info) { root.replaceChildren(element('p', { class: 'empty' }, `${node.material}@${node.version} is not available.`)); return; }
  const picker = element('select', { 'aria-label': 'version', id: 'node-version' }, ...ctx.versions.map((v) => element('option', { value: v, selected: v === node.version }, v)));
  picker.addEventListener('change', () => ctx.setVersion(picker.value));
  const newer = ctx.latest && ctx.latest !== node.version;
  const upgrade = element('button', { type: 'button', class: 'ghost', id: 'upgrade', disabled: !newer, onclick: () => ctx.setVersion(ctx.latest) }, newer ? `Upgrade to ${ctx.latest}` : 'Latest');
  const schema = info.props_schema || {};
  const required = new Set(schema.required || []);
  const fields = Object.entries(schema.properties || {}).map(([key, prop]) => element('div', { class: 'field' },
    element('label', { for: `prop-${key}` }, prop.title || key, required.has(key) ? element('span', { class: 'required' }, ' *') : ''),
    control(key, prop, node.props[key] ?? prop.default, (value) => ctx.setProp(key, value)),
    element('div', { class: 'message', 'data-field': key })));
  const events = (info.events ?? []).map((event) => eventEditor(node, event, ctx.setEvent));
  root.replaceChildren(
    element('div', { class: 'version-row' }, element('strong', {}, info.title), picker, upgrade),
    element('div', { class: 'node-id' }, 'id ', element('code', {}, node.id), info.role !== 'content' ? element('span', { class: 'badge' }, info.role) : ''),
    element('div', { class: 'message', 'data-field': '' }),
    ...fields,
    ...(events.length ? [element('h3', {}, 'Actions'), ...events] : []));
  showFieldErrors(root, ctx.errors ?? []);
}
