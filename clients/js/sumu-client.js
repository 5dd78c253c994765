// @sumu/client: the SUMU WebSocket client. One ES module, no build step, no dependency.
//
//   import { connect } from "/sumu-client.js";
//   const client = connect({ url: "ws://127.0.0.1:3001/mvp", getToken: async () => token });
//   client.subscribe("room-1", (message) => console.log(message.seq, message.data));
//
// What it does for the application (README.md has the details):
// - keepalive: a ping every 5 minutes by default; API Gateway closes a connection idle for
//   10 minutes (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
// - reconnect: exponential backoff with full jitter, bounded in delay and attempts, a fresh
//   token from getToken() on every attempt (API Gateway authorizes only at connect time).
// - recovery: every channel is subscribed again with since = the last seq seen; messages are
//   delivered once and in seq order per channel (buffered at the subscribe/ack seam and across
//   a short reorder window), and a `recovered: false` ack is surfaced to the application.
"use strict";

const DEFAULTS = Object.freeze({
  pingIntervalMs: 5 * 60 * 1000,
  baseMs: 500,
  maxMs: 30_000,
  maxAttempts: 1000,
  reorderWindowMs: 1000,
  maxQueued: 100,
  maxBuffered: 10_000,
});

const OPEN = 1;

/** Exponential backoff with full jitter: uniform in [0, min(maxMs, baseMs * 2^attempt)).
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/)
 * @param {number} attempt 0 for the first retry
 * @param {{baseMs?: number, maxMs?: number}} backoff
 * @param {() => number} random a number in [0, 1)
 * @returns {number} the delay in milliseconds
 */
