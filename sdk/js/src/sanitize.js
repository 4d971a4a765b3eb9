// The host's material HTML policy, in the browser: the same rules as the
// server's sanitiser (host/src/materials/sanitize.rs, ammonia with the
// host's settings), applied to the same parse (an HTML fragment in a
// <div> context) and written out by the same serialisation rules, so a
// material rendered in the page gives the HTML the server would give.
// A parity test renders every example material both ways and compares.

const ID_PREFIX = 'm-';

// ammonia's default tags, and those the host adds.
const TAGS = new Set([
  'a', 'abbr', 'acronym', 'area', 'article', 'aside', 'b', 'bdi', 'bdo', 'blockquote', 'br',
  'caption', 'center', 'cite', 'code', 'col', 'colgroup', 'data', 'dd', 'del', 'details', 'dfn',
  'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
  'header', 'hgroup', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'map', 'mark', 'nav', 'ol', 'p', 'pre',
  'q', 'rp', 'rt', 'rtc', 'ruby', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub',
  'summary', 'sup', 'table', 'tbody', 'td', 'th', 'thead', 'time', 'tr', 'tt', 'u', 'ul', 'var',
  'wbr',
  'form', 'input', 'label', 'select', 'option', 'textarea', 'button', 'fieldset', 'legend',
  'section', 'article', 'header', 'footer', 'figure', 'figcaption',
]);
// Removed with everything inside them.
const CLEAN_CONTENT = new Set(['script', 'style']);
const GENERIC = new Set([
  'lang', 'title',
  'class', 'role', 'id', 'aria-label', 'aria-hidden', 'aria-disabled', 'aria-describedby',
  'aria-labelledby', 'style',
]);
const ALIGN = ['align', 'char', 'charoff'];
const PER_TAG = {
  a: ['href', 'hreflang', 'target'],
  bdo: ['dir'],
  blockquote: ['cite'],
  col: [...ALIGN, 'span'],
  colgroup: [...ALIGN, 'span'],
  del: ['cite', 'datetime'],
  hr: ['align', 'size', 'width'],
  img: ['align', 'alt', 'height', 'src', 'width', 'loading'],
  ins: ['cite', 'datetime'],
  ol: ['start'],
  q: ['cite'],
  table: [...ALIGN, 'summary'],
  tbody: ALIGN,
  td: [...ALIGN, 'colspan', 'headers', 'rowspan'],
  tfoot: ALIGN,
  th: [...ALIGN, 'colspan', 'headers', 'rowspan', 'scope'],
  thead: ALIGN,
  tr: ALIGN,
  input: ['type', 'name', 'value', 'placeholder', 'required', 'disabled', 'checked', 'min', 'max',
    'minlength', 'maxlength', 'pattern', 'autocomplete'],
  textarea: ['name', 'placeholder', 'required', 'rows', 'maxlength'],
  select: ['name', 'required'],
  option: ['value', 'selected'],
  label: ['for'],
  button: ['type', 'name', 'value', 'disabled'],
  // A slot's place, filled by the host (or the designer).
  div: ['data-hangar-slot'],
};
const LINK_SCHEMES = ['http', 'https', 'mailto'];
const INPUT_TYPES = new Set(['text', 'email', 'number', 'tel', 'url', 'search', 'date', 'time',
  'datetime-local', 'month', 'week', 'color', 'range', 'checkbox', 'radio', 'hidden', 'submit',
  'reset', 'button']);
