// Hangar page designer (docs/materials.md, "Designer"): builds pages from
// materials. Materials are loaded into the page and previews render here,
// on every edit, without a round trip; the server validates and stores the
// page on save and renders the published page.

import { element } from '/sdk/js/hangar-client.js';
import { loadMaterial } from '/sdk/js/hangar-materials.js';
import { Canvas, Library, MATERIAL_TYPE, freshNode } from './canvas.js';
import { Doc, cloneWithNewIds, serialise } from './model.js';
import { renderInspector, renderOutline, showFieldErrors } from './panels.js';

const $ = (selector) => document.querySelector(selector);
const state = { materials: [], revision: null, pageId: 'home', selected: null, clipboard: null, errors: [] };
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

async function describeRemote(name, version) {
  const { ok, data } = await call('GET', `/api/materials/${name}@${version}`);
  if (!ok) throw new Error(data?.error?.message ?? `cannot describe ${name}@${version}`);
  return data;
}

const doc = new Doc();
const library = new Library(loadMaterial, describeRemote);
const canvas = new Canvas($('#nodes'), doc, library, {
  select: (id) => select(id),
  status,
  add: (ref, place, index) => addMaterial(ref, place, index),
  duplicate: (id) => doc.duplicate(id),
  // A version the page cannot load is rendered by the server.
  preview: async (node) => {
    const { ok, data } = await call('POST', `/api/materials/${node.material}@${node.version}/render`, node.props);
    if (!ok) throw new Error(data?.error?.message ?? 'render failed');
    return data.html;
  },
});

function titleOf(node) {
  return library.peek(node.material, node.version)?.info?.title ?? node.material;
}

function select(id) {
  state.selected = id;
  state.errors = [];
  canvas.select(id);
  drawOutline();
  drawInspector();
}

function drawOutline() {
  renderOutline($('#outline'), doc, state.selected, { select, title: titleOf });
}

function drawInspector() {
  const found = state.selected ? doc.find(state.selected) : null;
  const node = found?.node ?? null;
  const material = node && state.materials.find((m) => m.name === node.material);
  const entry = node && library.peek(node.material, node.version);
  if (node && !entry) { library.load(node.material, node.version).then(drawInspector); }
  renderInspector($('#props'), node, {
    info: entry?.info,
    versions: material ? material.versions : node ? [node.version] : [],
    latest: material?.latest,
    errors: state.errors,
    setProp: (key, value) => doc.setProp(node.id, key, value),
    setVersion: (version) => changeVersion(node, version),
    setEvent: (event, action) => doc.setEvent(node.id, event, action),
  });
}

async function changeVersion(node, version) {
  const entry = await library.load(node.material, version);
  const slots = new Set((entry.info?.slots ?? []).map((s) => s.name));
  const stranded = Object.entries(node.slots ?? {}).filter(([name, list]) => list.length && !slots.has(name));
  if (stranded.length) {
    status(`${node.material}@${version} has no slot ${stranded.map(([n]) => n).join(', ')}: move those nodes first`, true);
    drawInspector();
    return;
  }
  doc.setVersion(node.id, version);
}

doc.onChange((what) => {
  $('#undo').disabled = doc.undoStack.length === 0;
  $('#redo').disabled = doc.redoStack.length === 0;
  if (what.structure) {
    if (what.select !== undefined) state.selected = what.select;
    if (state.selected && !doc.find(state.selected)) state.selected = null;
    canvas.selected = state.selected;
    canvas.render();
    drawOutline();
    drawInspector();
    return;
  }
  if (what.node) {
    canvas.refresh(what.node);
    if (what.events) drawOutline();
    const found = doc.find(what.node);
    const entry = found && library.peek(found.node.material, found.node.version);
    if (entry?.material) {
      state.errors = entry.material.validate(found.node.props);
      showFieldErrors($('#props'), state.errors);
    }
  }
});

/** Where a palette click puts a material: into the selected node's first slot, else after it, else at the end. */
function placeForClick() {
  const found = state.selected ? doc.find(state.selected) : null;
  if (!found) return { place: { parent: null, slot: null }, index: doc.page.nodes.length };
  const slot = library.peek(found.node.material, found.node.version)?.info?.slots?.[0];
  if (slot) return { place: { parent: found.node.id, slot: slot.name }, index: (found.node.slots?.[slot.name] ?? []).length };
  return { place: { parent: found.parent?.id ?? null, slot: slotOf(found) }, index: found.index + 1 };
}

function slotOf(found) {
  if (!found.parent) return null;
  for (const [name, list] of Object.entries(found.parent.slots ?? {})) if (list === found.list) return name;
  return null;
}

