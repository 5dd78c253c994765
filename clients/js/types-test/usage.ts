// Type test of sumu-client.d.ts (compiled by `tsc -p types-test`, never run): the README's
// usage must type-check, and each `@ts-expect-error` line is a misuse the declarations must
// refuse (tsc fails if one of them stops being an error).
import {
  backoffDelay,
  connect,
  SumuClient,
  SumuError,
  type Ack,
  type ChannelMessage,
  type RecoveryEvent,
} from "../sumu-client.js";

declare function render(seq: number, data: { text: string }): void;
declare function reloadRoomFromBackend(): void;

export async function readme(): Promise<void> {
  const client: SumuClient = connect({
    url: "ws://127.0.0.1:3001/mvp",
    getToken: async () => "token",
    pingIntervalMs: 300_000,
    backoff: { baseMs: 500, maxMs: 30_000, maxAttempts: 10 },
    reorderWindowMs: 1000,
  });
  const leave = client.subscribe<{ text: string }>(
    "room-1",
    (m: ChannelMessage<{ text: string }>) => render(m.seq, m.data),
    { onRecoveryFailed: (event: RecoveryEvent) => event.recovered === false && reloadRoomFromBackend() },
  );
  const first: Ack = await leave.ready;
  const head: number | undefined = first.seq;
  const recovered: boolean | undefined = first.recovered;
  void head;
  void recovered;
  const left: Ack | undefined = await leave();
  void left;
  const sent: Ack = await client.send({ text: "to the backends' queue" });
  void sent.messageId;
  await client.publish({ text: "to the topic" });
  await client.unsubscribe("room-1");
  const off = client.onMessage((data: unknown) => console.log("for me:", data));
  off();
  client.on("close", (event) => {
    const again: boolean = event.willReconnect;
    void again;
  });
  client.on("reconnecting", (event) => void (event.attempt + event.delayMs));
  client.on("recovered", (event) => void event.channel);
  client.on("pong", (frame) => void frame.connectionId);
  const state: "connecting" | "open" | "reconnecting" | "closed" = client.state;
  void state;
  const id: string | null = client.connectionId;
  void id;
  client.close();
  const delay: number = backoffDelay(3, { baseMs: 100 }, () => 0.5);
  void delay;
  try {
    await client.send({});
  } catch (error) {
    if (error instanceof SumuError) {
      const code: string | undefined = error.code;
      void code;
      void error.frame?.statusCode;
    }
  }
}

export function misuse(client: SumuClient): void {
  // @ts-expect-error: the url is required
  connect({ token: "t" });
  // @ts-expect-error: a channel is a string
  client.subscribe(42, () => undefined);
  // @ts-expect-error: no such event
  client.on("message", () => undefined);
  // @ts-expect-error: the state is read-only
  client.state = "open";
  // @ts-expect-error: a close event's code is a number or undefined, not a string
  client.on("close", (event) => event.code?.toUpperCase());
}
