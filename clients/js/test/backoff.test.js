import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay } from "../sumu-client.js";
import { flush } from "../test-support/fakes.js";
import { openClient } from "../test-support/helpers.js";

test("backoff: full jitter, uniform under min(maxMs, baseMs * 2^attempt)", () => {
  const backoff = { baseMs: 100, maxMs: 5000 };
  assert.equal(backoffDelay(0, backoff, () => 0), 0);
  assert.equal(backoffDelay(0, backoff, () => 0.999), 99);
  assert.equal(backoffDelay(3, backoff, () => 0.5), 400);
  assert.equal(backoffDelay(10, backoff, () => 0.5), 2500); // capped at maxMs
  assert.equal(backoffDelay(10_000, backoff, () => 0.999), 4995); // no overflow to Infinity
});

test("backoff: every delay is within its bound, for many seeded randoms", () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let attempt = 0; attempt < 40; attempt++) {
    const delay = backoffDelay(attempt, { baseMs: 50, maxMs: 3000 }, random);
    assert.ok(delay >= 0 && delay < Math.min(3000, 50 * 2 ** attempt), `${attempt}: ${delay}`);
  }
});

test("reconnect: delays grow per failed attempt and reset after an open", async () => {
  const { client, clock, sockets } = await openClient({ backoff: { baseMs: 100, maxMs: 1000 }, random: () => 0.999 });
  const delays = [];
  client.on("reconnecting", ({ delayMs }) => delays.push(delayMs));
  sockets.at(-1).serverClose(1006);
  for (let i = 0; i < 5; i++) {
    clock.advance(delays.at(-1));
    await flush();
    sockets.at(-1).serverClose(1006); // refused again before opening
  }
  assert.deepEqual(delays, [99, 199, 399, 799, 999, 999]);
  clock.advance(delays.at(-1));
  await flush();
  sockets.at(-1).serverOpen();
  sockets.at(-1).serverClose(1001);
  assert.equal(delays.at(-1), 99); // back to the first step
  client.close();
});

test("reconnect: gives up after maxAttempts and says so", async () => {
  const closes = [];
  const { client, clock, sockets } = await openClient({ backoff: { baseMs: 10, maxMs: 10, maxAttempts: 2 } });
  client.on("close", (event) => closes.push(event));
  sockets.at(-1).serverClose(1006);
  for (let i = 0; i < 2; i++) {
    clock.advance(10);
    await flush();
    sockets.at(-1).serverClose(1006);
  }
  assert.equal(sockets.length, 3);
  assert.equal(client.state, "closed");
  assert.deepEqual(closes.map((c) => c.willReconnect), [true, true, false]);
  clock.advance(1000);
  await flush();
  assert.equal(sockets.length, 3);
});