async function addMaterial(ref, place, index) {
  const [name, version] = ref.split('@');
  const entry = await library.load(name, version);
  if (!entry.info) { status(`${ref} is not available`, true); return; }
  doc.insert(freshNode(entry.info, name, version), place, index);
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
      const item = element('button', {
        class: 'palette-item', type: 'button', 'data-material': m.name, draggable: 'true',
        onclick: () => { const { place, index } = placeForClick(); addMaterial(`${m.name}@${m.latest}`, place, index); },
      }, m.title, element('small', {}, `${m.name} ${m.latest}`));
      item.addEventListener('dragstart', (event) => {
        event.dataTransfer.setData(MATERIAL_TYPE, `${m.name}@${m.latest}`);
        event.dataTransfer.effectAllowed = 'copy';
      });
      container.append(item);
    }
  }
  // Every latest version is loaded into the page now, so adding and
  // previewing keep working if the network goes.
  await Promise.all(data.map((m) => library.load(m.name, m.latest)));
  document.documentElement.dataset.materialsLoaded = 'true';
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
    doc.reset({ title: '', nodes: [] }); state.revision = null;
    status(`new page ${state.pageId}`);
  } else if (!ok) {
    status(data?.error?.message ?? 'cannot load the page', true);
    return;
  } else {
    const used = new Set();
    const walk = (nodes) => nodes.forEach((n) => { used.add(`${n.material}@${n.version}`); Object.values(n.slots ?? {}).forEach(walk); walk(n.children ?? []); });
    walk(data.page.nodes);
    await Promise.all([...used].map((ref) => library.load(...ref.split('@'))));
    doc.reset(data.page); state.revision = etag;
    status(`loaded revision ${data.revision}`);
  }
  $('#page-title').value = doc.page.title;
  select(doc.page.nodes[0]?.id ?? null);
}

async function savePage(event) {
  event.preventDefault();
  if (!(await ensureToken())) { status('sign in to save', true); return; }
  state.pageId = $('#page-id').value.trim();
  const headers = state.revision ? { 'if-match': state.revision } : {};
  const { ok, data, etag } = await call('PUT', `/api/pages/${state.pageId}`, serialise(doc.page), headers);
  if (ok) {
    state.revision = etag;
    status(`saved revision ${data.revision}`);
    $('#open').href = `/p/${state.pageId}`;
  } else {
    status(data?.error?.message ?? 'save failed', true);
    if (data?.error?.errors) { state.errors = data.error.errors; showFieldErrors($('#props'), state.errors); }
  }
}

function typing(target) {
  return target.closest('input, textarea, select, [contenteditable]');
}

document.addEventListener('keydown', (event) => {
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === 'z' && !event.shiftKey) { if (!typing(event.target) || !event.target.value) { event.preventDefault(); doc.undo(); } return; }
  if (mod && (key === 'y' || (key === 'z' && event.shiftKey))) { event.preventDefault(); doc.redo(); return; }
  if (typing(event.target) || !state.selected) return;
  if (key === 'delete' || key === 'backspace') { event.preventDefault(); doc.remove(state.selected); }
  else if (mod && key === 'c') copy();
  else if (mod && key === 'v' && state.clipboard) { event.preventDefault(); paste(); }
  else if (mod && key === 'd') { event.preventDefault(); doc.duplicate(state.selected); }
});

function copy() {
  const found = state.selected && doc.find(state.selected);
  if (!found) return;
  state.clipboard = structuredClone(found.node);
  status('copied');
}

function paste() {
  const { place, index } = placeForClick();
  doc.insert(cloneWithNewIds(state.clipboard), place, index);
}

// A request that cannot reach the server says so; the page stays as it is.
const guarded = (action) => (event) => action(event).catch((err) => status(`cannot reach the server (${err.message}); nothing was lost`, true));
$('#page-form').addEventListener('submit', (event) => { event.preventDefault(); guarded(savePage)(event); });
$('#load').addEventListener('click', guarded(loadPage));
$('#undo').addEventListener('click', () => doc.undo());
$('#redo').addEventListener('click', () => doc.redo());
$('#copy').addEventListener('click', copy);
$('#paste').addEventListener('click', () => { if (state.clipboard) paste(); });
$('#page-title').addEventListener('input', () => doc.setTitle($('#page-title').value));
$('#use-token').addEventListener('click', () => {
  token = $('#token').value.trim();
  sessionStorage.setItem('hangar-designer-token', token);
  $('#signin').hidden = true;
});
const initial = new URLSearchParams(location.search).get('page');
if (initial) $('#page-id').value = initial;
await loadPalette();
await loadPage();
document.documentElement.dataset.designerReady = 'true';
