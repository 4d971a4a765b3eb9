// VirtualList: renders only the rows near the viewport, whatever the
// length of the list. Two sentinels (spacers above and below the rendered
// window) are watched by an IntersectionObserver whose rootMargin is the
// buffer zone; when one comes near (and on every frame of a scroll), the
// window moves to the rows around the scroll position. Row heights vary:
// each rendered row is measured and remembered, unmeasured rows use an
// estimate. New rows keep the view at the bottom unless the user scrolled up.

export class VirtualList {
  /**
   * @param {HTMLElement} container a scrollable element
   * @param {object} options
   * @param {(item: any) => HTMLElement} options.render builds one row
   * @param {(item: any) => string} options.key stable key of an item
   * @param {number} [options.windowSize] rows rendered at most
   * @param {number} [options.estimate] height of an unmeasured row, px
   * @param {string} [options.buffer] rootMargin of the observer
   * @param {() => void} [options.onTop] called when the top of the list comes near (load older rows)
   */
  constructor(container, { render, key, windowSize = 60, estimate = 56, buffer = '600px 0px', onTop = () => {} }) {
    this.onTop = onTop;
    this.container = container;
    this.renderRow = render;
    this.key = key;
    this.windowSize = windowSize;
    this.estimate = estimate;
    this.items = [];
    this.heights = new Map();
    this.start = 0;
    this.end = 0;
    this.renders = 0;
    this.top = document.createElement('div');
    this.rows = document.createElement('div');
    this.bottom = document.createElement('div');
    this.top.className = 'vl-spacer';
    this.bottom.className = 'vl-spacer';
    this.rows.className = 'vl-rows';
    container.replaceChildren(this.top, this.rows, this.bottom);
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), { root: container, rootMargin: buffer });
    this.observer.observe(this.top);
    this.observer.observe(this.bottom);
    // The observer reports a sentinel entering the buffer zone; a scroll
    // that stays inside it (a long drag, a jump) is followed frame by frame.
    let scheduled = false;
    container.addEventListener('scroll', () => {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => { scheduled = false; this.recenter(); });
    });
  }

  atBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 40;
  }

  heightOf(index) {
    return this.heights.get(this.key(this.items[index])) ?? this.estimate;
  }

  spacer(from, to) {
    let total = 0;
    for (let i = from; i < to; i += 1) total += this.heightOf(i);
    return total;
  }

  /** Replaces the items (e.g. a room's cached history) and shows the end. */
  setItems(items) {
    this.items = items;
    this.end = items.length;
    this.start = Math.max(0, this.end - this.windowSize);
    this.paint();
    this.container.scrollTop = this.container.scrollHeight;
  }

  /** Appends items (one call per batch: one render pass). */
  append(items) {
    if (!items.length) return;
    const stick = this.atBottom();
    this.items = this.items.concat(items);
    if (stick || this.end >= this.items.length - items.length) {
      this.end = this.items.length;
      this.start = Math.max(0, this.end - this.windowSize);
    }
    this.paint();
    if (stick) this.container.scrollTop = this.container.scrollHeight;
  }

  /** Adds older items before the first, keeping the visible rows in place. */
  prepend(items) {
    if (!items.length) return;
    this.keepingPlace(() => {
      this.items = items.concat(this.items);
      this.start += items.length;
      this.end += items.length;
      this.paint();
    });
  }

  /** Runs `change` and scrolls so the first rendered row stays where it was on screen. */
  keepingPlace(change) {
    const anchor = this.rows.firstElementChild;
    const key = anchor && anchor.dataset.key;
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    change();
    const same = key && [...this.rows.children].find((row) => row.dataset.key === key);
    if (same) this.container.scrollTop += same.getBoundingClientRect().top - before;
  }

  /** Replaces the item with `key` (e.g. a pending message once stored). */
  update(key, item) {
    const index = this.items.findIndex((it) => this.key(it) === key);
    if (index < 0) return;
    this.items[index] = item;
    if (index >= this.start && index < this.end) this.paint();
  }

  /** Removes the items `predicate` selects (e.g. a rejected pending send). */
  remove(predicate) {
    const stick = this.atBottom();
    this.items = this.items.filter((item) => !predicate(item));
    this.end = Math.min(this.end, this.items.length);
    this.start = Math.min(this.start, Math.max(0, this.end - 1));
    this.paint();
    if (stick) this.container.scrollTop = this.container.scrollHeight;
  }

  onIntersect(entries) {
    if (entries.some((entry) => entry.isIntersecting)) this.recenter();
  }

  /**
   * Moves the window to the rows around the current scroll position (from
   * the measured or estimated heights), so a jump (to the top, say) lands on
   * the right rows at once; asks for older rows at the very top.
   */
  recenter() {
    const scrollTop = this.container.scrollTop;
    let offset = 0;
    let index = 0;
    while (index < this.items.length && offset + this.heightOf(index) < scrollTop) {
      offset += this.heightOf(index);
      index += 1;
    }
    const lead = Math.floor(this.windowSize / 3);
    const start = Math.max(0, Math.min(index - lead, this.items.length - this.windowSize));
    const end = Math.min(this.items.length, start + this.windowSize);
    if (start !== this.start || end !== this.end) {
      this.keepingPlace(() => {
        this.start = start;
        this.end = end;
        this.paint();
      });
    }
    if (this.start === 0 && scrollTop < 50) this.onTop();
  }

  paint() {
    this.renders += 1;
    this.end = Math.min(this.end, this.items.length);
    this.start = Math.min(this.start, this.end);
    const rows = [];
    for (let i = this.start; i < this.end; i += 1) {
      const row = this.renderRow(this.items[i]);
      row.dataset.key = this.key(this.items[i]);
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
    for (const row of rows) this.heights.set(row.dataset.key, row.getBoundingClientRect().height || this.estimate);
    this.top.style.height = `${this.spacer(0, this.start)}px`;
    this.bottom.style.height = `${this.spacer(this.end, this.items.length)}px`;
  }

  /** Rows in the DOM now. */
  renderedCount() {
    return this.rows.childElementCount;
  }
}
