// A material's worker: the component runs here, off the page's thread, so
// the page can stop one that runs past its deadline (by terminating this
// worker) and keep working. Messages: {load: moduleUrl, label, config}
// answered {loaded} or {failed}; {render: propsJson, id} answered
// {id, html} or {id, error, reason}.

import { callRender, instantiate } from './material-instance.js';

let exports = null;

self.onmessage = async ({ data }) => {
  if (data.load) {
    try {
      exports = await instantiate(data.load, data.label, data.config);
      self.postMessage({ loaded: true });
    } catch (err) {
      self.postMessage({ failed: String(err && err.message) });
    }
  } else if (data.render !== undefined) {
    self.postMessage({ id: data.id, ...callRender(exports, data.render) });
  }
};
