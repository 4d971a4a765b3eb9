// Hangar admin console: plain browser JavaScript over the admin API
// (docs/admin.md) and the hub WebSocket for live alerts.

import { element } from '/sdk/js/hangar-client.js';

const $ = (selector) => document.querySelector(selector);
let token = sessionStorage.getItem('hangar-admin-token') || '';
let plugins = [];
let socket = null;

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `${response.status} ${text}`;
    throw new Error(message);
  }
  return data;
}

function say(selector, text, kind = '') {
  const node = $(selector);
  node.textContent = text;
  node.className = `note ${kind}`;
}

async function versionsOf(name) {
  const response = await fetch(`/registry/v1/packages/${encodeURIComponent(name)}`);
  if (!response.ok) return [];
  const data = await response.json();
  return data.versions.map((v) => ({ version: v.version, yanked: v.yanked }));
}

async function renderPlugins() {
  plugins = await api('GET', '/api/admin/plugins');
  plugins.sort((a, b) => a.name.localeCompare(b.name));
  const body = $('#plugins tbody');
  const rows = [];
  for (const p of plugins) {
    const versions = await versionsOf(p.name);
    const picker = element('select', { 'aria-label': `version of ${p.name}`, 'data-plugin': p.name });
    for (const v of versions) {
      const option = element('option', { value: v.version }, v.version + (v.yanked ? ' (yanked)' : ''));
      if (v.version === p.version) option.selected = true;
      picker.append(option);
    }
    const activate = element('button', { 'data-action': 'activate', onclick: () => act(p.name, 'activate', picker.value) }, 'Activate');
    const rollback = element('button', { class: 'ghost', 'data-action': 'rollback', onclick: () => act(p.name, 'rollback') }, 'Roll back');
    const toggle = p.state === 'disabled'
      ? element('button', { class: 'ghost', onclick: () => act(p.name, 'enable') }, 'Enable')
      : element('button', { class: 'danger', onclick: () => act(p.name, 'disable') }, p.state === 'quarantined' ? 'Disable' : 'Disable');
    const config = element('button', { class: 'ghost', onclick: () => openConfig(p.name) }, 'Config');
    const settings = element('button', { class: 'ghost', 'data-action': 'settings', onclick: () => openSettings(p.name) }, 'Settings');
    if (p.state === 'quarantined') toggle.textContent = 'Disable';
    const enable = p.state === 'quarantined'
      ? element('button', { class: 'ghost', onclick: () => act(p.name, 'enable') }, 'Lift quarantine') : '';
    rows.push(element('tr', { 'data-plugin': p.name },
      element('td', {}, element('strong', {}, p.name)),
      element('td', {}, p.world),
      element('td', { class: 'version' }, p.version),
      element('td', {}, element('span', { class: `pill ${p.state}` }, p.state)),
      element('td', { class: 'num' }, String(p.calls)),
      element('td', { class: 'num' }, String(p.failures)),
      element('td', { class: 'num' }, p.p50_us == null ? '–' : `${p.p50_us} µs`),
      element('td', { class: 'num' }, p.p99_us == null ? '–' : `${p.p99_us} µs`),
      element('td', {}, element('div', { class: 'actions' }, picker, activate, rollback)),
      element('td', {}, element('div', { class: 'actions' }, config, settings, toggle, enable)),
    ));
  }
  body.replaceChildren(...rows);
}

/** One node's state of one plugin: its version, flagged when it is not the saved one. */
function nodeCell(node) {
  if (node.current) return element('td', { 'data-node': node.node }, element('span', { class: 'pill live' }, node.version));
  const state = node.error ? 'failed' : 'lagging';
  const label = node.error ? `failed${node.version ? ` (runs ${node.version})` : ''}` : `lagging${node.version ? ` (runs ${node.version})` : ''}`;
  return element('td', { 'data-node': node.node, title: node.error || 'has not applied the saved version yet' },
    element('span', { class: `pill ${state}` }, label));
}

/** Each live node's version of each plugin; hidden on a node that is alone. */
async function renderCluster() {
  const { plugins: view } = await api('GET', '/api/admin/cluster/plugins');
  const nodes = [...new Set(view.flatMap((p) => p.nodes.map((n) => n.node)))].sort();
  $('#cluster-card').hidden = nodes.length === 0;
  if (!nodes.length) return;
  const lagging = view.filter((p) => p.lagging.length).length;
  $('#cluster-summary').textContent = `${nodes.length} live nodes` + (lagging ? ` · ${lagging} plugin${lagging > 1 ? 's' : ''} not everywhere` : '');
  $('#cluster-summary').className = `pill ${lagging ? 'lagging' : 'live'}`;
  $('#cluster thead').replaceChildren(element('tr', {},
    element('th', {}, 'Plugin'), element('th', {}, 'Saved version'), ...nodes.map((id) => element('th', {}, id))));
  $('#cluster tbody').replaceChildren(...view.map((p) => {
    const byNode = new Map(p.nodes.map((n) => [n.node, n]));
    return element('tr', { 'data-plugin': p.name },
      element('td', {}, element('strong', {}, p.name)),
      element('td', { class: 'version' }, p.version),
      ...nodes.map((id) => (byNode.has(id) ? nodeCell(byNode.get(id)) : element('td', { 'data-node': id }, '–'))));
  }));
}

