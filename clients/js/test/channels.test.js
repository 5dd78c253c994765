import { test } from "node:test";
import assert from "node:assert/strict";
import { flush, message } from "../test-support/fakes.js";
import { openClient } from "../test-support/helpers.js";

const ack = (channel, extra = {}) => ({ type: "ack", statusCode: 200, action: "subscribe", channel, ...extra });

async function subscribed(options = {}) {
  const opened = await openClient(options);
  const got = [];
  const failures = [];
  const unsubscribe = opened.client.subscribe("room-1", (m) => got.push(m.seq), {
    onRecoveryFailed: (event) => failures.push(event),
  });
  return { ...opened, got, failures, unsubscribe };
}

/** Drop the connection, let the backoff pass, open the next one. */
async function reconnect({ clock, sockets }) {
  sockets.at(-1).serverClose(1006);
  clock.advance(60_000);
  await flush();
  sockets.at(-1).serverOpen();
  return sockets.at(-1);
}

test("subscribe: the frame, then the ack resolves .ready; messages delivered in order", async () => {
  const { client, socket, got, unsubscribe } = await subscribed();
  assert.deepEqual(socket().framesOf("subscribe"), [{ action: "subscribe", channel: "room-1" }]);
  socket().serverSend(ack("room-1", { seq: 4 }));
  assert.equal((await unsubscribe.ready).seq, 4);
  socket().serverSend(message("room-1", 5));
  socket().serverSend(message("room-1", 6));
  assert.deepEqual(got, [5, 6]);
  client.close();
});

test("subscribe before open: sent on open", async () => {
  const { client, sockets, clock } = await openClient();
  sockets[0].serverClose(1006);
  client.subscribe("room-2", () => {});
  const next = await reconnect({ clock, sockets });
  assert.deepEqual(next.framesOf("subscribe"), [{ action: "subscribe", channel: "room-2" }]);
  client.close();
});

test("dedupe: a (channel, seq) already delivered is dropped", async () => {
  const { client, socket, got } = await subscribed();
  socket().serverSend(ack("room-1", { seq: 0 }));
  for (const seq of [1, 2, 2, 1, 3, 3]) socket().serverSend(message("room-1", seq));
  assert.deepEqual(got, [1, 2, 3]);
  client.close();
});

test("reconnect: every channel is subscribed again with since = the last seq seen", async () => {
  const { client, clock, sockets, socket, got } = await subscribed();
  client.subscribe("room-2", () => {});
  socket().serverSend(ack("room-1", { seq: 0 }));
  socket().serverSend(ack("room-2"));
  socket().serverSend(message("room-1", 1));
  socket().serverSend(message("room-1", 2));
  const next = await reconnect({ clock, sockets });
  assert.deepEqual(next.framesOf("subscribe"), [
    { action: "subscribe", channel: "room-1", since: 2 },
    { action: "subscribe", channel: "room-2" },
  ]);
  assert.deepEqual(got, [1, 2]);
  client.close();
});

test("recovery: missed messages then the ack; live ones at the seam buffered, each seq once, in order", async () => {
  const { client, clock, sockets, socket, got } = await subscribed();
  const recovered = [];
  client.on("recovered", (event) => recovered.push([event.channel, event.recovered, event.seq]));
  socket().serverSend(ack("room-1", { seq: 2 }));
  socket().serverSend(message("room-1", 3));
  const next = await reconnect({ clock, sockets });
  // a live 6 and 5 race the recovery of 4..5 (seq <= head also arrives live at the seam)
  next.serverSend(message("room-1", 6));
  next.serverSend(message("room-1", 4));
  next.serverSend(message("room-1", 5));
  next.serverSend(message("room-1", 5));
  assert.deepEqual(got, [3]); // held until the ack
  next.serverSend(ack("room-1", { recovered: true, seq: 5 }));
  assert.deepEqual(got, [3, 4, 5, 6]);
  next.serverSend(message("room-1", 6));
  next.serverSend(message("room-1", 7));
  assert.deepEqual(got, [3, 4, 5, 6, 7]);
  assert.deepEqual(recovered, [["room-1", true, 5]]);
  client.close();
});

test("recovered false: onRecoveryFailed and the event, then live messages from the head on", async () => {
  const { client, clock, sockets, socket, got, failures } = await subscribed();
  const events = [];
  client.on("recovered", (event) => events.push(event.recovered));
  socket().serverSend(ack("room-1", { seq: 0 }));
  socket().serverSend(message("room-1", 1));
  const next = await reconnect({ clock, sockets });
  next.serverSend(message("room-1", 300)); // live, at the seam
  next.serverSend(ack("room-1", { recovered: false, seq: 300 }));
  next.serverSend(message("room-1", 301));
  assert.equal(failures.length, 1);
  assert.deepEqual([failures[0].channel, failures[0].recovered, failures[0].seq], ["room-1", false, 300]);
  assert.deepEqual(events, [false]);
  assert.deepEqual(got, [1, 300, 301]);
  // the next resubscribe asks from the head on
  const third = await reconnect({ clock, sockets });
  assert.deepEqual(third.framesOf("subscribe"), [{ action: "subscribe", channel: "room-1", since: 301 }]);
  client.close();
});

test("a server without history: no seq in the ack, messages without seq delivered live", async () => {
  const { client, socket } = await openClient();
  const got = [];
  client.subscribe("room-1", (m) => got.push(m.data));
  socket().serverSend(ack("room-1"));
  socket().serverSend({ type: "message", channel: "room-1", id: "a", data: "x" });
  assert.deepEqual(got, ["x"]);
  client.close();
});

