// node_modules/@bytecodealliance/preview2-shim/dist/browser/common.js
var MAX_U64 = (1n << 64n) - 1n;
function checkedU64(value, name) {
  if (typeof value !== "bigint" || value < 0n || value > MAX_U64) {
    throw new TypeError(`${name} must be a valid u64`);
  }
  return value;
}
function checkedU64AsNumber(value, name) {
  checkedU64(value, name);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${name} exceeds JavaScript's safe integer range`);
  }
  return Number(value);
}

// node_modules/@bytecodealliance/preview2-shim/dist/browser/io.js
var id = 0;
var symbolDispose = Symbol.dispose || /* @__PURE__ */ Symbol.for("dispose");
var checkedLength = (len, name = "length") => checkedU64AsNumber(len, name);
function closed() {
  throw { tag: "closed" };
}
var IoError = class extends Error {
  toDebugString() {
    return this.message;
  }
};
var InputStream = class _InputStream {
  id;
  handler;
  #open = true;
  #children = /* @__PURE__ */ new Set();
  static _create(handler) {
    const stream = new _InputStream();
    if (!handler) {
      console.trace("no handler");
    }
    stream.id = ++id;
    stream.handler = handler;
    return stream;
  }
  read(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    if (this.handler.read) {
      return this.handler.read.call(this, len);
    }
    return this.handler.blockingRead.call(this, len);
  }
  blockingRead(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    return this.handler.blockingRead.call(this, len);
  }
  skip(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    if (this.handler.skip) {
      return this.handler.skip.call(this, len);
    }
    if (this.handler.read) {
      const bytes = this.handler.read.call(this, len);
      return BigInt(bytes.byteLength);
    }
    return this.blockingSkip.call(this, len);
  }
  blockingSkip(len) {
    checkedLength(len);
    if (!this.#open) {
      closed();
    }
    if (this.handler.blockingSkip) {
      return this.handler.blockingSkip.call(this, len);
    }
    const bytes = this.handler.blockingRead.call(this, len);
    return BigInt(bytes.byteLength);
  }
  subscribe() {
    if (!this.#open) {
      return pollableCreate();
    }
    const pollable = this.handler.subscribe ? this.handler.subscribe.call(this) : pollableCreate();
    if (pollable instanceof Pollable) {
      this.#children.add(pollable);
      pollable._onDispose(() => this.#children.delete(pollable));
    }
    return pollable;
  }
  [symbolDispose]() {
    if (!this.#open) {
      return;
    }
    this.#open = false;
    for (const child of this.#children) {
      child._invalidate();
    }
    this.#children.clear();
    if (this.handler.drop) {
      this.handler.drop.call(this);
    }
  }
};
var inputStreamCreate = InputStream._create;
delete InputStream._create;
var OutputStream = class _OutputStream {
  id;
  open;
  handler;
  #permit = 0n;
  #children = /* @__PURE__ */ new Set();
  static _create(handler) {
    const stream = new _OutputStream();
    if (!handler) {
      console.trace("no handler");
    }
    stream.id = ++id;
    stream.open = true;
    stream.handler = handler;
    return stream;
  }
  checkWrite() {
    if (!this.open) {
      closed();
    }
    if (this.handler.checkWrite) {
      const permit = this.handler.checkWrite.call(this);
      checkedLength(permit, "write permit");
      this.#permit = permit;
      return permit;
    }
    this.#permit = 1000000n;
    return this.#permit;
  }
  write(buf) {
    if (!this.open) {
      closed();
    }
    if (BigInt(buf.byteLength) > this.#permit) {
      throw new Error("write exceeds the permit returned by checkWrite");
    }
    this.#permit -= BigInt(buf.byteLength);
    this.handler.write.call(this, buf);
  }
  blockingWriteAndFlush(buf) {
    if (!this.open) {
      closed();
    }
    if (buf.byteLength > 4096) {
      throw new RangeError("blockingWriteAndFlush accepts at most 4096 bytes");
    }
    if (this.handler.blockingWriteAndFlush) {
      return this.handler.blockingWriteAndFlush.call(this, buf);
    }
    this.handler.write.call(this, buf);
    if (this.handler.blockingFlush) {
      this.handler.blockingFlush.call(this);
    } else {
      this.handler.flush?.call(this);
    }
  }
  flush() {
    if (!this.open) {
      closed();
    }
    this.#permit = 0n;
    if (this.handler.flush) {
      this.handler.flush.call(this);
    }
  }
  blockingFlush() {
    if (!this.open) {
      closed();
    }
    if (this.handler.blockingFlush) {
      this.handler.blockingFlush.call(this);
    } else {
      this.handler.flush?.call(this);
    }
  }
  writeZeroes(len) {
    const length = checkedLength(len);
    if (len > this.#permit) {
      throw new Error("write exceeds the permit returned by checkWrite");
    }
    this.write.call(this, new Uint8Array(length));
  }
  blockingWriteZeroesAndFlush(len) {
    const length = checkedLength(len);
    if (length > 4096) {
      throw new RangeError("blockingWriteZeroesAndFlush accepts at most 4096 bytes");
    }
    this.blockingWriteAndFlush.call(this, new Uint8Array(length));
  }
  splice(src, len) {
    const spliceLen = Math.min(checkedLength(len), Number(this.checkWrite.call(this)));
    const bytes = src.read(BigInt(spliceLen));
    this.write.call(this, bytes);
    return BigInt(bytes.byteLength);
  }
  blockingSplice(src, len) {
    const spliceLen = Math.min(checkedLength(len), Number(this.checkWrite.call(this)));
    const bytes = src.blockingRead(BigInt(spliceLen));
    this.write.call(this, bytes);
    return BigInt(bytes.byteLength);
  }
  subscribe() {
    if (!this.open) {
      return pollableCreate();
    }
    const pollable = this.handler.subscribe ? this.handler.subscribe.call(this) : pollableCreate();
    if (pollable instanceof Pollable) {
      this.#children.add(pollable);
      pollable._onDispose(() => this.#children.delete(pollable));
    }
    return pollable;
  }
  [symbolDispose]() {
    if (!this.open) {
      return;
    }
    this.open = false;
    this.#permit = 0n;
    for (const child of this.#children) {
      child._invalidate();
    }
    this.#children.clear();
    this.handler.drop?.call(this);
  }
};
var outputStreamCreate = OutputStream._create;
delete OutputStream._create;
var error = {
  Error: IoError
};
var streams = { InputStream, OutputStream };
var Pollable = class _Pollable {
  #source = { ready: () => true, wait: () => Promise.resolve() };
  #invalid = false;
  #disposed = false;
  #wait = null;
  #disposeCallbacks = [];
  #wakeUnusable;
  #unusable = new Promise((resolve) => this.#wakeUnusable = resolve);
  static _create(source) {
    const pollable = new _Pollable();
    if (source instanceof Promise) {
      let ready = false;
      const wait = source.then(() => {
        ready = true;
      }, () => {
        ready = true;
      });
      pollable.#source = { ready: () => ready, wait: () => wait };
    } else if (source) {
      pollable.#source = source;
    }
    return pollable;
  }
  ready() {
    this.#assertUsable();
    return this.#source.ready();
  }
  block() {
    this.#assertUsable();
    if (this.#source.ready()) {
      return Promise.resolve();
    }
    if (!this.#wait) {
      this.#wait = Promise.race([
        Promise.resolve(this.#source.wait()),
        this.#unusable.then(() => this.#assertUsable())
      ]).finally(() => {
        this.#wait = null;
      });
    }
    return this.#wait;
  }
  _onDispose(callback) {
    if (this.#disposed) {
      callback();
    } else {
      this.#disposeCallbacks.push(callback);
    }
  }
  _invalidate() {
    if (this.#invalid || this.#disposed) {
      return;
    }
    this.#invalid = true;
    this.#wakeUnusable();
  }
  #assertUsable() {
    if (this.#disposed) {
      throw new Error("pollable has been disposed");
    }
    if (this.#invalid) {
      throw new Error("pollable's parent resource has been disposed");
    }
  }
  [symbolDispose]() {
    if (this.#disposed) {
      return;
    }
    this.#disposed = true;
    this.#wakeUnusable();
    for (const callback of this.#disposeCallbacks.splice(0)) {
      callback();
    }
  }
};
var pollableCreate = Pollable._create;
delete Pollable._create;
function pollList(list) {
  if (list.length === 0) {
    throw new Error("poll list must not be empty");
  }
  if (list.length > 4294967295) {
    throw new Error("poll list length exceeds u32 index range");
  }
  const ready = [];
  for (let i = 0; i < list.length; i++) {
    if (list[i].ready()) {
      ready.push(i);
    }
  }
  if (ready.length > 0) {
    return new Promise((resolve) => setTimeout(() => {
      const result = [];
      for (let i = 0; i < list.length; i++) {
        if (list[i].ready()) {
          result.push(i);
        }
      }
      resolve(new Uint32Array(result));
    }, 0));
  }
  return Promise.race(list.map((pollable) => pollable.block())).then(() => {
    const result = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i].ready()) {
        result.push(i);
      }
    }
    return new Uint32Array(result);
  });
}
function pollOne(poll2) {
  return poll2.block();
}
var poll = {
  Pollable,
  pollList,
  pollOne,
  // @ts-expect-error Not matching signature from WIT
  poll: pollList
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/config.js
var _cwd = "/";
function _getCwd() {
  return _cwd;
}

// node_modules/@bytecodealliance/preview2-shim/dist/browser/environment.js
var _env = [];
var _args = [];
var _cwd2 = "/";
var environment = {
  getEnvironment() {
    return _env;
  },
  getArguments() {
    return _args;
  },
  initialCwd() {
    return _cwd2;
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/cli.js
var symbolDispose2 = Symbol.dispose ?? /* @__PURE__ */ Symbol.for("dispose");
var ComponentExit = class extends Error {
  exitError = true;
  code;
  constructor(code) {
    super(`Component exited ${code === 0 ? "successfully" : "with error"}`);
    this.code = code;
  }
};
var exit = {
  exit(status) {
    throw new ComponentExit(status.tag === "err" ? 1 : 0);
  },
  // @ts-expect-error - Available only wasi-cli v0.2.12
  exitWithCode(code) {
    throw new ComponentExit(code);
  }
};
var stdinStream = inputStreamCreate({
  blockingRead() {
    throw { tag: "closed" };
  },
  subscribe() {
    return pollableCreate();
  },
  [symbolDispose2]() {
  }
});
function consoleStream(writeLine) {
  const decoder = new TextDecoder();
  let pending = "";
  const emitCompleteLines = () => {
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) {
      writeLine(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
  };
  return {
    write(contents) {
      pending += decoder.decode(contents, { stream: true });
      emitCompleteLines();
    },
    flush() {
      pending += decoder.decode();
      if (pending) {
        writeLine(pending);
      }
      pending = "";
    },
    blockingFlush() {
      this.flush?.();
    },
    drop() {
      this.flush?.();
    }
  };
}
var stdoutStream = outputStreamCreate(consoleStream((line) => console.log(line)));
var stderrStream = outputStreamCreate(consoleStream((line) => console.error(line)));
var stdin = {
  getStdin() {
    return stdinStream;
  }
};
var stdout = {
  getStdout() {
    return stdoutStream;
  }
};
var stderr = {
  getStderr() {
    return stderrStream;
  }
};
var TerminalInput = class {
};
var TerminalOutput = class {
};
var terminalInput = {
  TerminalInput
};
var terminalOutput = {
  TerminalOutput
};
var terminalStderr = {
  getTerminalStderr() {
    return void 0;
  }
};
var terminalStdin = {
  getTerminalStdin() {
    return void 0;
  }
};
var terminalStdout = {
  getTerminalStdout() {
    return void 0;
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/clocks.js
var MAX_TIMEOUT_MS = 2147483647;
function timeout(durationNs) {
  let remainingMs = Number((durationNs + 999999n) / 1000000n);
  return new Promise((resolve) => {
    const next = () => {
      if (remainingMs <= 0) {
        resolve();
        return;
      }
      const delay = Math.min(remainingMs, MAX_TIMEOUT_MS);
      remainingMs -= delay;
      setTimeout(next, delay);
    };
    next();
  });
}
var monotonicClock = {
  resolution() {
    return BigInt(1e6);
  },
  now() {
    return BigInt(Math.floor(performance.now() * 1e6));
  },
  subscribeInstant(instant) {
    instant = checkedU64(instant, "instant");
    const now = monotonicClock.now();
    if (instant <= now) {
      return pollableCreate();
    }
    return monotonicClock.subscribeDuration(instant - now);
  },
  subscribeDuration(duration) {
    duration = checkedU64(duration, "duration");
    if (duration === 0n) {
      return pollableCreate();
    }
    return pollableCreate(timeout(duration));
  }
};
var wallClock = {
  now() {
    let now = Date.now();
    const seconds = BigInt(Math.floor(now / 1e3));
    const nanoseconds = now % 1e3 * 1e6;
    return { seconds, nanoseconds };
  },
  resolution() {
    return { seconds: 0n, nanoseconds: 1e6 };
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/in-memory-filesystem.js
var rootEntries = /* @__PURE__ */ new WeakSet();
var timeZero = {
  seconds: 0n,
  nanoseconds: 0
};
function coerceToSafeIntegerNumber(obj) {
  let n;
  if (typeof obj === "number") {
    n = obj;
  } else if (typeof obj == "bigint") {
    n = Number(obj);
  } else {
    throw new TypeError(`unexpected non-numeric type: ${obj}`);
  }
  if (n > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(`excessively large number: ${n}`);
  }
  return n;
}
var MAX_SYMLINK_DEPTH = 40;
function resolveEntry(root, path, followFinal, allowMissingFinal = false) {
  const directories = [root];
  const pending = path.split("/").reverse();
  let followed = 0;
  while (pending.length) {
    const parent = directories[directories.length - 1];
    if (!parent.dir) {
      throw "not-directory";
    }
    const name = pending.pop();
    if (name === "" || name === ".") {
      continue;
    }
    if (name === "..") {
      if (directories.length === 1) {
        throw "not-permitted";
      }
      directories.pop();
      continue;
    }
    const entry2 = parent.dir[name];
    const isFinal = pending.length === 0;
    if (!entry2) {
      if (isFinal && allowMissingFinal) {
        return { entry: void 0, parent, name };
      }
      throw "no-entry";
    }
    if (entry2.symlink !== void 0 && (!isFinal || followFinal)) {
      if (++followed > MAX_SYMLINK_DEPTH) {
        throw "loop";
      }
      if (entry2.symlink.startsWith("/")) {
        throw "not-permitted";
      }
      for (const segment of entry2.symlink.split("/").reverse()) {
        pending.push(segment);
      }
      continue;
    }
    if (isFinal) {
      return { entry: entry2, parent, name };
    }
    directories.push(entry2);
  }
  const entry = directories[directories.length - 1];
  return { entry, parent: entry, name: "" };
}
function lookupPath(root, path) {
  if (path === "." && rootEntries.has(root)) {
    return _getCwd();
  }
  return path;
}
function getChildEntry(parentEntry, subpath, followFinal) {
  return resolveEntry(parentEntry, lookupPath(parentEntry, subpath), !!followFinal).entry;
}
function getParentEntry(root, path) {
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  const name = segments.pop();
  if (!name || name === "..") {
    throw "invalid";
  }
  const parent = resolveEntry(root, segments.join("/"), true).entry;
  if (!parent.dir) {
    throw "not-directory";
  }
  return [parent, name];
}
function getSource(fileEntry) {
  if (typeof fileEntry.source === "string") {
    fileEntry.source = new TextEncoder().encode(fileEntry.source);
  }
  return fileEntry.source;
}
function describeEntry(entry) {
  if (entry.symlink !== void 0) {
    return {
      type: "symbolic-link",
      size: BigInt(new TextEncoder().encode(entry.symlink).byteLength)
    };
  }
  if (entry.dir) {
    return { type: "directory", size: 0n };
  }
  return { type: "regular-file", size: BigInt(getSource(entry).byteLength) };
}
function containsEntry(root, target) {
  if (root === target) {
    return true;
  }
  return root.dir ? Object.values(root.dir).some((entry) => containsEntry(entry, target)) : false;
}
var fileWriteBuffers = /* @__PURE__ */ new WeakMap();
var nextEntryId = 0n;
var entryMetadata = /* @__PURE__ */ new WeakMap();
function metadata(entry) {
  let value = entryMetadata.get(entry);
  if (!value) {
    value = { id: ++nextEntryId, version: 0n, linkCount: 1n };
    entryMetadata.set(entry, value);
  }
  return value;
}
var fileLocks = /* @__PURE__ */ new WeakMap();
function lockState(entry) {
  let state = fileLocks.get(entry);
  if (!state) {
    state = { exclusiveHolder: null, sharedHolders: /* @__PURE__ */ new Set() };
    fileLocks.set(entry, state);
  }
  return state;
}
var touchListeners = /* @__PURE__ */ new Set();
function touch(entry) {
  metadata(entry).version++;
  for (const listener of touchListeners) {
    listener(entry);
  }
}
function getFileWriteBuffer(entry, source, requiredLength) {
  let buffer = fileWriteBuffers.get(entry);
  if (!buffer || buffer.buffer !== source.buffer || buffer.byteOffset !== source.byteOffset) {
    buffer = source;
  }
  if (requiredLength <= buffer.byteLength) {
    return buffer;
  }
  const newBuffer = new Uint8Array(Math.max(requiredLength, source.byteLength * 2));
  newBuffer.set(source);
  fileWriteBuffers.set(entry, newBuffer);
  return newBuffer;
}
var DirectoryEntryStream = class _DirectoryEntryStream {
  idx = 0;
  entries = [];
  static _create(entries) {
    const stream = new _DirectoryEntryStream();
    stream.entries = entries;
    return stream;
  }
  readDirectoryEntry() {
    if (this.idx === this.entries.length) {
      return void 0;
    }
    const [name, entry] = this.entries[this.idx];
    this.idx += 1;
    return {
      name,
      type: describeEntry(entry).type
    };
  }
};
var descriptorEntryStreamCreate = DirectoryEntryStream._create;
delete DirectoryEntryStream._create;
var Descriptor = class _Descriptor {
  #stream;
  #entry;
  #flags = {
    read: true,
    write: true,
    mutateDirectory: true
  };
  #advice = "normal";
  _getEntry(descriptor) {
    return descriptor.#entry;
  }
  static _create(entry, isStream) {
    const descriptor = new _Descriptor();
    if (isStream) {
      descriptor.#stream = entry;
    } else {
      descriptor.#entry = entry;
    }
    return descriptor;
  }
  readViaStream(_offset) {
    const source = getSource(this.#entry);
    let offset = Number(_offset);
    return inputStreamCreate({
      blockingRead(len) {
        if (offset === source.byteLength) {
          throw { tag: "closed" };
        }
        const bytes = source.slice(offset, offset + Number(len));
        offset += bytes.byteLength;
        return bytes;
      }
    });
  }
  writeViaStream(_offset) {
    const entry = this.#entry;
    let offset = coerceToSafeIntegerNumber(_offset);
    return outputStreamCreate({
      write(buf) {
        if (buf.byteLength === 0) {
          return;
        }
        const source = getSource(entry);
        const end = offset + buf.byteLength;
        if (!Number.isSafeInteger(end)) {
          throw new TypeError(`excessively large number: ${end}`);
        }
        const buffer = getFileWriteBuffer(entry, source, end);
        if (offset > source.byteLength) {
          buffer.fill(0, source.byteLength, offset);
        }
        buffer.set(buf, offset);
        entry.source = buffer.subarray(0, Math.max(source.byteLength, end));
        offset = end;
        touch(entry);
      }
    });
  }
  appendViaStream() {
    return this.writeViaStream(this.stat().size);
  }
  advise(_offset, _length, advice) {
    if (this.getType() === "directory") {
      throw "bad-descriptor";
    }
    this.#advice = advice;
  }
  syncData() {
  }
  getFlags() {
    return { ...this.#flags };
  }
  getType() {
    if (this.#stream) {
      return "fifo";
    }
    if (this.#entry.symlink !== void 0) {
      return "symbolic-link";
    }
    if (this.#entry.dir) {
      return "directory";
    }
    if (this.#entry.source) {
      return "regular-file";
    }
    return "unknown";
  }
  setSize(size) {
    if (this.getType() === "directory") {
      throw "is-directory";
    }
    const length = coerceToSafeIntegerNumber(size);
    const source = getSource(this.#entry);
    const resized = new Uint8Array(length);
    resized.set(source.subarray(0, length));
    this.#entry.source = resized;
    touch(this.#entry);
  }
  setTimes(dataAccessTimestamp, dataModificationTimestamp) {
    if (dataAccessTimestamp?.tag !== "no-change" || dataModificationTimestamp?.tag !== "no-change") {
      touch(this.#entry);
    }
  }
  read(length, offset) {
    const source = getSource(this.#entry);
    const off = coerceToSafeIntegerNumber(offset);
    const len = coerceToSafeIntegerNumber(length);
    const result = [
      source.slice(off, off + len),
      off + len >= source.byteLength
    ];
    return result;
  }
  write(buffer, offset) {
    if (this.getType() === "directory") {
      throw "is-directory";
    }
    const off = coerceToSafeIntegerNumber(offset);
    const source = getSource(this.#entry);
    const end = off + buffer.byteLength;
    if (!Number.isSafeInteger(end)) {
      throw "file-too-large";
    }
    const target = new Uint8Array(Math.max(source.byteLength, end));
    target.set(source);
    target.set(buffer, off);
    this.#entry.source = target;
    touch(this.#entry);
    return BigInt(buffer.byteLength);
  }
  readDirectory() {
    if (!this.#entry?.dir) {
      throw "bad-descriptor";
    }
    return descriptorEntryStreamCreate(Object.entries(this.#entry.dir).sort(([a], [b]) => a > b ? 1 : -1));
  }
  sync() {
  }
  createDirectoryAt(path) {
    try {
      getChildEntry(this.#entry, path, false);
      throw "exist";
    } catch (error2) {
      if (error2 !== "no-entry") {
        throw error2;
      }
    }
    const [parent, name] = getParentEntry(this.#entry, path);
    parent.dir[name] = { dir: {} };
    touch(parent);
  }
  stat() {
    const { type, size } = describeEntry(this.#entry);
    return {
      type,
      linkCount: metadata(this.#entry).linkCount,
      size,
      dataAccessTimestamp: timeZero,
      dataModificationTimestamp: timeZero,
      statusChangeTimestamp: timeZero
    };
  }
  statAt(pathFlags, path) {
    const entry = getChildEntry(this.#entry, path, pathFlags.symlinkFollow);
    const { type, size } = describeEntry(entry);
    return {
      type,
      linkCount: metadata(entry).linkCount,
      size,
      dataAccessTimestamp: timeZero,
      dataModificationTimestamp: timeZero,
      statusChangeTimestamp: timeZero
    };
  }
  setTimesAt(pathFlags, path, _atime, mtime) {
    const entry = getChildEntry(this.#entry, path, pathFlags.symlinkFollow);
    if (mtime?.tag !== "no-change") {
      fileWriteBuffers.delete(entry);
      touch(entry);
    }
  }
  linkAt(oldPathFlags, oldPath, newDescriptor, newPath) {
    const entry = getChildEntry(this.#entry, oldPath, oldPathFlags.symlinkFollow);
    if (entry.dir) {
      throw "not-permitted";
    }
    const [newParent, newName] = getParentEntry(descriptorGetEntry(unwrapDescriptor(newDescriptor)), newPath);
    if (newParent.dir[newName]) {
      throw "exist";
    }
    newParent.dir[newName] = entry;
    metadata(entry).linkCount++;
    touch(newParent);
  }
  openAt(pathFlags, path, openFlags, _flags) {
    const exclusiveCreate = !!(openFlags.create && openFlags.exclusive);
    const resolved = resolveEntry(this.#entry, lookupPath(this.#entry, path), !!pathFlags.symlinkFollow && !exclusiveCreate, !!openFlags.create);
    let childEntry = resolved.entry;
    if (childEntry && exclusiveCreate) {
      throw "exist";
    }
    if (!childEntry) {
      const { parent, name } = resolved;
      childEntry = parent.dir[name] = openFlags.directory ? { dir: {} } : { source: new Uint8Array() };
      touch(parent);
    }
    if (childEntry.symlink !== void 0) {
      throw "loop";
    }
    if (openFlags.directory && !childEntry.dir) {
      throw "not-directory";
    }
    if (openFlags.truncate) {
      if (childEntry.dir) {
        throw "is-directory";
      }
      childEntry.source = new Uint8Array();
      touch(childEntry);
    }
    return descriptorCreate(childEntry);
  }
  readlinkAt(path) {
    const entry = getChildEntry(this.#entry, path, false);
    if (entry.symlink === void 0) {
      throw "invalid";
    }
    if (entry.symlink.startsWith("/")) {
      throw "not-permitted";
    }
    return entry.symlink;
  }
  removeDirectoryAt(path) {
    const [parent, name] = getParentEntry(this.#entry, path);
    const entry = parent.dir?.[name];
    if (!entry) {
      throw "no-entry";
    }
    if (!entry.dir) {
      throw "not-directory";
    }
    if (Object.keys(entry.dir).length) {
      throw "not-empty";
    }
    delete parent.dir[name];
    metadata(entry).linkCount--;
    touch(parent);
  }
  renameAt(oldPath, newDescriptor, newPath) {
    const [oldParent, oldName] = getParentEntry(this.#entry, oldPath);
    const entry = oldParent.dir?.[oldName];
    if (!entry) {
      throw "no-entry";
    }
    const [newParent, newName] = getParentEntry(descriptorGetEntry(unwrapDescriptor(newDescriptor)), newPath);
    const replaced = newParent.dir[newName];
    if (oldParent === newParent && oldName === newName || replaced === entry) {
      return;
    }
    if (entry.dir && containsEntry(entry, newParent)) {
      throw "invalid";
    }
    if (replaced) {
      if (entry.dir && !replaced.dir) {
        throw "not-directory";
      }
      if (!entry.dir && replaced.dir) {
        throw "is-directory";
      }
      if (replaced.dir && Object.keys(replaced.dir).length > 0) {
        throw "not-empty";
      }
      metadata(replaced).linkCount--;
    }
    newParent.dir[newName] = entry;
    delete oldParent.dir[oldName];
    touch(oldParent);
    if (newParent !== oldParent) {
      touch(newParent);
    }
  }
  symlinkAt(oldPath, newPath) {
    if (oldPath.startsWith("/")) {
      throw "not-permitted";
    }
    const [parent, name] = getParentEntry(this.#entry, newPath);
    if (parent.dir[name]) {
      throw "exist";
    }
    parent.dir[name] = { symlink: oldPath };
    touch(parent);
  }
  unlinkFileAt(path) {
    const [parent, name] = getParentEntry(this.#entry, path);
    const entry = parent.dir?.[name];
    if (!entry) {
      throw "no-entry";
    }
    if (entry.dir) {
      throw "is-directory";
    }
    delete parent.dir[name];
    metadata(entry).linkCount--;
    touch(parent);
  }
  isSameObject(other) {
    return descriptorGetEntry(unwrapDescriptor(other)) === this.#entry;
  }
  metadataHash() {
    const value = metadata(this.#entry);
    return { upper: value.id, lower: value.version };
  }
  metadataHashAt(pathFlags, path) {
    const value = metadata(getChildEntry(this.#entry, path, pathFlags.symlinkFollow));
    return { upper: value.id, lower: value.version };
  }
  /**
   * Default advisory-locking implementation: a same-process reader/writer lock
   * keyed on the underlying entry. There's no real contention to wait out in a
   * single-threaded environment, so `lockShared`/`lockExclusive` don't block -
   * they throw `would-block` immediately when the lock isn't free, same as the
   * `tryLock*` variants report `false`.
   */
  tryLockShared() {
    const state = lockState(this.#entry);
    if (state.exclusiveHolder && state.exclusiveHolder !== this) {
      return false;
    }
    state.sharedHolders.add(this);
    return true;
  }
  tryLockExclusive() {
    const state = lockState(this.#entry);
    if (state.exclusiveHolder && state.exclusiveHolder !== this) {
      return false;
    }
    const otherReaders = state.sharedHolders.size - (state.sharedHolders.has(this) ? 1 : 0);
    if (otherReaders > 0) {
      return false;
    }
    state.sharedHolders.delete(this);
    state.exclusiveHolder = this;
    return true;
  }
  lockShared() {
    if (!this.tryLockShared()) {
      throw "would-block";
    }
  }
  lockExclusive() {
    if (!this.tryLockExclusive()) {
      throw "would-block";
    }
  }
  unlock() {
    const state = fileLocks.get(this.#entry);
    if (!state) {
      return;
    }
    state.sharedHolders.delete(this);
    if (state.exclusiveHolder === this) {
      state.exclusiveHolder = null;
    }
  }
};
var descriptorGetEntry = Descriptor.prototype._getEntry;
delete Descriptor.prototype._getEntry;
var descriptorCreate = Descriptor._create;
delete Descriptor._create;
var UNWRAP_DESCRIPTOR = /* @__PURE__ */ Symbol("browserFilesystemDescriptor.unwrap");
function unwrapDescriptor(descriptor) {
  let current = descriptor;
  for (; ; ) {
    const inner = current[UNWRAP_DESCRIPTOR];
    if (!inner || inner === current) {
      return current;
    }
    current = inner;
  }
}
var InMemoryFilesystemAdapter = class {
  getRoot(capability) {
    if (!capability.dir) {
      throw new TypeError("an in-memory preopen root must be a directory");
    }
    rootEntries.add(capability);
    return descriptorCreate(capability);
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/filesystem.js
var DirectoryEntryStream2 = class _DirectoryEntryStream {
  #implementation;
  static _create(implementation) {
    const stream = new _DirectoryEntryStream();
    stream.#implementation = implementation;
    return stream;
  }
  readDirectoryEntry() {
    return this.#implementation.readDirectoryEntry();
  }
};
var directoryEntryStreamCreate = DirectoryEntryStream2._create;
delete DirectoryEntryStream2._create;
var Descriptor2 = class _Descriptor {
  #implementation;
  _getImplementation(descriptor) {
    return descriptor.#implementation;
  }
  static _create(implementation) {
    const descriptor = new _Descriptor();
    descriptor.#implementation = implementation;
    return descriptor;
  }
  readViaStream(offset) {
    return this.#implementation.readViaStream(offset);
  }
  writeViaStream(offset) {
    return this.#implementation.writeViaStream(offset);
  }
  appendViaStream() {
    return this.#implementation.appendViaStream();
  }
  advise(offset, length, advice) {
    return this.#implementation.advise(offset, length, advice);
  }
  syncData() {
    return this.#implementation.syncData();
  }
  getFlags() {
    return this.#implementation.getFlags();
  }
  getType() {
    return this.#implementation.getType();
  }
  setSize(size) {
    return this.#implementation.setSize(size);
  }
  setTimes(dataAccessTimestamp, dataModificationTimestamp) {
    return this.#implementation.setTimes(dataAccessTimestamp, dataModificationTimestamp);
  }
  read(length, offset) {
    return this.#implementation.read(length, offset);
  }
  write(buffer, offset) {
    return this.#implementation.write(buffer, offset);
  }
  readDirectory() {
    return directoryEntryStreamCreate(this.#implementation.readDirectory());
  }
  sync() {
    return this.#implementation.sync();
  }
  createDirectoryAt(path) {
    return this.#implementation.createDirectoryAt(path);
  }
  stat() {
    return this.#implementation.stat();
  }
  statAt(pathFlags, path) {
    return this.#implementation.statAt(pathFlags, path);
  }
  setTimesAt(pathFlags, path, dataAccessTimestamp, dataModificationTimestamp) {
    return this.#implementation.setTimesAt(pathFlags, path, dataAccessTimestamp, dataModificationTimestamp);
  }
  linkAt(oldPathFlags, oldPath, newDescriptor, newPath) {
    return this.#implementation.linkAt(oldPathFlags, oldPath, descriptorGetImplementation(newDescriptor), newPath);
  }
  openAt(pathFlags, path, openFlags, flags) {
    return descriptorCreate2(this.#implementation.openAt(pathFlags, path, openFlags, flags));
  }
  readlinkAt(path) {
    return this.#implementation.readlinkAt(path);
  }
  removeDirectoryAt(path) {
    return this.#implementation.removeDirectoryAt(path);
  }
  renameAt(oldPath, newDescriptor, newPath) {
    return this.#implementation.renameAt(oldPath, descriptorGetImplementation(newDescriptor), newPath);
  }
  symlinkAt(oldPath, newPath) {
    return this.#implementation.symlinkAt(oldPath, newPath);
  }
  unlinkFileAt(path) {
    return this.#implementation.unlinkFileAt(path);
  }
  isSameObject(other) {
    return this.#implementation.isSameObject(descriptorGetImplementation(other));
  }
  metadataHash() {
    return this.#implementation.metadataHash();
  }
  metadataHashAt(pathFlags, path) {
    return this.#implementation.metadataHashAt(pathFlags, path);
  }
  lockShared() {
    return this.#implementation.lockShared?.();
  }
  lockExclusive() {
    return this.#implementation.lockExclusive?.();
  }
  tryLockShared() {
    return this.#implementation.tryLockShared?.() ?? false;
  }
  tryLockExclusive() {
    return this.#implementation.tryLockExclusive?.() ?? false;
  }
  unlock() {
    return this.#implementation.unlock?.();
  }
};
var descriptorGetImplementation = Descriptor2.prototype._getImplementation;
delete Descriptor2.prototype._getImplementation;
var descriptorCreate2 = Descriptor2._create;
delete Descriptor2._create;
var defaultAdapter = new InMemoryFilesystemAdapter();
var types = {
  Descriptor: Descriptor2,
  DirectoryEntryStream: DirectoryEntryStream2,
  filesystemErrorCode: (err) => {
    let message;
    if ("payload" in err) {
      message = err.payload;
    } else if ("message" in err) {
      message = err.message;
    }
    return convertFsError(message);
  }
};
function convertFsError(e) {
  switch (e.code) {
    case "EACCES":
      return "access";
    case "EAGAIN":
    case "EWOULDBLOCK":
      return "would-block";
    case "EALREADY":
      return "already";
    case "EBADF":
      return "bad-descriptor";
    case "EBUSY":
      return "busy";
    case "EDEADLK":
      return "deadlock";
    case "EDQUOT":
      return "quota";
    case "EEXIST":
      return "exist";
    case "EFBIG":
      return "file-too-large";
    case "EILSEQ":
      return "illegal-byte-sequence";
    case "EINPROGRESS":
      return "in-progress";
    case "EINTR":
      return "interrupted";
    case "EINVAL":
      return "invalid";
    case "EIO":
      return "io";
    case "EISDIR":
      return "is-directory";
    case "ELOOP":
      return "loop";
    case "EMLINK":
      return "too-many-links";
    case "EMSGSIZE":
      return "message-size";
    case "ENAMETOOLONG":
      return "name-too-long";
    case "ENODEV":
      return "no-device";
    case "ENOENT":
      return "no-entry";
    case "ENOLCK":
      return "no-lock";
    case "ENOMEM":
      return "insufficient-memory";
    case "ENOSPC":
      return "insufficient-space";
    case "ENOTDIR":
    case "ERR_FS_EISDIR":
      return "not-directory";
    case "ENOTEMPTY":
      return "not-empty";
    case "ENOTRECOVERABLE":
      return "not-recoverable";
    case "ENOTSUP":
      return "unsupported";
    case "ENOTTY":
      return "no-tty";
    // windows gives this error for badly structured `//` reads
    // this seems like a slightly better error than unknown given
    // that it's a common footgun
    case -4094:
    case "ENXIO":
      return "no-such-device";
    case "EOVERFLOW":
      return "overflow";
    case "EPERM":
      return "not-permitted";
    case "EPIPE":
      return "pipe";
    case "EROFS":
      return "read-only";
    case "ESPIPE":
      return "invalid-seek";
    case "ETXTBSY":
      return "text-file-busy";
    case "EXDEV":
      return "cross-device";
    case "UNKNOWN":
      switch (e.errno) {
        case -4094:
          return "no-such-device";
        default:
          throw e;
      }
    default:
      throw e;
  }
}

// node_modules/@bytecodealliance/preview2-shim/dist/browser/random.js
var MAX_BYTES = 65536;
var insecureRandomValue1;
var insecureRandomValue2;
var insecure = {
  getInsecureRandomBytes(len) {
    return random.getRandomBytes(len);
  },
  getInsecureRandomU64() {
    return random.getRandomU64();
  }
};
var insecureSeedValue1;
var insecureSeedValue2;
var insecureSeed = {
  insecureSeed() {
    if (insecureSeedValue1 === void 0 || insecureSeedValue2 === void 0) {
      insecureSeedValue1 = random.getRandomU64();
      insecureSeedValue2 = random.getRandomU64();
    }
    return [insecureSeedValue1, insecureSeedValue2];
  }
};
var random = {
  getRandomBytes(len) {
    const byteLength = checkedU64AsNumber(len, "random byte length");
    const bytes = new Uint8Array(byteLength);
    if (byteLength > MAX_BYTES) {
      for (let generated = 0; generated < byteLength; generated += MAX_BYTES) {
        crypto.getRandomValues(bytes.subarray(generated, generated + MAX_BYTES));
      }
    } else {
      crypto.getRandomValues(bytes);
    }
    return bytes;
  },
  getRandomU64() {
    return crypto.getRandomValues(new BigUint64Array(1))[0];
  },
  // @ts-expect-error Not defined in WIT
  insecureRandom() {
    if (insecureRandomValue1 === void 0 || insecureRandomValue2 === void 0) {
      insecureRandomValue1 = random.getRandomU64();
      insecureRandomValue2 = random.getRandomU64();
    }
    return [insecureRandomValue1, insecureRandomValue2];
  }
};

// node_modules/@bytecodealliance/preview2-shim/dist/browser/sockets.js
var unsupported = () => {
  throw "not-supported";
};
var Network = class {
};
var defaultNetwork = new Network();
var instanceNetwork = {
  instanceNetwork: () => defaultNetwork
};
var network = { Network };
var ResolveAddressStream = class {
  resolveNextAddress = unsupported;
  subscribe = unsupported;
};
var ipNameLookup = {
  ResolveAddressStream,
  resolveAddresses: unsupported
};
var TcpSocket = class {
  startBind = unsupported;
  finishBind = unsupported;
  startConnect = unsupported;
  finishConnect = unsupported;
  startListen = unsupported;
  finishListen = unsupported;
  accept = unsupported;
  localAddress = unsupported;
  remoteAddress = unsupported;
  isListening = unsupported;
  addressFamily = unsupported;
  setListenBacklogSize = unsupported;
  keepAliveEnabled = unsupported;
  setKeepAliveEnabled = unsupported;
  keepAliveIdleTime = unsupported;
  setKeepAliveIdleTime = unsupported;
  keepAliveInterval = unsupported;
  setKeepAliveInterval = unsupported;
  keepAliveCount = unsupported;
  setKeepAliveCount = unsupported;
  hopLimit = unsupported;
  setHopLimit = unsupported;
  receiveBufferSize = unsupported;
  setReceiveBufferSize = unsupported;
  sendBufferSize = unsupported;
  setSendBufferSize = unsupported;
  subscribe = unsupported;
  shutdown = unsupported;
};
var tcpCreateSocket = {
  createTcpSocket: unsupported
};
var tcp = { TcpSocket };
var IncomingDatagramStream = class {
  receive = unsupported;
  subscribe = unsupported;
};
var OutgoingDatagramStream = class {
  checkSend = unsupported;
  send = unsupported;
  subscribe = unsupported;
};
var UdpSocket = class {
  startBind = unsupported;
  finishBind = unsupported;
  stream = unsupported;
  localAddress = unsupported;
  remoteAddress = unsupported;
  addressFamily = unsupported;
  unicastHopLimit = unsupported;
  setUnicastHopLimit = unsupported;
  receiveBufferSize = unsupported;
  setReceiveBufferSize = unsupported;
  sendBufferSize = unsupported;
  setSendBufferSize = unsupported;
  subscribe = unsupported;
};
var udpCreateSocket = {
  createUdpSocket: unsupported
};
var udp = {
  IncomingDatagramStream,
  OutgoingDatagramStream,
  UdpSocket
};

// src/material-instance.js
var KV_QUOTA = 64 * 1024;
var LEVELS = ["trace", "debug", "info", "warn", "error"];
function hostInterface(label, config) {
  const kv = /* @__PURE__ */ new Map();
  let used = 0;
  const size = (key, value) => new TextEncoder().encode(key).length + value.length;
  return {
    log(level, message, fields) {
      const tag = typeof level === "string" ? level : LEVELS[level] ?? "info";
      const method = tag === "error" ? "error" : tag === "warn" ? "warn" : "debug";
      console[method](`[${label}]`, message, Object.fromEntries(fields ?? []));
    },
    config() {
      return config;
    },
    kvGet(key) {
      return kv.get(key);
    },
    kvSet(key, value) {
      if (key === "" || key.length > 256) throw { tag: "invalid-key" };
      const before = kv.has(key) ? size(key, kv.get(key)) : 0;
      const after = used - before + size(key, value);
      if (after > KV_QUOTA) throw { tag: "quota-exceeded", val: BigInt(KV_QUOTA) };
      kv.set(key, value);
      used = after;
    },
    kvDelete(key) {
      if (kv.has(key)) {
        used -= size(key, kv.get(key));
        kv.delete(key);
      }
    }
  };
}
function wasiImports() {
  return {
    "wasi:cli/environment": environment,
    "wasi:cli/exit": exit,
    "wasi:cli/stdin": stdin,
    "wasi:cli/stdout": stdout,
    "wasi:cli/stderr": stderr,
    "wasi:cli/terminal-input": terminalInput,
    "wasi:cli/terminal-output": terminalOutput,
    "wasi:cli/terminal-stdin": terminalStdin,
    "wasi:cli/terminal-stdout": terminalStdout,
    "wasi:cli/terminal-stderr": terminalStderr,
    "wasi:clocks/monotonic-clock": monotonicClock,
    "wasi:clocks/wall-clock": wallClock,
    "wasi:filesystem/types": types,
    "wasi:filesystem/preopens": { getDirectories: () => [] },
    "wasi:io/error": error,
    "wasi:io/poll": poll,
    "wasi:io/streams": streams,
    "wasi:random/random": random,
    "wasi:random/insecure": insecure,
    "wasi:random/insecure-seed": insecureSeed,
    "wasi:sockets/network": network,
    "wasi:sockets/instance-network": instanceNetwork,
    "wasi:sockets/tcp": tcp,
    "wasi:sockets/tcp-create-socket": tcpCreateSocket,
    "wasi:sockets/udp": udp,
    "wasi:sockets/udp-create-socket": udpCreateSocket,
    "wasi:sockets/ip-name-lookup": ipNameLookup
  };
}
async function instantiate(moduleUrl, label, config) {
  const generated = await import(moduleUrl);
  const imports = { ...wasiImports(), "hangar:plugin/host": hostInterface(label, config) };
  return generated.instantiate(
    (file) => WebAssembly.compileStreaming(fetch(new URL(file, moduleUrl))),
    imports
  );
}
function callRender(exports2, propsJson) {
  try {
    return { html: exports2.render(propsJson) };
  } catch (err) {
    return err && err.payload !== void 0 ? { error: "answered", reason: String(err.payload).slice(0, 200) } : { error: "trapped" };
  }
}

// src/material-worker.js
var exports = null;
self.onmessage = async ({ data }) => {
  if (data.load) {
    try {
      exports = await instantiate(data.load, data.label, data.config);
      self.postMessage({ loaded: true });
    } catch (err) {
      self.postMessage({ failed: String(err && err.message) });
    }
  } else if (data.render !== void 0) {
    self.postMessage({ id: data.id, ...callRender(exports, data.render) });
  }
};