/** What an activation or rollback answered about the other nodes. */
function nodesNote(nodes) {
  if (!nodes || !nodes.length) return '';
  const behind = nodes.filter((n) => !n.current);
  if (!behind.length) return ` on all ${nodes.length} nodes`;
  return `; not applied on ${behind.map((n) => n.node + (n.error ? ` (${n.error})` : ' (still applying)')).join(', ')}`;
}

async function act(name, action, version) {
  say('#plugin-message', `${action} ${name}${version ? ' ' + version : ''}…`);
  try {
    const path = `/api/admin/plugins/${encodeURIComponent(name)}/${action}`;
    // An activation answers at once with a job when it has to fetch or
    // compile; the console follows it and says how long it has run.
    let result = await api('POST', path, action === 'activate' ? { version, wait_ms: 0 } : undefined);
    while (result && result.status === 'running' && result.href) {
      say('#plugin-message', `${action} ${name} ${version}: fetching and compiling… ${(result.elapsed_ms / 1000).toFixed(0)} s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const job = await api('GET', result.href);
      if (job.status === 'failed') throw new Error(job.error.message);
      result = job.status === 'done' ? job.result : job;
    }
    const detail = result && result.version ? ` — ${name} ${result.version} active` +
      (result.elapsed_ms != null ? ` (${result.cached ? 'cached' : 'fetched and compiled'}, ${result.elapsed_ms.toFixed(1)} ms)` : '') : '';
    const nodes = nodesNote(result && result.nodes);
    const complete = !result || !result.nodes || result.nodes.every((n) => n.current);
    say('#plugin-message', `${action}: done${detail}${nodes}`, complete ? 'ok' : 'error');
  } catch (err) {
    say('#plugin-message', `${action} ${name}: ${err.message}`, 'error');
  }
  await refresh();
}

async function openConfig(name) {
  $('#config-card').hidden = false;
  $('#config-name').textContent = name;
  say('#config-message', '');
  try {
    const config = await api('GET', `/api/admin/plugins/${encodeURIComponent(name)}/config`);
    $('#config-text').value = JSON.stringify(config, null, 2);
  } catch (err) {
    say('#config-message', err.message, 'error');
  }
}

async function saveConfig() {
  const name = $('#config-name').textContent;
  let value;
  try { value = JSON.parse($('#config-text').value); } catch (err) {
    say('#config-message', `not valid JSON: ${err.message}`, 'error');
    return;
  }
  try {
    await api('PUT', `/api/admin/plugins/${encodeURIComponent(name)}/config`, value);
    say('#config-message', 'saved: applies from the next call', 'ok');
  } catch (err) {
    say('#config-message', err.message, 'error');
  }
}

/** The plugin whose settings are open: its overrides and effective settings. */
let editing = null;

async function openSettings(name) {
  $('#settings-card').hidden = false;
  $('#settings-name').textContent = name;
  say('#settings-message', '');
  try {
    const { overrides, settings } = await api('GET', `/api/admin/plugins/${encodeURIComponent(name)}/settings`);
    editing = { name, overrides, settings };
    showSettings(settings);
  } catch (err) {
    say('#settings-message', err.message, 'error');
  }
}

function showSettings(s) {
  const pooled = s.isolation.mode === 'pooled';
  $('#settings-isolation').value = s.isolation.mode;
  $('#settings-max-uses').value = pooled ? s.isolation.max_uses : '';
  $('#settings-max-idle').value = pooled ? s.isolation.max_idle : '';
  $('#settings-deadline').value = s.limits.deadline_ms;
  $('#settings-memory').value = Math.round(s.limits.memory_bytes / 1048576);
  $('#settings-policy').value = s.failure_policy;
  $('#settings-quarantine').value = s.quarantine_after;
}

/** The overrides with every field the admin changed from the shown settings. */
function changedOverrides() {
  const { overrides, settings: s } = editing;
  const next = { ...overrides };
  const number = (id) => Number($(id).value);
  const mode = $('#settings-isolation').value;
  const isolation = mode === 'pooled'
    ? { mode, max_uses: number('#settings-max-uses'), max_idle: number('#settings-max-idle') }
    : { mode };
  if (JSON.stringify(isolation) !== JSON.stringify(s.isolation)) next.isolation = isolation;
  if (number('#settings-deadline') !== s.limits.deadline_ms) next.deadline_ms = number('#settings-deadline');
  if (number('#settings-memory') !== Math.round(s.limits.memory_bytes / 1048576)) {
    next.memory_bytes = number('#settings-memory') * 1048576;
  }
  if ($('#settings-policy').value !== s.failure_policy) next.failure_policy = $('#settings-policy').value;
  if (number('#settings-quarantine') !== s.quarantine_after) next.quarantine_after = number('#settings-quarantine');
  return next;
}

async function saveSettings(overrides) {
  if (!editing) return;
  try {
    const { settings } = await api('PUT', `/api/admin/plugins/${encodeURIComponent(editing.name)}/settings`, overrides);
    editing = { ...editing, overrides, settings };
    showSettings(settings);
    say('#settings-message', 'saved: applies from the next call, on every node', 'ok');
  } catch (err) {
    say('#settings-message', err.message, 'error');
  }
}

async function renderChains() {
  const chains = await api('GET', '/api/admin/chains');
  const worlds = { 'chat-messages': 'chat-plugin', uploads: 'upload-hook' };
  const container = $('#chains');
  container.replaceChildren();
  for (const [hook, order] of Object.entries(chains)) {
    const list = element('ol');
    const draw = () => {
      list.replaceChildren(...order.map((name, i) => element('li', {}, name,
        element('button', { class: 'ghost', title: 'move up', onclick: () => { if (i > 0) { [order[i - 1], order[i]] = [order[i], order[i - 1]]; draw(); } } }, '↑'),
        element('button', { class: 'ghost', title: 'move down', onclick: () => { if (i < order.length - 1) { [order[i + 1], order[i]] = [order[i], order[i + 1]]; draw(); } } }, '↓'),
        element('button', { class: 'danger', title: 'remove', onclick: () => { order.splice(i, 1); draw(); } }, '×'))));
      if (!order.length) list.append(element('li', { class: 'empty' }, 'no plugins'));
    };
    draw();
    const add = element('select', { 'aria-label': `add to ${hook}` }, element('option', { value: '' }, 'add plugin…'));
    for (const p of plugins.filter((p) => p.world === worlds[hook])) add.append(element('option', { value: p.name }, p.name));
    add.addEventListener('change', () => { if (add.value && !order.includes(add.value)) { order.push(add.value); draw(); } add.value = ''; });
    const status = element('span', { class: 'note' });
    const save = element('button', { onclick: async () => {
      try { await api('PUT', `/api/admin/chains/${hook}`, order); status.textContent = 'saved'; status.className = 'note ok'; }
      catch (err) { status.textContent = err.message; status.className = 'note error'; }
    } }, 'Save order');
    container.append(element('div', { class: 'chain' }, element('h3', {}, hook), list, element('div', { class: 'row' }, add, save, status)));
  }
}

function showAlert(alert, prepend = true) {
  const list = $('#alerts');
  const empty = list.querySelector('.empty');
  if (empty) empty.remove();
  const when = new Date(alert.created_ms).toLocaleTimeString();
  const item = element('li', { class: alert.severity },
    element('div', {}, element('strong', {}, `${alert.severity} · ${alert.source}`), ` ${alert.reason}`),
    element('div', { class: 'meta' }, `${when}${alert.room ? ' · room ' + alert.room : ''} · ${alert.kind}`));
  if (prepend) list.prepend(item); else list.append(item);
}

async function renderAlerts() {
  const { alerts } = await api('GET', '/api/admin/alerts?limit=20');
  $('#alerts').replaceChildren();
  if (!alerts.length) $('#alerts').append(element('li', { class: 'empty' }, 'no alerts yet'));
  for (const alert of alerts) showAlert(alert, false);
}

async function connectAlerts() {
  const live = $('#alerts-live');
  try {
    const { token: session } = await api('POST', '/api/admin/session');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/ws?v=1&token=${encodeURIComponent(session)}`);
    socket.onopen = () => { live.textContent = 'live'; live.className = 'pill live'; };
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === 'alert') showAlert(frame.alert);
    };
    socket.onclose = () => {
      live.textContent = 'offline'; live.className = 'pill offline';
      setTimeout(connectAlerts, 3000);
    };
  } catch (err) {
    live.textContent = 'offline'; live.className = 'pill offline';
  }
}

