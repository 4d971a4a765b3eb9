// The runtime of a published page (/p/{id}): performs the actions the
// designer bound to events and submits forms to the server. The page is
// rendered on the server and works without it for static content; this
// only adds behaviour, from the fixed set of actions (navigate, submit the
// enclosing form, show a message, set a page variable). It evaluates
// nothing: the bindings are data (a JSON block the server wrote).

import { linkAllowed } from './sanitize.js';

const variables = new Map();

// `{name}` replaced by the page variable `name` (encoded for URLs when
// `encode` is given); unknown names become empty.
export function interpolate(text, encode = (v) => v) {
  return text.replace(/\{([A-Za-z][A-Za-z0-9_-]{0,31})\}/g, (_, name) => encode(variables.get(name) ?? ''));
}

/** Shows `text` in the page's message area for a few seconds. */
export function showMessage(text, kind = 'info') {
  let area = document.querySelector('.hm-messages');
  if (!area) {
    area = document.createElement('div');
    area.className = 'hm-messages';
    area.setAttribute('role', 'status');
    area.setAttribute('aria-live', 'polite');
    document.body.append(area);
  }
  const message = document.createElement('div');
  message.className = `hm-message hm-message-${kind}`;
  message.textContent = text;
  area.append(message);
  setTimeout(() => message.remove(), 6000);
}

function formOf(nodeElement) {
  const host = nodeElement.closest('[data-form]');
  return host ? host.querySelector('form') : null;
}

/** Performs one action for the node element that emitted the event. */
export function perform(action, nodeElement) {
  switch (action.action) {
    case 'navigate': {
      const url = interpolate(action.url, encodeURIComponent);
      if (linkAllowed(url)) location.assign(url);
      break;
    }
    case 'submit-form': {
      const form = formOf(nodeElement);
      if (form) form.requestSubmit();
      break;
    }
    case 'show-message':
      showMessage(interpolate(action.text));
      break;
    case 'set-variable':
      variables.set(action.name, interpolate(action.value));
      break;
    default:
      break;
  }
}

function values(form) {
  const out = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if ((element.type === 'checkbox' || element.type === 'radio') && !element.checked) continue;
    if (['submit', 'button', 'reset'].includes(element.type)) continue;
    out[element.name] = element.value;
  }
  return out;
}

function showFieldErrors(form, errors) {
  for (const old of form.querySelectorAll('.hm-field-error')) old.remove();
  for (const error of errors) {
    const field = [...form.elements].find((e) => e.name === error.field);
    const note = document.createElement('small');
    note.className = 'hm-field-error';
    note.textContent = error.field && !field ? `${error.field}: ${error.message}` : error.message;
    if (field) field.after(note); else form.prepend(note);
  }
}

async function submit(page, nodeId, form, events, nodeElement) {
  const button = form.querySelector('[type=submit]');
  if (button) button.disabled = true;
  try {
    const response = await fetch(`/api/pages/${encodeURIComponent(page)}/forms/${encodeURIComponent(nodeId)}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ values: values(form) }),
    });
    const body = await response.json().catch(() => null);
    if (response.ok) {
      showFieldErrors(form, []);
      form.reset();
      form.dataset.submitted = String(body?.id ?? '');
      if (events?.submit) perform(events.submit, nodeElement);
      else showMessage('Sent. Thank you!');
    } else if (body?.error?.errors) {
      showFieldErrors(form, body.error.errors);
      showMessage('Please check the highlighted fields.', 'error');
    } else {
      showMessage(body?.error?.message ?? `Could not send (HTTP ${response.status}).`, 'error');
    }
  } catch {
    showMessage('Could not send: the server cannot be reached.', 'error');
  } finally {
    if (button) button.disabled = false;
  }
}

/** Wires the page: reads the bindings and listens. */
export function start(doc = document) {
  const data = doc.getElementById('hangar-page-actions');
  if (!data) return;
  const { page, events } = JSON.parse(data.textContent);
  for (const nodeElement of doc.querySelectorAll('[data-node]')) {
    const nodeId = nodeElement.dataset.node;
    const bound = events[nodeId] ?? {};
    if (nodeElement.hasAttribute('data-form')) {
      const form = nodeElement.querySelector('form');
      if (form) {
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          submit(page, nodeId, form, bound, nodeElement);
        });
      }
    }
    if (bound.click) {
      nodeElement.addEventListener('click', (event) => {
        event.preventDefault();
        perform(bound.click, nodeElement);
      });
    }
  }
  doc.documentElement.dataset.hangarRuntime = 'ready';
}

start();
