// Test doubles: a WebSocket the test drives by hand, and a clock that only moves when told.

export class FakeClock {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    /** @type {Map<number, {at: number, fn: Function, every: number | null}>} */
    this.timers = new Map();
  }
  setTimeout(fn, ms) { const id = this.nextId++; this.timers.set(id, { at: this.now + ms, fn, every: null }); return id; }
  setInterval(fn, ms) { const id = this.nextId++; this.timers.set(id, { at: this.now + ms, fn, every: ms }); return id; }
  clearTimeout(id) { this.timers.delete(id); }
  clearInterval(id) { this.timers.delete(id); }
  /** Run every timer due within ms, in time order (bounded: at most 10,000 firings). */
  advance(ms) {
    const end = this.now + ms;
    for (let i = 0; i < 10_000; i++) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.now = timer.at;
      if (timer.every === null) this.timers.delete(id);
      else timer.at += timer.every;
      timer.fn();
    }
    this.now = end;
  }
  pending() { return [...this.timers.values()].map((t) => t.at - this.now); }
}

export function fakeWebSocketClass() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error("send on a socket that is not open");
      this.sent.push(JSON.parse(data));
    }
    close(code, reason) { this.closedWith = { code, reason }; this.readyState = 3; }
    // --- driven by the test ---
    serverOpen() { this.readyState = 1; this.onopen?.({}); }
    serverSend(frame) { this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) }); }
    serverClose(code = 1006, reason = "") { this.readyState = 3; this.onclose?.({ code, reason }); }
    framesOf(action) { return this.sent.filter((f) => f.action === action); }
  }
  return { FakeWebSocket, sockets };
}

/** Let awaited promises (getToken, acks) settle. */
export async function flush() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

export function message(channel, seq, data = `m${seq}`) {
  return { type: "message", channel, id: `id-${seq}`, seq, data };
}