async function renderMaterials() {
  const materials = await api('GET', '/api/admin/materials');
  const rows = materials.map((m) => {
    const reenable = m.state === 'quarantined'
      ? element('button', { class: 'ghost', 'data-action': 'reenable', onclick: () => reenableMaterial(m) }, 'Re-enable')
      : '';
    return element('tr', { 'data-material': m.name },
      element('td', {}, element('strong', {}, m.name)),
      element('td', { class: 'version' }, m.version),
      element('td', {}, element('span', { class: `pill ${m.state}` }, m.state)),
      element('td', { class: 'num' }, String(m.calls)),
      element('td', { class: 'num' }, String(m.failures)),
      element('td', { class: 'num' }, m.p50_us == null ? '–' : `${m.p50_us} µs`),
      element('td', { class: 'num' }, m.p99_us == null ? '–' : `${m.p99_us} µs`),
      element('td', {}, reenable));
  });
  if (!rows.length) rows.push(element('tr', {}, element('td', { class: 'empty', colspan: '8' }, 'no material loaded yet')));
  $('#materials tbody').replaceChildren(...rows);
}

async function reenableMaterial(m) {
  try {
    await api('POST', `/api/admin/materials/${encodeURIComponent(m.name)}@${encodeURIComponent(m.version)}/enable`);
    say('#material-message', `${m.name}@${m.version} re-enabled`, 'ok');
  } catch (err) {
    say('#material-message', err.message, 'error');
  }
  await renderMaterials();
}

