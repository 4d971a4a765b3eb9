// The canvas: every node previewed in the page by its own material (loaded
// with the SDK's loadMaterial and rendered locally, sanitised by the
// server's rules), its children in drop zones inside the material's slots,
// and drag and drop from the palette and between slots.

import { element } from '/sdk/js/hangar-client.js';
import { newId } from './model.js';

export const MATERIAL_TYPE = 'application/x-hangar-material';
export const NODE_TYPE = 'application/x-hangar-node';

/** Materials by `name@version`: {material, info} once loaded, or {error}. */
export class Library {
  constructor(loadMaterial, describeRemote) {
    this.loadMaterial = loadMaterial;
    this.describeRemote = describeRemote;
    this.entries = new Map();
    this.ready = new Map();
  }

  /** Loads `name@version` into the page (once); resolves to the entry. */
  load(name, version) {
    const key = `${name}@${version}`;
    if (!this.entries.has(key)) {
      const load = (async () => {
        try {
          const material = await this.loadMaterial(name, version);
          return { material, info: material.info };
        } catch (err) {
          // Not renderable here: previews come from the server instead.
          const info = await this.describeRemote(name, version).catch(() => null);
          return { error: err.message, info };
        }
      })().then((entry) => { this.ready.set(key, entry); return entry; });
      this.entries.set(key, load);
    }
    return this.entries.get(key);
  }

  /** The entry of `name@version` if it has loaded. */
  peek(name, version) {
    return this.ready.get(`${name}@${version}`) ?? null;
  }
}

/** Where a drop inside `zone` at `clientY` lands: the index among its nodes. */
function dropIndex(zone, clientY) {
  const children = [...zone.children].filter((c) => c.classList.contains('d-node'));
  for (const [index, child] of children.entries()) {
    const box = child.getBoundingClientRect();
    if (clientY < box.top + box.height / 2) return index;
  }
  return children.length;
}

export class Canvas {
  /**
   * @param {HTMLElement} root the canvas list
   * @param {import('./model.js').Doc} doc
   * @param {Library} library
   * @param {object} hooks {select(id), preview(node) → Promise<string> (server fallback), status(text, error)}
   */
  constructor(root, doc, library, hooks) {
    this.root = root;
    this.doc = doc;
    this.library = library;
    this.hooks = hooks;
    this.selected = null;
    this.generations = new Map();
    root.addEventListener('click', (event) => {
      // Links and buttons inside previews never navigate or submit here.
      if (event.target.closest('.preview a, .preview button')) event.preventDefault();
    });
    root.addEventListener('submit', (event) => event.preventDefault(), true);
  }

  /** Renders the whole tree. */
  render() {
    const top = this.zone({ parent: null, slot: null }, this.doc.page.nodes, 'd-top');
    this.root.replaceChildren(top);
    top.append(...this.doc.page.nodes.map((node) => this.nodeElement(node)));
    this.root.classList.toggle('empty', this.doc.page.nodes.length === 0);
  }

  /**
   * Re-renders one node (and what it holds): the new element replaces the
   * old once its previews have rendered, so an edit never shows an empty
   * preview; of edits in quick succession only the last one's lands.
   */
  refresh(id) {
    const found = this.doc.find(id);
    if (!found || !this.root.querySelector(`.d-node[data-id="${CSS.escape(id)}"]`)) { this.render(); return; }
    const generation = (this.generations.get(id) ?? 0) + 1;
    this.generations.set(id, generation);
    const fresh = this.nodeElement(found.node);
    fresh.rendered.then(() => {
      if (this.generations.get(id) !== generation) return;
      this.root.querySelector(`.d-node[data-id="${CSS.escape(id)}"]`)?.replaceWith(fresh);
    });
  }

  select(id) {
    this.selected = id;
    for (const node of this.root.querySelectorAll('.d-node.selected')) node.classList.remove('selected');
    if (id) this.root.querySelector(`.d-node[data-id="${CSS.escape(id)}"]`)?.classList.add('selected');
  }

