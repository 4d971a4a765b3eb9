// src/sanitize.js
var ALIGN = ["align", "char", "charoff"];
var PER_TAG = {
  a: ["href", "hreflang", "target"],
  bdo: ["dir"],
  blockquote: ["cite"],
  col: [...ALIGN, "span"],
  colgroup: [...ALIGN, "span"],
  del: ["cite", "datetime"],
  hr: ["align", "size", "width"],
  img: ["align", "alt", "height", "src", "width", "loading"],
  ins: ["cite", "datetime"],
  ol: ["start"],
  q: ["cite"],
  table: [...ALIGN, "summary"],
  tbody: ALIGN,
  td: [...ALIGN, "colspan", "headers", "rowspan"],
  tfoot: ALIGN,
  th: [...ALIGN, "colspan", "headers", "rowspan", "scope"],
  thead: ALIGN,
  tr: ALIGN,
  input: [
    "type",
    "name",
    "value",
    "placeholder",
    "required",
    "disabled",
    "checked",
    "min",
    "max",
    "minlength",
    "maxlength",
    "pattern",
    "autocomplete"
  ],
  textarea: ["name", "placeholder", "required", "rows", "maxlength"],
  select: ["name", "required"],
  option: ["value", "selected"],
  label: ["for"],
  button: ["type", "name", "value", "disabled"],
  // A slot's place, filled by the host (or the designer).
  div: ["data-hangar-slot"]
};
var LINK_SCHEMES = ["http", "https", "mailto"];
function classify(url) {
  const trimmed = url.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
  if (/[\t\n\r\\]/.test(trimmed) || /[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return { kind: "refused" };
  if (trimmed.startsWith("//")) return { kind: "refused" };
  const end = trimmed.search(/[/?#]/);
  const head = end < 0 ? trimmed : trimmed.slice(0, end);
  const colon = head.indexOf(":");
  return colon >= 0 ? { kind: "absolute", scheme: head.slice(0, colon) } : { kind: "same-origin" };
}
function linkAllowed(url) {
  const c = classify(url);
  if (c.kind === "absolute") return LINK_SCHEMES.includes(c.scheme.toLowerCase());
  return c.kind === "same-origin";
}

// src/page-runtime.js
var variables = /* @__PURE__ */ new Map();
function interpolate(text, encode = (v) => v) {
  return text.replace(/\{([A-Za-z][A-Za-z0-9_-]{0,31})\}/g, (_, name) => encode(variables.get(name) ?? ""));
}
function showMessage(text, kind = "info") {
  let area = document.querySelector(".hm-messages");
  if (!area) {
    area = document.createElement("div");
    area.className = "hm-messages";
    area.setAttribute("role", "status");
    area.setAttribute("aria-live", "polite");
    document.body.append(area);
  }
  const message = document.createElement("div");
  message.className = `hm-message hm-message-${kind}`;
  message.textContent = text;
  area.append(message);
  setTimeout(() => message.remove(), 6e3);
}
function formOf(nodeElement) {
  const host = nodeElement.closest("[data-form]");
  return host ? host.querySelector("form") : null;
}
function perform(action, nodeElement) {
  switch (action.action) {
    case "navigate": {
      const url = interpolate(action.url, encodeURIComponent);
      if (linkAllowed(url)) location.assign(url);
      break;
    }
    case "submit-form": {
      const form = formOf(nodeElement);
      if (form) form.requestSubmit();
      break;
    }
    case "show-message":
      showMessage(interpolate(action.text));
      break;
    case "set-variable":
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
    if ((element.type === "checkbox" || element.type === "radio") && !element.checked) continue;
    if (["submit", "button", "reset"].includes(element.type)) continue;
    out[element.name] = element.value;
  }
  return out;
}
function showFieldErrors(form, errors) {
  for (const old of form.querySelectorAll(".hm-field-error")) old.remove();
  for (const error of errors) {
    const field = [...form.elements].find((e) => e.name === error.field);
    const note = document.createElement("small");
    note.className = "hm-field-error";
    note.textContent = error.field && !field ? `${error.field}: ${error.message}` : error.message;
    if (field) field.after(note);
    else form.prepend(note);
  }
}
async function submit(page, nodeId, form, events, nodeElement) {
  const button = form.querySelector("[type=submit]");
  if (button) button.disabled = true;
  try {
    const response = await fetch(`/api/pages/${encodeURIComponent(page)}/forms/${encodeURIComponent(nodeId)}/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ values: values(form) })
    });
    const body = await response.json().catch(() => null);
    if (response.ok) {
      showFieldErrors(form, []);
      form.reset();
      form.dataset.submitted = String(body?.id ?? "");
      if (events?.submit) perform(events.submit, nodeElement);
      else showMessage("Sent. Thank you!");
    } else if (body?.error?.errors) {
      showFieldErrors(form, body.error.errors);
      showMessage("Please check the highlighted fields.", "error");
    } else {
      showMessage(body?.error?.message ?? `Could not send (HTTP ${response.status}).`, "error");
    }
  } catch {
    showMessage("Could not send: the server cannot be reached.", "error");
  } finally {
    if (button) button.disabled = false;
  }
}
function start(doc = document) {
  const data = doc.getElementById("hangar-page-actions");
  if (!data) return;
  const { page, events } = JSON.parse(data.textContent);
  for (const nodeElement of doc.querySelectorAll("[data-node]")) {
    const nodeId = nodeElement.dataset.node;
    const bound = events[nodeId] ?? {};
    if (nodeElement.hasAttribute("data-form")) {
      const form = nodeElement.querySelector("form");
      if (form) {
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          submit(page, nodeId, form, bound, nodeElement);
        });
      }
    }
    if (bound.click) {
      nodeElement.addEventListener("click", (event) => {
        event.preventDefault();
        perform(bound.click, nodeElement);
      });
    }
  }
  doc.documentElement.dataset.hangarRuntime = "ready";
}
start();
export {
  interpolate,
  perform,
  showMessage,
  start
};
