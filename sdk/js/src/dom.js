// A small DOM builder shared by the pages the host serves.

/**
 * Creates `tag` with attributes (`class`, `on<event>` listeners, others as
 * attributes; `false`, `null` and `undefined` leave an attribute out,
 * `true` sets it empty) and children (nodes or text).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string)} children
 */
export function element(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) node.append(child);
  return node;
}