  /** A drop zone for the node list at `place`. */
  zone(place, nodes, extra = '') {
    const zone = element('div', {
      class: `d-slot ${extra}`.trim(),
      'data-parent': place.parent ?? '',
      'data-slot': place.slot ?? '',
    });
    zone.addEventListener('dragover', (event) => {
      const types = event.dataTransfer.types;
      if (!types.includes(MATERIAL_TYPE) && !types.includes(NODE_TYPE)) return;
      event.preventDefault();
      event.stopPropagation();
      event.dataTransfer.dropEffect = types.includes(NODE_TYPE) ? 'move' : 'copy';
      this.showMarker(zone, dropIndex(zone, event.clientY));
    });
    zone.addEventListener('dragleave', (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove('over');
    });
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      event.stopPropagation();
      this.clearMarker();
      const index = dropIndex(zone, event.clientY);
      const moved = event.dataTransfer.getData(NODE_TYPE);
      const added = event.dataTransfer.getData(MATERIAL_TYPE);
      if (moved) {
        if (!this.doc.move(moved, place, index)) this.hooks.status('a node cannot go inside itself', true);
      } else if (added) {
        this.hooks.add(added, place, index);
      }
    });
    if (!nodes.length) zone.append(element('div', { class: 'd-slot-hint' }, place.parent ? 'Drop here' : 'Drag materials here from the palette'));
    return zone;
  }

  showMarker(zone, index) {
    this.clearMarker();
    zone.classList.add('over');
    const marker = element('div', { class: 'd-marker' });
    const nodes = [...zone.children].filter((c) => c.classList.contains('d-node'));
    if (index < nodes.length) nodes[index].before(marker); else zone.append(marker);
  }

  clearMarker() {
    for (const marker of this.root.querySelectorAll('.d-marker')) marker.remove();
    for (const zone of this.root.querySelectorAll('.d-slot.over')) zone.classList.remove('over');
  }

  /** One node: its bar, its preview, and its slots' zones inside the preview. */
  nodeElement(node) {
    const entry = this.library.peek(node.material, node.version);
    const info = entry?.info;
    const bar = element('div', { class: 'node-bar' },
      element('span', { class: 'name' }, `${info?.title ?? node.material} `, element('small', {}, `${node.material} ${node.version}`)),
      Object.keys(node.events ?? {}).length ? element('span', { class: 'badge', title: 'has actions' }, '⚡') : '',
      element('button', { class: 'ghost small', type: 'button', title: 'duplicate', 'data-action': 'duplicate', onclick: (e) => { e.stopPropagation(); this.hooks.duplicate(node.id); } }, 'dup'),
      element('button', { class: 'ghost small', type: 'button', title: 'remove', 'data-action': 'remove', onclick: (e) => { e.stopPropagation(); this.doc.remove(node.id); } }, '×'));
    const preview = element('div', { class: 'preview' });
    const wrapper = element('div', {
      class: node.id === this.selected ? 'd-node selected' : 'd-node',
      'data-id': node.id, 'data-material': node.material, draggable: 'true',
    }, bar, preview);
    wrapper.addEventListener('click', (event) => { event.stopPropagation(); this.hooks.select(node.id); });
    wrapper.addEventListener('dragstart', (event) => {
      event.stopPropagation();
      event.dataTransfer.setData(NODE_TYPE, node.id);
      event.dataTransfer.effectAllowed = 'move';
      wrapper.classList.add('dragging');
    });
    wrapper.addEventListener('dragend', () => { wrapper.classList.remove('dragging'); this.clearMarker(); });
    // Resolves once this node's preview and those of its children show.
    wrapper.rendered = Promise.all([
      this.fillPreview(node, preview, entry),
      ...[...preview.querySelectorAll('.d-node')].map((child) => child.rendered),
    ]);
    return wrapper;
  }

  /** Fills `preview`; resolves once it shows the material's HTML (or why not). */
  fillPreview(node, preview, entry) {
    if (!entry) {
      preview.append(element('div', { class: 'preview-loading' }, 'loading…'));
      this.library.load(node.material, node.version).then(() => this.refresh(node.id));
      return Promise.resolve();
    }
    // The slots' zones go in now, so the tree is whole at once; the
    // material's HTML arrives from its worker (or the server) and the
    // zones move into the places it marks.
    this.placeSlots(node, preview, entry.info);
    const show = (html, where) => {
      const zones = [...preview.querySelectorAll(':scope > .d-slot')];
      preview.innerHTML = html;
      preview.dataset.rendered = where;
      for (const zone of zones) this.putZone(preview, zone);
    };
    const fail = (err) => {
      const zones = [...preview.querySelectorAll(':scope > .d-slot')];
      preview.replaceChildren(element('div', { class: 'preview-error' }, err.message), ...zones);
    };
    if (entry.material) return entry.material.render(node.props).then((html) => show(html, 'local'), fail);
    // No module for this version here: the server renders it.
    return this.hooks.preview(node).then((html) => show(html, 'server'), fail);
  }

  /** Moves a slot's zone into the element the material marked for it, if any. */
  putZone(preview, zone) {
    const marker = zone.dataset.slot
      ? preview.querySelector(`[data-hangar-slot="${CSS.escape(zone.dataset.slot)}"]`)
      : null;
    if (marker) marker.replaceChildren(zone); else preview.append(zone);
  }

  /** Adds a zone for each slot (and the unslotted children) to the preview. */
  placeSlots(node, preview, info) {
    for (const slot of info?.slots ?? []) {
      const children = node.slots?.[slot.name] ?? [];
      const zone = this.zone({ parent: node.id, slot: slot.name }, children);
      zone.title = slot.title;
      zone.append(...children.map((child) => this.nodeElement(child)));
      preview.append(zone);
    }
    if (node.children?.length) {
      const zone = this.zone({ parent: node.id, slot: null }, node.children, 'd-legacy');
      zone.append(...node.children.map((child) => this.nodeElement(child)));
      preview.append(zone);
    }
  }
}

/** A new node of `name@version` with its default props. */
export function freshNode(info, name, version) {
  return { id: newId(name), material: name, version, props: structuredClone(info?.default_props ?? {}), slots: {}, events: {}, children: [] };
}
