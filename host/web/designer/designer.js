// Hangar page designer: plain browser JavaScript over the materials and
// pages APIs (docs/materials.md). The page is a list of nodes, each a
// material pinned to a version with its props.

import { element } from '/sdk/js/hangar-client.js';

const $ = (selector) => document.querySelector(selector);
const state = { materials: [], described: new Map(), nodes: [], selected: -1, revision: null, pageId: 'home' };
let token = sessionStorage.getItem('hangar-designer-token') || '';

async function call(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { ok: response.ok, status: response.status, data, etag: response.headers.get('etag') };
}

function status(text, error = false) {
  const node = $('#page-status');
  node.textContent = text;
  node.className = error ? 'status error' : 'status';
}

async function describe(name, version) {
  const key = `${name}@${version}`;
  if (!state.described.has(key)) {
    const { ok, data } = await call('GET', `/api/materials/${key}`);
    if (!ok) throw new Error(data && data.error ? data.error.message : `cannot load ${key}`);
    state.described.set(key, data);
  }
  return state.described.get(key);
}

async function loadPalette() {
  const { ok, data } = await call('GET', '/api/materials');
  if (!ok) { status('materials unavailable', true); return; }
  state.materials = data;
  const groups = new Map();
  for (const m of data) {
    if (!groups.has(m.category)) groups.set(m.category, []);
    groups.get(m.category).push(m);
  }
  const container = $('#palette-groups');
  container.replaceChildren();
  for (const [category, items] of [...groups].sort()) {
    container.append(element('h3', {}, category));
    for (const m of items) {
      container.append(element('button', {
        class: 'palette-item', type: 'button', 'data-material': m.name,
        onclick: () => addNode(m.name, m.latest),
      }, m.title, element('small', {}, `${m.name} ${m.latest}`)));
    }
  }
}

async function addNode(name, version) {
  const info = await describe(name, version);
  state.nodes.push({ material: name, version, props: structuredClone(info.default_props), children: [] });
  state.selected = state.nodes.length - 1;
  renderCanvas();
  renderInspector();
}

const previews = new Map();
function schedulePreview(index) {
  clearTimeout(previews.get(index));
  previews.set(index, setTimeout(() => preview(index), 250));
}

async function preview(index) {
  const node = state.nodes[index];
  const target = document.querySelector(`#nodes li[data-index="${index}"] .preview`);
  if (!node || !target) return;
  const { ok, data } = await call('POST', `/api/materials/${node.material}@${node.version}/render`, node.props);
  if (ok) {
    // The server sanitised this HTML; it only shows what the page will.
    target.innerHTML = data.html;
  } else {
    target.replaceChildren(element('div', { class: 'preview-error' }, data && data.error ? data.error.message : 'render failed'));
  }
  if (!ok && index === state.selected && data && data.error && data.error.errors) showFieldErrors(data.error.errors);
  else if (index === state.selected) showFieldErrors([]);
}

function renderCanvas() {
  const list = $('#nodes');
  list.replaceChildren(...state.nodes.map((node, index) => {
    const move = (delta) => (event) => {
      event.stopPropagation();
      const to = index + delta;
      if (to < 0 || to >= state.nodes.length) return;
      [state.nodes[index], state.nodes[to]] = [state.nodes[to], state.nodes[index]];
      state.selected = to;
      renderCanvas(); renderInspector();
    };
    const remove = (event) => {
      event.stopPropagation();
      state.nodes.splice(index, 1);
      state.selected = Math.min(state.selected, state.nodes.length - 1);
      renderCanvas(); renderInspector();
    };
    return element('li', {
      class: index === state.selected ? 'node selected' : 'node', 'data-index': index, 'data-material': node.material,
      onclick: () => { state.selected = index; renderCanvas(); renderInspector(); },
    },
    element('div', { class: 'node-bar' },
      element('span', { class: 'name' }, `${node.material} ${node.version}`),
      element('button', { class: 'ghost small', type: 'button', title: 'move up', onclick: move(-1) }, '↑'),
      element('button', { class: 'ghost small', type: 'button', title: 'move down', onclick: move(1) }, '↓'),
      element('button', { class: 'ghost small', type: 'button', title: 'remove', 'data-action': 'remove', onclick: remove }, '×')),
    element('div', { class: 'preview' }));
  }));
  $('#empty').hidden = state.nodes.length > 0;
  state.nodes.forEach((_, index) => preview(index));
}