const VOID = new Set(['area', 'base', 'basefont', 'bgsound', 'br', 'col', 'embed', 'frame', 'hr',
  'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const HTML_NS = 'http://www.w3.org/1999/xhtml';

// hangar_policy::classify: a URL after the browser's clean-up.
function classify(url) {
  // eslint-disable-next-line no-control-regex
  const trimmed = url.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  // eslint-disable-next-line no-control-regex
  if (/[\t\n\r\\]/.test(trimmed) || /[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return { kind: 'refused' };
  if (trimmed.startsWith('//')) return { kind: 'refused' };
  const end = trimmed.search(/[/?#]/);
  const head = end < 0 ? trimmed : trimmed.slice(0, end);
  const colon = head.indexOf(':');
  return colon >= 0 ? { kind: 'absolute', scheme: head.slice(0, colon) } : { kind: 'same-origin' };
}

/** Whether `url` may be the target of a link (the host's rule). */
export function linkAllowed(url) {
  const c = classify(url);
  if (c.kind === 'absolute') return LINK_SCHEMES.includes(c.scheme.toLowerCase());
  return c.kind === 'same-origin';
}

/** Whether `url` may be the source of an image: the page's own origin only. */
export function imageAllowed(url) {
  return classify(url).kind === 'same-origin' && url.trim() !== '';
}

function isLength(value, auto) {
  if (value === '0' || (auto && value === 'auto')) return true;
  const m = /^([0-9.]*)(.*)$/s.exec(value);
  const number = m[1];
  const unit = m[2];
  return number !== '' && number.length <= 8 && /^(\d+\.?\d*|\.\d+)$/.test(number)
    && ['px', 'em', 'rem', '%', 'vw', 'vh', 'ch'].includes(unit);
}

function isLengths(value, auto) {
  const parts = value.split(/[\t\n\f\r ]+/).filter(Boolean);
  return parts.length >= 1 && parts.length <= 4 && parts.every((p) => isLength(p, auto));
}

function isColour(value) {
  if (value.startsWith('#')) {
    const hex = value.slice(1);
    return [3, 4, 6, 8].includes(hex.length) && /^[0-9a-fA-F]*$/.test(hex);
  }
  const fn = /^(?:rgba\(|rgb\()(.*)\)$/s.exec(value);
  if (fn) return fn[1].length <= 40 && /^[0-9 ,.%/]*$/.test(fn[1]);
  return value.length >= 1 && value.length <= 24 && /^[A-Za-z]+$/.test(value);
}

// ASCII-only lowercasing and trimming, as the server does.
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const trim = (s) => s.replace(/^\s+|\s+$/gu, '');

/** The declarations of `style` the host keeps; `null` when none is left. */
export function cleanStyle(style) {
  const kept = [];
  for (const declaration of style.split(';')) {
    const colon = declaration.indexOf(':');
    if (colon < 0) continue;
    const property = asciiLower(trim(declaration.slice(0, colon)));
    const value = asciiLower(trim(declaration.slice(colon + 1)));
    let ok;
    switch (property) {
      case 'color': case 'background-color': ok = isColour(value); break;
      case 'text-align': ok = ['left', 'right', 'center', 'justify', 'start', 'end'].includes(value); break;
      case 'font-weight':
        ok = ['normal', 'bold', 'bolder', 'lighter'].includes(value)
          || (value.length === 3 && value.endsWith('00') && /[0-9]/.test(value[0]));
        break;
      case 'font-style': ok = ['normal', 'italic', 'oblique'].includes(value); break;
      case 'object-fit': ok = ['contain', 'cover', 'fill', 'none', 'scale-down'].includes(value); break;
      case 'font-size': case 'border-radius': case 'max-width': case 'width': case 'gap':
        ok = isLengths(value, false); break;
      case 'padding': case 'margin': ok = isLengths(value, true); break;
      default: ok = false;
    }
    if (ok) kept.push(`${property}:${value}`);
  }
  return kept.length ? kept.join(';') : null;
}

const prefixedIds = (value) => value.split(/[\t\n\f\r ]+/).filter(Boolean)
  .map((id) => ID_PREFIX + id).join(' ');

// The host's attribute filter: the value kept (maybe rewritten), or null.
function filterAttribute(element, attribute, value) {
  if (element === 'a' && attribute === 'href') {
    const v = trim(value);
    if (v.startsWith('#')) return `#${ID_PREFIX}${v.slice(1)}`;
    return linkAllowed(v) ? v : null;
  }
  if (element === 'img' && attribute === 'src') return imageAllowed(value) ? value : null;
  if (element === 'input' && attribute === 'type') {
    return INPUT_TYPES.has(asciiLower(trim(value))) ? value : null;
  }
  if (['id', 'for', 'aria-labelledby', 'aria-describedby'].includes(attribute)) return prefixedIds(value);
  if (attribute === 'style') return cleanStyle(value);
  if (element === 'div' && attribute === 'data-hangar-slot') return /^[a-z0-9-]{1,32}$/.test(value) ? value : null;
  return value;
}

const isUrlAttribute = (element, attribute) => attribute === 'href' || attribute === 'src'
  || (element === 'form' && attribute === 'action')
  || ((element === 'button' || element === 'input') && attribute === 'formaction')
  || (element === 'a' && attribute === 'ping');

// ammonia's check of URL attributes: a URL with a scheme must parse and
// use an allowed scheme; a relative one passes.
function urlPasses(value) {
  try {
    const url = new URL(value);
    return LINK_SCHEMES.includes(url.protocol.slice(0, -1));
  } catch {
    // Relative (no scheme) passes; a malformed absolute URL does not.
    return !/^[\u0000-\u0020]*[A-Za-z][A-Za-z0-9+.-]*:/.test(value);
  }
}

function allowedAttribute(tag, name, value) {
  const listed = GENERIC.has(name) || (PER_TAG[tag] ?? []).includes(name);
  return listed && (!isUrlAttribute(tag, name) || urlPasses(value));
}

function cleanAttributes(element, tag) {
  let attrs = [...element.attributes]
    .filter((a) => a.namespaceURI === null)
    .map((a) => [a.name, a.value])
    .filter(([name, value]) => allowedAttribute(tag, name, value));
  if (tag === 'a') attrs.push(['rel', 'noopener noreferrer']);
  // The filter runs over the kept attributes; dropped ones are removed
  // last to first by swapping in the last one, as the server does.
  const dropped = [];
  attrs = attrs.map(([name, value], i) => {
    const kept = filterAttribute(tag, name, value);
    if (kept === null) dropped.push(i);
    return [name, kept ?? value];
  });
  for (const i of dropped.reverse()) {
    attrs[i] = attrs[attrs.length - 1];
    attrs.pop();
  }
  return attrs;
}

const escapeText = (s) => s.replace(/[&<>\u00a0]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\u00a0': '&nbsp;' })[c]);
const escapeAttr = (s) => s.replace(/[&"<>\u00a0]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;', '\u00a0': '&nbsp;' })[c]);

// Cleans the children of `node` into `out`, an array of strings.
function cleanChildren(node, out) {
  for (const child of node.childNodes) {
    if (child.nodeType === 3) {
      out.push(escapeText(child.data));
    } else if (child.nodeType === 1) {
      const tag = child.localName;
      // A template's content is not among its children (nor is it for
      // the server's parser): it goes with the element.
      if (child.namespaceURI === HTML_NS && (CLEAN_CONTENT.has(tag) || tag === 'template')) continue;
      if (child.namespaceURI !== HTML_NS || !TAGS.has(tag)) {
        cleanChildren(child, out);
        continue;
      }
      out.push(`<${tag}`);
      for (const [name, value] of cleanAttributes(child, tag)) out.push(` ${name}="${escapeAttr(value)}"`);
      out.push('>');
      if (VOID.has(tag)) continue;
      cleanChildren(child, out);
      out.push(`</${tag}>`);
    }
    // Comments, processing instructions and doctypes are dropped.
  }
}

let parser = null;

/**
 * Parses a material's HTML as the server does (a fragment in a `div`), in
 * a document of its own, which runs no script and loads nothing.
 * @param {string} html
 * @returns {HTMLDivElement} the element holding the parsed fragment
 */
export function parseMaterialHtml(html) {
  parser ??= document.implementation.createHTMLDocument('');
  const box = parser.createElement('div');
  box.innerHTML = html;
  return box;
}

/**
 * The content of `box` (from [parseMaterialHtml]) sanitised by the host's
 * rules, written out as the server would.
 * @param {HTMLDivElement} box
 * @returns {string}
 */
export function cleanMaterialFragment(box) {
  const out = [];
  cleanChildren(box, out);
  return out.join('');
}

/**
 * Sanitises a material's HTML by the host's rules and returns it as the
 * server would.
 * @param {string} html
 * @returns {string}
 */
export function sanitizeMaterialHtml(html) {
  return cleanMaterialFragment(parseMaterialHtml(html));
}
