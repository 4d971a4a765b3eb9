// What a material component is given, in the page or in its worker: the
// WASI shims and the host interface; and its instantiation from the module
// the server generated.

import * as cli from '@bytecodealliance/preview2-shim/cli';
import * as clocks from '@bytecodealliance/preview2-shim/clocks';
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem';
import * as io from '@bytecodealliance/preview2-shim/io';
import * as random from '@bytecodealliance/preview2-shim/random';
import * as sockets from '@bytecodealliance/preview2-shim/sockets';

/** Bytes a material may keep in its in-page key-value store. */
const KV_QUOTA = 64 * 1024;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

// The `hangar:plugin/host` interface, in the browser: log to the console, the
// configuration given to loadMaterial, and a key-value store in memory
// with the same kind of quota as on the server.
export function hostInterface(label, config) {
  const kv = new Map();
  let used = 0;
  const size = (key, value) => new TextEncoder().encode(key).length + value.length;
  return {
    log(level, message, fields) {
      const tag = typeof level === 'string' ? level : LEVELS[level] ?? 'info';
      const method = tag === 'error' ? 'error' : tag === 'warn' ? 'warn' : 'debug';
      console[method](`[${label}]`, message, Object.fromEntries(fields ?? []));
    },
    config() { return config; },
    kvGet(key) { return kv.get(key); },
    kvSet(key, value) {
      if (key === '' || key.length > 256) throw { tag: 'invalid-key' };
      const before = kv.has(key) ? size(key, kv.get(key)) : 0;
      const after = used - before + size(key, value);
      if (after > KV_QUOTA) throw { tag: 'quota-exceeded', val: BigInt(KV_QUOTA) };
      kv.set(key, value);
      used = after;
    },
    kvDelete(key) {
      if (kv.has(key)) { used -= size(key, kv.get(key)); kv.delete(key); }
    },
  };
}

// The WASI 0.2 interfaces the server links, by the unversioned names the
// generated module asks for. As on the server, a component gets no files
// (no preopened directories) and no network; its standard output and
// errors go to the console.
export function wasiImports() {
  return {
    'wasi:cli/environment': cli.environment,
    'wasi:cli/exit': cli.exit,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:clocks/monotonic-clock': clocks.monotonicClock,
    'wasi:clocks/wall-clock': clocks.wallClock,
    'wasi:filesystem/types': filesystem.types,
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:io/error': io.error,
    'wasi:io/poll': io.poll,
    'wasi:io/streams': io.streams,
    'wasi:random/random': random.random,
    'wasi:random/insecure': random.insecure,
    'wasi:random/insecure-seed': random.insecureSeed,
    'wasi:sockets/network': sockets.network,
    'wasi:sockets/instance-network': sockets.instanceNetwork,
    'wasi:sockets/tcp': sockets.tcp,
    'wasi:sockets/tcp-create-socket': sockets.tcpCreateSocket,
    'wasi:sockets/udp': sockets.udp,
    'wasi:sockets/udp-create-socket': sockets.udpCreateSocket,
    'wasi:sockets/ip-name-lookup': sockets.ipNameLookup,
  };
}

/**
 * Instantiates the generated module at `moduleUrl` (its core modules
 * compiled from their URLs beside it); resolves to its exports.
 */
export async function instantiate(moduleUrl, label, config) {
  const generated = await import(moduleUrl);
  const imports = { ...wasiImports(), 'hangar:plugin/host': hostInterface(label, config) };
  return generated.instantiate(
    (file) => WebAssembly.compileStreaming(fetch(new URL(file, moduleUrl))),
    imports,
  );
}

/** What a component's `render` answered: `{html}` or `{error}` (`reason` text, or `trapped`). */
export function callRender(exports, propsJson) {
  try {
    return { html: exports.render(propsJson) };
  } catch (err) {
    return err && err.payload !== undefined
      ? { error: 'answered', reason: String(err.payload).slice(0, 200) }
      : { error: 'trapped' };
  }
}