export function backoffDelay(attempt, backoff = {}, random = Math.random) {
  const baseMs = backoff.baseMs ?? DEFAULTS.baseMs;
  const maxMs = backoff.maxMs ?? DEFAULTS.maxMs;
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

/** A rejected request: the server's error frame, or the connection closing under it. */
export class SumuError extends Error {
  /** @param {string} message @param {Record<string, unknown> | null} frame */
  constructor(message, frame = null) {
    super(message);
    this.name = "SumuError";
    /** @type {Record<string, unknown> | null} the error frame, when the server sent one */
    this.frame = frame;
    /** @type {string | undefined} */
    this.code = frame && typeof frame.code === "string" ? frame.code : undefined;
  }
}

/**
 * @typedef {{type: "message", channel: string, id: string, seq: number, data: unknown}} ChannelMessage
 * @typedef {{type: "ack", statusCode: number, action: string, channel?: string, recovered?: boolean, seq?: number, [key: string]: unknown}} Ack
 * @typedef {{channel: string, recovered: boolean | undefined, seq: number | undefined, ack: Ack}} RecoveryEvent
 * @typedef {{
 *   url: string,
 *   token?: string,
 *   getToken?: () => string | Promise<string>,
 *   pingIntervalMs?: number,
 *   backoff?: {baseMs?: number, maxMs?: number, maxAttempts?: number},
 *   reorderWindowMs?: number,
 *   WebSocketImpl?: any,
 *   random?: () => number,
 *   timers?: {setTimeout: Function, clearTimeout: Function, setInterval: Function, clearInterval: Function},
 * }} ConnectOptions
 */

/** Open a client; it connects at once and reconnects until close().
 * @param {ConnectOptions} options
 * @returns {SumuClient}
 */
export function connect(options) {
  return new SumuClient(options);
}

export class SumuClient {
  /** @param {ConnectOptions} options */
  constructor(options) {
    if (!options || typeof options.url !== "string") throw new TypeError("connect: url is required");
    if (options.token === undefined && typeof options.getToken !== "function") {
      throw new TypeError("connect: token or getToken is required");
    }
    this._options = options;
    this._WebSocket = options.WebSocketImpl ?? globalThis.WebSocket;
    if (typeof this._WebSocket !== "function") throw new TypeError("connect: no WebSocket here: pass WebSocketImpl");
    this._random = options.random ?? Math.random;
    const timers = options.timers ?? globalThis;
    this._timers = {
      setTimeout: timers.setTimeout.bind(timers),
      clearTimeout: timers.clearTimeout.bind(timers),
      setInterval: timers.setInterval.bind(timers),
      clearInterval: timers.clearInterval.bind(timers),
    };
    this._backoff = { ...options.backoff };
    this._maxAttempts = options.backoff?.maxAttempts ?? DEFAULTS.maxAttempts;
    this._pingIntervalMs = options.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
    this._reorderWindowMs = options.reorderWindowMs ?? DEFAULTS.reorderWindowMs;
    /** @type {any} */
    this._socket = null;
    this._closed = false;
    this._attempt = 0;
    this._pingTimer = null;
    this._retryTimer = null;
    this._everOpened = false;
    /** @type {string | null} the connection id, from the last pong */
    this.connectionId = null;
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
    /** @type {Set<Function>} */
    this._userHandlers = new Set();
    /** @type {Map<string, ChannelState>} */
    this._channels = new Map();
    /** requests waiting for their ack, FIFO per action ("send", "publish") */
    /** @type {Map<string, Array<{resolve: Function, reject: Function}>>} */
    this._pending = new Map([["send", []], ["publish", []]]);
    /** frames to send once open (send/publish while reconnecting) */
    /** @type {string[]} */
    this._queue = [];
    this._open();
  }

  /** "connecting" | "open" | "reconnecting" | "closed" */
  get state() {
    if (this._closed) return "closed";
    if (this._socket && this._socket.readyState === OPEN) return "open";
    return this._attempt === 0 && !this._everOpened ? "connecting" : "reconnecting";
  }

  /** Listen to "open" | "close" | "error" | "recovered" | "reconnecting" | "pong"; returns the off function.
   * @param {string} event @param {Function} handler @returns {() => void} */
  on(event, handler) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(handler);
    return () => this._listeners.get(event)?.delete(handler);
  }

  /** Handle user-targeted deliveries (every frame that is not a pong, ack, error or channel
   * message: the backend's data verbatim). Returns the off function.
   * @param {(data: unknown) => void} handler @returns {() => void} */
  onMessage(handler) {
    this._userHandlers.add(handler);
    return () => this._userHandlers.delete(handler);
  }

  /** Subscribe to a channel. Returns a function that removes this handler (and unsubscribes
   * when it was the last one), with `.ready`: the promise of the first subscribe ack.
   * @param {string} channel
   * @param {(message: ChannelMessage) => void} onMessage
   * @param {{onRecoveryFailed?: (event: RecoveryEvent) => void}} [options]
   */
  subscribe(channel, onMessage, options = {}) {
    if (typeof channel !== "string" || channel === "") throw new TypeError("subscribe: a channel name");
    if (typeof onMessage !== "function") throw new TypeError("subscribe: an onMessage function");
    let state = this._channels.get(channel);
    if (!state) {
      state = new ChannelState(channel);
      this._channels.set(channel, state);
      if (this._isOpen()) this._sendSubscribe(state);
    }
    const entry = { onMessage, onRecoveryFailed: options.onRecoveryFailed };
    state.handlers.add(entry);
    const unsubscribe = () => {
      state.handlers.delete(entry);
      if (state.handlers.size === 0 && this._channels.get(channel) === state) {
        return this.unsubscribe(channel);
      }
      return Promise.resolve(undefined);
    };
    unsubscribe.ready = state.ready;
    return unsubscribe;
  }

  /** Leave a channel: no more of its messages are delivered from now on. Resolves on the
   * server's ack (at once when not connected: the subscription went with the connection).
   * @param {string} channel @returns {Promise<Ack | undefined>} */
  unsubscribe(channel) {
    const state = this._channels.get(channel);
    if (state) {
      this._channels.delete(channel);
      state.clearReorder(this._timers);
      state.failReady(new SumuError(`unsubscribed from ${channel}`));
    }
    if (!this._isOpen()) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this._pendingFor(`unsubscribe:${channel}`).push({ resolve, reject });
      this._raw({ action: "unsubscribe", channel });
    });
  }

  /** Send a message to the backends' queue; resolves on the ack, rejects on an error frame.
   * @param {unknown} message @returns {Promise<Ack>} */
  send(message) {
    return this._request("send", message);
  }

  /** Publish a message to the backends' topic; resolves on the ack, rejects on an error frame.
   * @param {unknown} message @returns {Promise<Ack>} */
  publish(message) {
    return this._request("publish", message);
  }

  /** Close for good: no reconnect; pending requests are rejected. */
  close() {
    if (this._closed) return;
    this._closed = true;
    this._stopTimers();
    for (const state of this._channels.values()) state.clearReorder(this._timers);
    this._failPending(new SumuError("the client was closed"));
    const socket = this._socket;
    this._socket = null;
    if (socket && socket.readyState <= OPEN) socket.close(1000, "client closed");
    this._emit("close", { code: 1000, reason: "client closed", willReconnect: false });
  }

  // --- connection -------------------------------------------------------------------------

  _isOpen() {
    return !this._closed && this._socket !== null && this._socket.readyState === OPEN;
  }

  async _open() {
    let token;
    try {
      token = this._options.getToken ? await this._options.getToken() : this._options.token;
    } catch (error) {
      this._emit("error", error);
      this._scheduleReconnect();
      return;
    }
    if (this._closed) return;
    const url = this._options.url;
    const separator = url.includes("?") ? "&" : "?";
    let socket;
    try {
      socket = new this._WebSocket(`${url}${separator}authorization=${encodeURIComponent(String(token))}`);
    } catch (error) {
      this._emit("error", error);
      this._scheduleReconnect();
      return;
    }
    this._socket = socket;
    socket.onopen = () => this._onOpen(socket);
    socket.onmessage = (event) => this._onFrame(socket, event.data);
    socket.onerror = (event) => { if (this._socket === socket) this._emit("error", event); };
    socket.onclose = (event) => this._onClose(socket, event);
  }

  _onOpen(socket) {
    if (socket !== this._socket || this._closed) return;
    this._attempt = 0;
    this._everOpened = true;
    this._raw({ action: "ping" }); // the pong carries the connection id
    this._pingTimer = this._timers.setInterval(() => this._raw({ action: "ping" }), this._pingIntervalMs);
    for (const state of this._channels.values()) this._sendSubscribe(state);
    // Requests queued while disconnected become in flight now, in their order.
    for (const waiters of this._pending.values()) for (const waiter of waiters) delete waiter.queued;
    for (const frame of this._queue.splice(0)) socket.send(frame);
    this._emit("open", { connectionId: this.connectionId });
  }

  _onClose(socket, event) {
    if (socket !== this._socket) return;
    this._socket = null;
    this._stopTimers();
    // Requests in flight on the dead connection: their ack can never come.
    this._failPending(new SumuError(`connection closed (${event?.code ?? "?"})`), false);
    for (const state of this._channels.values()) state.disconnected(this._timers);
    this.connectionId = null;
    if (this._closed) return;
    const willReconnect = this._attempt < this._maxAttempts;
    this._emit("close", { code: event?.code, reason: event?.reason, willReconnect });
    this._scheduleReconnect(false);
  }

  /** @param {boolean} announce emit the final "close" when giving up (not yet announced) */
  _scheduleReconnect(announce = true) {
    if (this._closed) return;
    if (this._attempt >= this._maxAttempts) {
      this._closed = true;
      this._failPending(new SumuError("gave up reconnecting"));
      if (announce) this._emit("close", { code: 1006, reason: "gave up reconnecting", willReconnect: false });
      return;
    }
    const delayMs = backoffDelay(this._attempt, this._backoff, this._random);
    this._attempt += 1;
    this._emit("reconnecting", { attempt: this._attempt, delayMs });
    this._retryTimer = this._timers.setTimeout(() => {
      this._retryTimer = null;
      this._open();
    }, delayMs);
  }

  _stopTimers() {
    if (this._pingTimer !== null) this._timers.clearInterval(this._pingTimer);
    if (this._retryTimer !== null) this._timers.clearTimeout(this._retryTimer);
    this._pingTimer = null;
    this._retryTimer = null;
  }

  _raw(frame) {
    if (this._isOpen()) this._socket.send(JSON.stringify(frame));
  }

  _request(action, message) {
    if (this._closed) return Promise.reject(new SumuError("the client was closed"));
    if (message === undefined) return Promise.reject(new TypeError(`${action}: a message`));
    const frame = JSON.stringify({ action, message });
    return new Promise((resolve, reject) => {
      if (this._isOpen()) {
        this._pending.get(action).push({ resolve, reject });
        this._socket.send(frame);
      } else if (this._queue.length < DEFAULTS.maxQueued) {
        // Sent on the next open; its ack is awaited from then on.
        this._queue.push(frame);
        this._pending.get(action).push({ resolve, reject, queued: true });
      } else {
        reject(new SumuError(`${action}: not connected and ${DEFAULTS.maxQueued} frames already queued`));
      }
    });
  }

  /** (Re)subscribe with since = the last seq seen, and hold the channel's frames until the ack. */
  _sendSubscribe(state) {
    const frame = { action: "subscribe", channel: state.channel };
    if (state.lastSeq !== null) frame.since = state.lastSeq;
    state.subscribing();
    this._raw(frame);
  }

  _pendingFor(key) {
    if (!this._pending.has(key)) this._pending.set(key, []);
    return this._pending.get(key);
  }

  /** Reject what waits for an ack; on a connection loss keep the queued (not yet sent) ones. */
  _failPending(error, all = true) {
    for (const [key, waiters] of this._pending) {
      const keep = all ? [] : waiters.filter((waiter) => waiter.queued);
      // An unsubscribe has what it asked for: the subscription goes with the connection.
      const settle = key.startsWith("unsubscribe:") ? (waiter) => waiter.resolve(undefined) : (waiter) => waiter.reject(error);
      for (const waiter of waiters) if (!keep.includes(waiter)) settle(waiter);
      this._pending.set(key, keep);
    }
    if (all) this._queue = [];
    for (const state of this._channels.values()) if (all) state.failReady(error);
  }

  _emit(event, value) {
    for (const handler of [...(this._listeners.get(event) ?? [])]) {
      try { handler(value); } catch (error) { reportLater(error); }
    }
  }

  // --- frames -----------------------------------------------------------------------------

  _onFrame(socket, raw) {
    if (socket !== this._socket) return;
    let frame;
    try { frame = JSON.parse(raw); } catch { frame = raw; }
    const type = frame !== null && typeof frame === "object" ? frame.type : undefined;
    if (type === "pong") {
      if (typeof frame.connectionId === "string") this.connectionId = frame.connectionId;
      this._emit("pong", frame);
    } else if (type === "ack") {
      this._onAck(frame);
    } else if (type === "error" && typeof frame.code === "string") {
      this._onError(frame);
    } else if (type === "message" && typeof frame.channel === "string") {
      const state = this._channels.get(frame.channel);
      if (state) state.receive(frame, this);
    } else {
      for (const handler of [...this._userHandlers]) {
        try { handler(frame); } catch (error) { reportLater(error); }
      }
    }
  }

  _onAck(frame) {
    const { action, channel } = frame;
    if (action === "subscribe" && typeof channel === "string") {
      const state = this._channels.get(channel);
      if (state) state.acked(frame, this);
    } else if (action === "unsubscribe" && typeof channel === "string") {
      this._pendingFor(`unsubscribe:${channel}`).shift()?.resolve(frame);
    } else if (action === "send" || action === "publish") {
      this._nextWaiter(action)?.resolve(frame);
    }
  }

  _onError(frame) {
    const { action, channel } = frame;
    const error = new SumuError(`${action ?? "frame"}: ${frame.code}: ${frame.message ?? ""}`, frame);
    if (action === "subscribe" && typeof channel === "string" && this._channels.has(channel)) {
      // Refused (forbidden, invalid, limit): the channel is dropped, not retried.
      const state = this._channels.get(channel);
      this._channels.delete(channel);
      state.clearReorder(this._timers);
      state.failReady(error);
      this._emit("error", error);
    } else if (action === "unsubscribe" && typeof channel === "string") {
      const waiter = this._pendingFor(`unsubscribe:${channel}`).shift();
      waiter ? waiter.reject(error) : this._emit("error", error);
    } else if ((action === "send" || action === "publish") && this._pending.get(action).length) {
      this._nextWaiter(action).reject(error);
    } else {
      this._emit("error", error);
    }
  }

  _nextWaiter(action) {
    const waiters = this._pending.get(action);
    const index = waiters.findIndex((waiter) => !waiter.queued);
    return index < 0 ? undefined : waiters.splice(index, 1)[0];
  }
}

