import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, SumuError } from "../sumu-client.js";
import { FakeClock, fakeWebSocketClass, flush } from "../test-support/fakes.js";
import { openClient } from "../test-support/helpers.js";

test("connect: the token goes in ?authorization=, URL-encoded", async () => {
  const { client, sockets } = await openClient({ token: "a+b/c=" });
  assert.equal(sockets[0].url, "ws://127.0.0.1:3001/mvp?authorization=a%2Bb%2Fc%3D");
  client.close();
});

test("connect: a fresh token from getToken on every (re)connect", async () => {
  let issued = 0;
  const { client, clock, sockets } = await openClient({ token: undefined, getToken: async () => `tok${++issued}` });
  sockets[0].serverClose(1006);
  clock.advance(60_000);
  await flush();
  assert.deepEqual(sockets.map((s) => s.url.split("=")[1]), ["tok1", "tok2"]);
  client.close();
});

test("connect: a failing getToken is an error event and a retry with backoff", async () => {
  let calls = 0;
  const clock = new FakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const errors = [];
  const client = connect({
    url: "ws://x/mvp", WebSocketImpl: FakeWebSocket, timers: clock, random: () => 0.5,
    getToken: async () => { if (++calls === 1) throw new Error("login down"); return "ok"; },
  });
  client.on("error", (error) => errors.push(error.message));
  await flush();
  assert.deepEqual([errors, sockets.length], [["login down"], 0]);
  clock.advance(60_000);
  await flush();
  assert.equal(sockets.length, 1);
  client.close();
});

test("connect: needs a url and a token or getToken", () => {
  assert.throws(() => connect({ token: "x" }), TypeError);
  assert.throws(() => connect({ url: "ws://x" }), TypeError);
});

test("ping: one on open (its pong names the connection), then every pingIntervalMs", async () => {
  const { client, clock, socket } = await openClient({ pingIntervalMs: 1000 });
  assert.equal(socket().framesOf("ping").length, 1);
  const pongs = [];
  client.on("pong", (frame) => pongs.push(frame.connectionId));
  socket().serverSend({ type: "pong", connectionId: "abc=" });
  assert.equal(client.connectionId, "abc=");
  assert.deepEqual(pongs, ["abc="]);
  clock.advance(3500);
  assert.equal(socket().framesOf("ping").length, 4);
  client.close();
  clock.advance(5000);
  assert.equal(socket().framesOf("ping").length, 4);
});

test("ping: the default interval is 5 minutes, under API Gateway's 10 minute idle timeout", async () => {
  const { client, clock, socket } = await openClient();
  clock.advance(5 * 60 * 1000 - 1);
  assert.equal(socket().framesOf("ping").length, 1);
  clock.advance(1);
  assert.equal(socket().framesOf("ping").length, 2);
  client.close();
});

test("send/publish: resolve on their ack, in order per action", async () => {
  const { client, socket } = await openClient();
  const sent = client.send({ text: "a" });
  const published = client.publish("b");
  assert.deepEqual(socket().sent.slice(1), [
    { action: "send", message: { text: "a" } },
    { action: "publish", message: "b" },
  ]);
  socket().serverSend({ type: "ack", statusCode: 200, action: "publish", messageId: "p1" });
  socket().serverSend({ type: "ack", statusCode: 200, action: "send", messageId: "s1" });
  assert.equal((await sent).messageId, "s1");
  assert.equal((await published).messageId, "p1");
  client.close();
});

test("send: rejects with the error frame's code", async () => {
  const { client, socket } = await openClient();
  const sent = client.send("x");
  socket().serverSend({ type: "error", statusCode: 503, code: "upstream_unavailable", message: "later", action: "send" });
  await assert.rejects(sent, (error) => error instanceof SumuError && error.code === "upstream_unavailable");
  client.close();
});

test("send: while reconnecting it is queued and sent on the next open; in flight it fails", async () => {
  const { client, clock, sockets } = await openClient();
  const inFlight = client.send("lost");
  sockets[0].serverClose(1006);
  await assert.rejects(inFlight, /connection closed/);
  const queued = client.send("later");
  clock.advance(60_000);
  await flush();
  sockets[1].serverOpen();
  assert.deepEqual(sockets[1].framesOf("send"), [{ action: "send", message: "later" }]);
  sockets[1].serverSend({ type: "ack", statusCode: 200, action: "send" });
  assert.equal((await queued).action, "send");
  client.close();
});

test("close: no reconnect, pending requests rejected, the socket closed with 1000", async () => {
  const { client, clock, sockets } = await openClient();
  const closes = [];
  client.on("close", (event) => closes.push(event));
  const sent = client.send("x");
  client.close();
  await assert.rejects(sent, /closed/);
  assert.deepEqual(sockets[0].closedWith, { code: 1000, reason: "client closed" });
  assert.deepEqual(closes, [{ code: 1000, reason: "client closed", willReconnect: false }]);
  clock.advance(600_000);
  await flush();
  assert.equal(sockets.length, 1);
  await assert.rejects(client.publish("y"), /closed/);
});

test("user deliveries: anything that is not pong/ack/error/channel message, verbatim", async () => {
  const { client, socket } = await openClient();
  const got = [];
  client.onMessage((data) => got.push(data));
  socket().serverSend({ type: "notification", message: "hi" });
  socket().serverSend("plain text");
  socket().serverSend({ type: "pong", connectionId: "c" });
  assert.deepEqual(got, [{ type: "notification", message: "hi" }, "plain text"]);
  client.close();
});

test("events: open, close (willReconnect), reconnecting", async () => {
  const { client, clock, sockets } = await openClient();
  const seen = [];
  for (const name of ["open", "close", "reconnecting"]) client.on(name, () => seen.push(name));
  sockets[0].serverClose(1006);
  clock.advance(60_000);
  await flush();
  sockets[1].serverOpen();
  assert.deepEqual(seen, ["close", "reconnecting", "open"]);
  client.close();
});