function formatSize(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0; let n = bytes;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

async function renderFiles() {
  const files = await api('GET', '/api/admin/files?limit=50');
  const rows = files.map((f) => element('tr', {},
    element('td', {}, f.name), element('td', {}, f.owner), element('td', {}, f.content_type),
    element('td', { class: 'num' }, formatSize(f.size)), element('td', {}, new Date(f.created_ms).toLocaleString())));
  if (!rows.length) rows.push(element('tr', {}, element('td', { class: 'empty', colspan: '5' }, 'no uploads yet')));
  $('#files tbody').replaceChildren(...rows);
}

async function renderSubmissions(event) {
  event?.preventDefault();
  const id = $('#submissions-page').value.trim();
  try {
    const { submissions } = await api('GET', `/api/admin/pages/${encodeURIComponent(id)}/submissions?limit=100`);
    const fields = [...new Set(submissions.flatMap((s) => Object.keys(s.values)))];
    $('#submissions thead').replaceChildren(element('tr', {},
      ...['#', 'When', 'Form', 'Rev.', ...fields].map((f) => element('th', {}, f))));
    const rows = submissions.map((s) => element('tr', { 'data-submission': String(s.id) },
      element('td', { class: 'num' }, String(s.id)), element('td', {}, new Date(s.created_ms).toLocaleString()),
      element('td', {}, s.form), element('td', { class: 'num' }, String(s.revision)),
      ...fields.map((f) => element('td', {}, s.values[f] ?? ''))));
    if (!rows.length) rows.push(element('tr', {}, element('td', { class: 'empty', colspan: String(4 + fields.length) }, 'no submissions')));
    $('#submissions tbody').replaceChildren(...rows);
    say('#submissions-message', `${submissions.length} newest submission(s) of page ${id}`);
  } catch (err) {
    say('#submissions-message', err.message, 'error');
  }
}

async function downloadSubmissions() {
  const id = $('#submissions-page').value.trim();
  const response = await fetch(`/api/admin/pages/${encodeURIComponent(id)}/submissions.csv`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) { say('#submissions-message', `CSV export failed: ${response.status}`, 'error'); return; }
  const link = element('a', { href: URL.createObjectURL(await response.blob()), download: `${id}-submissions.csv` });
  link.click();
  URL.revokeObjectURL(link.href);
}

async function refresh() {
  await renderPlugins();
  await renderCluster();
  await renderMaterials();
  await renderFiles();
}

async function start() {
  try {
    await renderPlugins();
  } catch (err) {
    $('#login-error').textContent = err.message;
    $('#login').hidden = false;
    $('#console').hidden = true;
    return;
  }
  sessionStorage.setItem('hangar-admin-token', token);
  $('#login').hidden = true;
  $('#console').hidden = false;
  $('#status').textContent = 'signed in';
  await Promise.all([renderCluster(), renderChains(), renderAlerts(), renderFiles(), renderMaterials()]);
  connectAlerts();
  setInterval(() => refresh().catch(() => {}), 5000);
}

$('#login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('#token').value.trim();
  start();
});
$('#config-save').addEventListener('click', saveConfig);
$('#submissions-form').addEventListener('submit', renderSubmissions);
$('#submissions-csv').addEventListener('click', () => downloadSubmissions());
$('#settings-save').addEventListener('click', () => saveSettings(changedOverrides()));
$('#settings-reset').addEventListener('click', () => saveSettings({}));
$('#settings-close').addEventListener('click', () => { $('#settings-card').hidden = true; });
$('#config-close').addEventListener('click', () => { $('#config-card').hidden = true; });
if (token) start();