/** One channel's delivery state: the last seq delivered, the seam buffer, the reorder window. */
class ChannelState {
  /** @param {string} channel */
  constructor(channel) {
    this.channel = channel;
    /** @type {Set<{onMessage: Function, onRecoveryFailed?: Function}>} */
    this.handlers = new Set();
    /** @type {number | null} the last seq delivered (or the head the server named) */
    this.lastSeq = null;
    /** @type {Map<number, ChannelMessage> | null} frames held between subscribe and its ack */
    this.seam = null;
    /** @type {Map<number, ChannelMessage>} frames held while an earlier seq is missing */
    this.held = new Map();
    this.reorderTimer = null;
    this._settled = false;
    this.ready = new Promise((resolve, reject) => { this._resolve = resolve; this._reject = reject; });
    this.ready.catch(() => {}); // the application may never await it
  }

  /** The subscribe frame was sent: hold this channel's messages until the ack. */
  subscribing() {
    this.seam = new Map();
  }

  disconnected(timers) {
    this.seam = null;
    // Frames held behind a gap stay held, without their timer: the resubscribe's since is the
    // last seq delivered, so the recovery fills the gap and its ack delivers them in order.
    this.clearReorder(timers);
  }

  /** @param {ChannelMessage} frame @param {SumuClient} client */
  receive(frame, client) {
    const seq = frame.seq;
    if (!Number.isInteger(seq)) {
      this.deliver(frame); // a server without history: live only, no ordering to keep
      return;
    }
    if (this.lastSeq !== null && seq <= this.lastSeq) return; // already delivered
    if (this.seam) {
      if (this.seam.size < DEFAULTS.maxBuffered) this.seam.set(seq, frame);
      return;
    }
    if (this.lastSeq === null || seq === this.lastSeq + 1) {
      this.deliverInOrder(frame);
      this.drainHeld(client._timers);
      return;
    }
    // seq > lastSeq + 1: an earlier message is still on its way (concurrent publishers, or
    // deliveries racing); hold this one for up to reorderWindowMs.
    if (this.held.size < DEFAULTS.maxBuffered) this.held.set(seq, frame);
    if (this.reorderTimer === null) {
      this.reorderTimer = client._timers.setTimeout(() => {
        this.reorderTimer = null;
        this.flushHeld(client._timers);
      }, client._reorderWindowMs);
    }
  }