function showFieldErrors(errors) {
  for (const node of document.querySelectorAll('#props .message')) node.textContent = '';
  for (const error of errors) {
    const field = error.path.split('/')[1] || '';
    const target = document.querySelector(`#props .message[data-field="${field}"]`) || document.querySelector('#props .message[data-field=""]');
    if (target) target.textContent = error.message;
  }
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

async function renderInspector() {
  const panel = $('#props');
  const node = state.nodes[state.selected];
  if (!node) { panel.replaceChildren(element('p', { class: 'empty' }, 'Select a node on the canvas.')); return; }
  const info = await describe(node.material, node.version);
  const material = state.materials.find((m) => m.name === node.material);
  const versions = material ? material.versions : [node.version];
  const picker = element('select', { 'aria-label': 'version', id: 'node-version' }, ...versions.map((v) => element('option', { value: v, selected: v === node.version }, v)));
  picker.addEventListener('change', () => setVersion(node, picker.value));
  const newer = material && material.latest !== node.version;
  const upgrade = element('button', { type: 'button', class: 'ghost', id: 'upgrade', disabled: !newer, onclick: () => setVersion(node, material.latest) }, newer ? `Upgrade to ${material.latest}` : 'Latest');
  const schema = info.props_schema || {};
  const required = new Set(schema.required || []);
  const fields = Object.entries(schema.properties || {}).map(([key, prop]) => {
    const input = control(key, prop, node.props[key] ?? prop.default, (value) => {
      if (value === undefined) delete node.props[key]; else node.props[key] = value;
      schedulePreview(state.selected);
    });
    return element('div', { class: 'field' },
      element('label', { for: `prop-${key}` }, prop.title || key, required.has(key) ? element('span', { class: 'required' }, ' *') : ''),
      input,
      element('div', { class: 'message', 'data-field': key }));
  });
  panel.replaceChildren(
    element('div', { class: 'version-row' }, element('strong', {}, info.title), picker, upgrade),
    element('div', { class: 'message', 'data-field': '' }),
    ...fields);
}

async function setVersion(node, version) {
  node.version = version;
  await describe(node.material, version);
  renderCanvas();
  renderInspector();
}

async function ensureToken() {
  if (token) return true;
  // A demo server issues sessions to anyone; elsewhere paste a token.
  const { ok, data } = await call('POST', '/api/session', { user: 'designer', role: 'agent' });
  if (ok) { token = data.token; sessionStorage.setItem('hangar-designer-token', token); return true; }
  $('#signin').hidden = false;
  return false;
}

async function loadPage() {
  state.pageId = $('#page-id').value.trim();
  // Page schemas and their history are for staff only.
  if (!(await ensureToken())) { status('sign in to load pages', true); return; }
  $('#open').href = `/p/${state.pageId}`;
  const { ok, status: code, data, etag } = await call('GET', `/api/pages/${state.pageId}`);
  if (code === 404) {
    state.nodes = []; state.revision = null; $('#page-title').value = '';
    status(`new page ${state.pageId}`);
  } else if (!ok) {
    status(data && data.error ? data.error.message : 'cannot load the page', true);
    return;
  } else {
    state.nodes = data.page.nodes; state.revision = etag; $('#page-title').value = data.page.title || '';
    status(`loaded revision ${data.revision}`);
  }
  state.selected = state.nodes.length ? 0 : -1;
  renderCanvas();
  renderInspector();
}

async function savePage(event) {
  event.preventDefault();
  if (!(await ensureToken())) { status('sign in to save', true); return; }
  state.pageId = $('#page-id').value.trim();
  const headers = state.revision ? { 'if-match': state.revision } : {};
  const page = { title: $('#page-title').value, nodes: state.nodes };
  const { ok, data, etag } = await call('PUT', `/api/pages/${state.pageId}`, page, headers);
  if (ok) {
    state.revision = etag;
    status(`saved revision ${data.revision}`);
    $('#open').href = `/p/${state.pageId}`;
  } else {
    status(data && data.error ? data.error.message : 'save failed', true);
    if (data && data.error && data.error.errors) showFieldErrors(data.error.errors);
  }
}

$('#page-form').addEventListener('submit', savePage);
$('#load').addEventListener('click', loadPage);
$('#use-token').addEventListener('click', () => {
  token = $('#token').value.trim();
  sessionStorage.setItem('hangar-designer-token', token);
  $('#signin').hidden = true;
});
const initial = new URLSearchParams(location.search).get('page');
if (initial) $('#page-id').value = initial;
await loadPalette();
await loadPage();
