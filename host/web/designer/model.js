// The page being designed: a tree of nodes (docs/materials.md, "Pages"),
// edited only through `Doc.change`, which keeps the undo history.
//
// A node is {id, material, version, props, slots: {name: [node]}, events:
// {event: action}} (and `children`, the unslotted list of pages made
// before slots). A place in the tree is {parent: node id or null for the
// page's top level, slot: slot name, or null for `children`}.

const HISTORY = 100;

/** A fresh node id, unique enough within one page. */
export function newId(material) {
  const base = material.replace(/[^a-z0-9-]/g, '').slice(0, 18) || 'node';
  return `${base}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Gives every node of `nodes` (and below) an id it lacks, and a `slots` map. */
export function normalise(nodes) {
  for (const node of nodes) {
    node.id ??= newId(node.material);
    node.slots ??= {};
    node.events ??= {};
    node.children ??= [];
    for (const list of Object.values(node.slots)) normalise(list);
    normalise(node.children);
  }
  return nodes;
}

/** A deep copy of `node` with new ids throughout. */
export function cloneWithNewIds(node) {
  const copy = structuredClone(node);
  const renew = (n) => {
    n.id = newId(n.material);
    for (const list of Object.values(n.slots ?? {})) list.forEach(renew);
    (n.children ?? []).forEach(renew);
  };
  renew(copy);
  return copy;
}

/** What is saved: empty slots, events and children left out. */
export function serialise(page) {
  const clean = (node) => {
    const out = { id: node.id, material: node.material, version: node.version, props: node.props };
    const slots = Object.fromEntries(Object.entries(node.slots ?? {})
      .filter(([, list]) => list.length).map(([name, list]) => [name, list.map(clean)]));
    if (Object.keys(slots).length) out.slots = slots;
    if (Object.keys(node.events ?? {}).length) out.events = node.events;
    if (node.children?.length) out.children = node.children.map(clean);
    return out;
  };
  return { title: page.title, nodes: page.nodes.map(clean) };
}

export class Doc {
  constructor(page = { title: '', nodes: [] }) {
    this.page = { title: page.title ?? '', nodes: normalise(page.nodes ?? []) };
    this.undoStack = [];
    this.redoStack = [];
    this.listeners = new Set();
    this.lastMerge = null;
  }

  /** Calls `listener(what)` after every change, undo and redo. */
  onChange(listener) { this.listeners.add(listener); }

  emit(what) { for (const listener of this.listeners) listener(what); }

  /**
   * Applies `mutate(page)` as one undoable step. Steps with the same
   * `merge` key in a row (typing into one field) are one step.
   */
  change(mutate, { merge = null, what = {} } = {}) {
    const before = JSON.stringify(this.page);
    const result = mutate(this.page);
    if (result === false) return false;
    if (!(merge && merge === this.lastMerge)) {
      this.undoStack.push(before);
      if (this.undoStack.length > HISTORY) this.undoStack.shift();
    }
    this.lastMerge = merge;
    this.redoStack = [];
    this.emit(what);
    return true;
  }

  undo() {
    const before = this.undoStack.pop();
    if (before === undefined) return false;
    this.redoStack.push(JSON.stringify(this.page));
    this.page = JSON.parse(before);
    this.lastMerge = null;
    this.emit({ structure: true });
    return true;
  }

  redo() {
    const after = this.redoStack.pop();
    if (after === undefined) return false;
    this.undoStack.push(JSON.stringify(this.page));
    this.page = JSON.parse(after);
    this.lastMerge = null;
    this.emit({ structure: true });
    return true;
  }

  /** Replaces the whole page (a load): the history starts again. */
  reset(page) {
    this.page = { title: page.title ?? '', nodes: normalise(page.nodes ?? []) };
    this.undoStack = [];
    this.redoStack = [];
    this.lastMerge = null;
    this.emit({ structure: true });
  }

  /** {node, list, index, parent} of the node `id`, or null. */
  find(id, nodes = this.page.nodes, parent = null) {
    for (const [index, node] of nodes.entries()) {
      if (node.id === id) return { node, list: nodes, index, parent };
      for (const list of [...Object.values(node.slots ?? {}), node.children ?? []]) {
        const found = this.find(id, list, node);
        if (found) return found;
      }
    }
    return null;
  }

  /** The node list at `place`, created if it is an empty slot. */
  listAt(place) {
    if (place.parent === null) return this.page.nodes;
    const found = this.find(place.parent);
    if (!found) return null;
    if (place.slot === null) return found.node.children;
    found.node.slots[place.slot] ??= [];
    return found.node.slots[place.slot];
  }

  /** Whether `id` is `ancestor` or below it. */
  within(id, ancestor) {
    const found = this.find(ancestor);
    if (!found) return false;
    const search = (node) => node.id === id
      || [...Object.values(node.slots ?? {}), node.children ?? []].some((list) => list.some(search));
    return search(found.node);
  }

  insert(node, place, index) {
    return this.change(() => {
      const list = this.listAt(place);
      if (!list) return false;
      list.splice(Math.min(index, list.length), 0, node);
      return true;
    }, { what: { structure: true, select: node.id } });
  }

  move(id, place, index) {
    if (place.parent !== null && this.within(place.parent, id)) return false;
    return this.change(() => {
      const from = this.find(id);
      const list = this.listAt(place);
      if (!from || !list) return false;
      let at = index;
      if (from.list === list && from.index < index) at -= 1;
      from.list.splice(from.index, 1);
      list.splice(Math.min(at, list.length), 0, from.node);
      return true;
    }, { what: { structure: true, select: id } });
  }

  remove(id) {
    return this.change(() => {
      const found = this.find(id);
      if (!found) return false;
      found.list.splice(found.index, 1);
      return true;
    }, { what: { structure: true, select: null } });
  }

  duplicate(id) {
    const found = this.find(id);
    if (!found) return null;
    const copy = cloneWithNewIds(found.node);
    this.change(() => { found.list.splice(found.index + 1, 0, copy); }, { what: { structure: true, select: copy.id } });
    return copy.id;
  }

  setProp(id, key, value) {
    return this.change(() => {
      const found = this.find(id);
      if (!found) return false;
      if (value === undefined) delete found.node.props[key]; else found.node.props[key] = value;
      return true;
    }, { merge: `prop:${id}:${key}`, what: { node: id } });
  }

  setVersion(id, version, props) {
    return this.change(() => {
      const found = this.find(id);
      if (!found) return false;
      found.node.version = version;
      if (props) found.node.props = props;
      return true;
    }, { what: { structure: true, select: id } });
  }

  setEvent(id, event, action) {
    return this.change(() => {
      const found = this.find(id);
      if (!found) return false;
      if (action) found.node.events[event] = action; else delete found.node.events[event];
      return true;
    }, { merge: `event:${id}:${event}`, what: { node: id, events: true } });
  }

  setTitle(title) {
    return this.change((page) => { page.title = title; }, { merge: 'title', what: {} });
  }
}