  /** @param {Ack} ack @param {SumuClient} client */
  acked(ack, client) {
    const buffered = this.seam ? [...this.seam.values()] : [];
    this.seam = null;
    const event = { channel: this.channel, recovered: ack.recovered, seq: ack.seq, ack };
    if (ack.recovered === false) {
      for (const entry of [...this.handlers]) {
        if (entry.onRecoveryFailed) {
          try { entry.onRecoveryFailed(event); } catch (error) { reportLater(error); }
        }
      }
    }
    // Every resubscribe (after a reconnect) reports its outcome; the first ack is `.ready`.
    if (this._settled) client._emit("recovered", event);
    // The seam rule: everything that arrived since the subscribe, in seq order, each seq once.
    for (const frame of [...buffered, ...this.held.values()].sort((a, b) => a.seq - b.seq)) {
      if (this.lastSeq === null || frame.seq > this.lastSeq) this.deliverInOrder(frame);
    }
    this.held.clear();
    this.clearReorder(client._timers);
    // The head: everything up to it is now delivered (recovered) or in the state the
    // application reloads (recovered: false), or was published before this subscription.
    if (Number.isInteger(ack.seq) && (this.lastSeq === null || ack.seq > this.lastSeq)) {
      this.lastSeq = ack.seq;
    }
    this.drainHeld(client._timers);
    if (!this._settled) {
      this._settled = true;
      this._resolve(ack);
    }
  }