test("a resubscribe on a server without history: the recovered event, recovered undefined", async () => {
  const { client, clock, sockets, socket } = await subscribed();
  const events = [];
  client.on("recovered", (event) => events.push([event.channel, event.recovered]));
  socket().serverSend(ack("room-1"));
  assert.deepEqual(events, []); // the first ack is .ready, not a recovery
  const next = await reconnect({ clock, sockets });
  assert.deepEqual(next.framesOf("subscribe"), [{ action: "subscribe", channel: "room-1" }]);
  next.serverSend(ack("room-1"));
  assert.deepEqual(events, [["room-1", undefined]]);
  client.close();
});

test("reorder window: a later seq waits for the missing one, then both in order", async () => {
  const { client, clock, socket, got } = await subscribed({ reorderWindowMs: 500 });
  socket().serverSend(ack("room-1", { seq: 0 }));
  socket().serverSend(message("room-1", 1));
  socket().serverSend(message("room-1", 3));
  assert.deepEqual(got, [1]);
  socket().serverSend(message("room-1", 2));
  assert.deepEqual(got, [1, 2, 3]);
  // a gap that never fills: delivered in order when the window passes
  socket().serverSend(message("room-1", 6));
  socket().serverSend(message("room-1", 5));
  clock.advance(499);
  assert.deepEqual(got, [1, 2, 3]);
  clock.advance(1);
  assert.deepEqual(got, [1, 2, 3, 5, 6]);
  client.close();
});

test("reorder window across a reconnect: the recovery fills the gap, held frames after it", async () => {
  const { client, clock, sockets, socket, got } = await subscribed({ reorderWindowMs: 500 });
  socket().serverSend(ack("room-1", { seq: 0 }));
  socket().serverSend(message("room-1", 1));
  socket().serverSend(message("room-1", 3)); // 2 is late, and then the connection drops
  const next = await reconnect({ clock, sockets });
  assert.deepEqual(next.framesOf("subscribe"), [{ action: "subscribe", channel: "room-1", since: 1 }]);
  next.serverSend(message("room-1", 2));
  next.serverSend(message("room-1", 3));
  next.serverSend(ack("room-1", { recovered: true, seq: 3 }));
  assert.deepEqual(got, [1, 2, 3]);
  client.close();
});

test("subscribe refused (forbidden): .ready rejects with the code, the channel is not resubscribed", async () => {
  const { client, clock, sockets, socket, unsubscribe } = await subscribed();
  const errors = [];
  client.on("error", (error) => errors.push(error.code));
  socket().serverSend({ type: "error", statusCode: 403, code: "forbidden", message: "no", action: "subscribe", channel: "room-1" });
  await assert.rejects(unsubscribe.ready, (error) => error.code === "forbidden");
  assert.deepEqual(errors, ["forbidden"]);
  const next = await reconnect({ clock, sockets });
  assert.deepEqual(next.framesOf("subscribe"), []);
  client.close();
});

test("unsubscribe: the frame, its ack; no more messages, no resubscribe", async () => {
  const { client, clock, sockets, socket, got, unsubscribe } = await subscribed();
  socket().serverSend(ack("room-1", { seq: 0 }));
  socket().serverSend(message("room-1", 1));
  const done = unsubscribe();
  assert.deepEqual(socket().framesOf("unsubscribe"), [{ action: "unsubscribe", channel: "room-1" }]);
  socket().serverSend(message("room-1", 2));
  socket().serverSend({ type: "ack", statusCode: 200, action: "unsubscribe", channel: "room-1" });
  assert.equal((await done).action, "unsubscribe");
  assert.deepEqual(got, [1]);
  const next = await reconnect({ clock, sockets });
  assert.deepEqual(next.framesOf("subscribe"), []);
  client.close();
});

test("two handlers on one channel: one subscribe frame; the channel stays until both leave", async () => {
  const { client, socket } = await openClient();
  const a = [], b = [];
  const offA = client.subscribe("room-1", (m) => a.push(m.seq));
  const offB = client.subscribe("room-1", (m) => b.push(m.seq));
  assert.equal(socket().framesOf("subscribe").length, 1);
  socket().serverSend(ack("room-1", { seq: 0 }));
  socket().serverSend(message("room-1", 1));
  offA();
  socket().serverSend(message("room-1", 2));
  assert.deepEqual([a, b, socket().framesOf("unsubscribe").length], [[1], [1, 2], 0]);
  offB();
  assert.equal(socket().framesOf("unsubscribe").length, 1);
  client.close();
});

test("many disconnects at random points: every seq exactly once, in order", async () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const { client, clock, sockets, socket, got } = await subscribed({ random });
  let head = 0;
  socket().serverSend(ack("room-1", { seq: head }));
  let current = socket();
  for (let round = 0; round < 50; round++) {
    const live = Math.floor(random() * 5);
    for (let i = 0; i < live; i++) current.serverSend(message("room-1", ++head));
    const missed = Math.floor(random() * 4);
    head += missed; // published while disconnected
    current = await reconnect({ clock, sockets });
    const since = current.framesOf("subscribe")[0].since;
    if (random() < 0.5) current.serverSend(message("room-1", head + 1)); // live at the seam
    for (let seq = since + 1; seq <= head; seq++) current.serverSend(message("room-1", seq));
    current.serverSend(ack("room-1", { recovered: true, seq: head }));
    if (got.at(-1) === head + 1) head += 1;
  }
  assert.deepEqual(got, Array.from({ length: head }, (_, i) => i + 1));
  client.close();
});
