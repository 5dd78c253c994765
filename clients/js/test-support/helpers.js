import { connect } from "../sumu-client.js";
import { FakeClock, fakeWebSocketClass, flush } from "./fakes.js";

/** A client on a fake socket and clock, opened; random() is fixed unless given. */
export async function openClient(options = {}) {
  const clock = new FakeClock();
  const { FakeWebSocket, sockets } = fakeWebSocketClass();
  const client = connect({
    url: "ws://127.0.0.1:3001/mvp",
    token: "t0",
    WebSocketImpl: FakeWebSocket,
    timers: clock,
    random: () => 0.5,
    ...options,
  });
  await flush();
  sockets.at(-1).serverOpen();
  return { client, clock, sockets, socket: () => sockets.at(-1) };
}