  drainHeld(timers) {
    while (this.lastSeq !== null && this.held.has(this.lastSeq + 1)) {
      const frame = this.held.get(this.lastSeq + 1);
      this.held.delete(this.lastSeq + 1);
      this.deliverInOrder(frame);
    }
    for (const seq of this.held.keys()) if (seq <= (this.lastSeq ?? -Infinity)) this.held.delete(seq);
    if (this.held.size === 0) this.clearReorder(timers);
  }

  /** The window passed and the gap is still there: deliver what is held, in order. */
  flushHeld(timers) {
    const frames = [...this.held.values()].sort((a, b) => a.seq - b.seq);
    this.held.clear();
    for (const frame of frames) if (this.lastSeq === null || frame.seq > this.lastSeq) this.deliverInOrder(frame);
    this.clearReorder(timers);
  }

  clearReorder(timers) {
    if (this.reorderTimer !== null) timers.clearTimeout(this.reorderTimer);
    this.reorderTimer = null;
  }

  deliverInOrder(frame) {
    this.lastSeq = frame.seq;
    this.deliver(frame);
  }

  deliver(frame) {
    for (const entry of [...this.handlers]) {
      try { entry.onMessage(frame); } catch (error) { reportLater(error); }
    }
  }

  failReady(error) {
    if (!this._settled) {
      this._settled = true;
      this._reject(error);
    }
  }
}

/** A handler's exception must not break the client's bookkeeping: rethrow it on its own turn. */
function reportLater(error) {
  setTimeout(() => { throw error; }, 0);
}
