// Types for @sumu/client (sumu-client.js). Hand-written: the module has no build step.

/** A channel delivery: `seq` is per channel, consecutive from 1. */
export interface ChannelMessage<T = unknown> {
  type: "message";
  channel: string;
  id: string;
  seq: number;
  data: T;
}

export interface Ack {
  type: "ack";
  statusCode: number;
  action: "send" | "publish" | "subscribe" | "unsubscribe";
  channel?: string;
  /** subscribe with `since`: true when every missed message was sent before this ack */
  recovered?: boolean;
  /** subscribe: the channel's current head seq (absent on a server without history) */
  seq?: number;
  messageId?: string;
  requestId?: string;
  [key: string]: unknown;
}

export interface ErrorFrame {
  type: "error";
  statusCode: number;
  code: string;
  message: string;
  action?: string;
  channel?: string;
  retryable?: boolean;
  [key: string]: unknown;
}

export interface RecoveryEvent {
  channel: string;
  /** false: history no longer reaches back; the application must reload its state */
  recovered: boolean | undefined;
  seq: number | undefined;
  ack: Ack;
}

export interface CloseEvent {
  code: number | undefined;
  reason: string | undefined;
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  /** 1 for the first retry */
  attempt: number;
  delayMs: number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

export interface ConnectOptions {
  /** the WebSocket URL, e.g. ws://127.0.0.1:3001/mvp; the token is added as ?authorization= */
  url: string;
  token?: string;
  /** called before every connect and reconnect (API Gateway authorizes at connect only) */
  getToken?: () => string | Promise<string>;
  /** keepalive ping interval; default 300000 (5 min, under API Gateway's 10 min idle timeout) */
  pingIntervalMs?: number;
  /** full-jitter exponential backoff; defaults baseMs 500, maxMs 30000, maxAttempts 1000 */
  backoff?: { baseMs?: number; maxMs?: number; maxAttempts?: number };
  /** how long a later seq waits for a missing earlier one; default 1000 */
  reorderWindowMs?: number;
  /** tests: a WebSocket class (default globalThis.WebSocket) */
  WebSocketImpl?: new (url: string) => unknown;
  /** tests: a random number in [0, 1) (default Math.random) */
  random?: () => number;
  /** tests: a clock (default the global timers) */
  timers?: Timers;
}

export interface SubscribeOptions {
  onRecoveryFailed?: (event: RecoveryEvent) => void;
}

/** Removes this handler (unsubscribes with the last one); `.ready` is the first ack. */
export interface Subscription {
  (): Promise<Ack | undefined>;
  ready: Promise<Ack>;
}

export interface EventMap {
  open: { connectionId: string | null };
  close: CloseEvent;
  error: unknown;
  /** each channel's resubscribe ack after a reconnect (not the first subscribe: `.ready`) */
  recovered: RecoveryEvent;
  reconnecting: ReconnectingEvent;
  /** the pong frame; its connectionId is also client.connectionId */
  pong: { type: "pong"; connectionId?: string; [key: string]: unknown };
}

export declare class SumuError extends Error {
  readonly frame: ErrorFrame | null;
  readonly code: string | undefined;
}

export declare class SumuClient {
  constructor(options: ConnectOptions);
  readonly state: "connecting" | "open" | "reconnecting" | "closed";
  /** from the last pong */
  readonly connectionId: string | null;
  subscribe<T = unknown>(
    channel: string,
    onMessage: (message: ChannelMessage<T>) => void,
    options?: SubscribeOptions,
  ): Subscription;
  unsubscribe(channel: string): Promise<Ack | undefined>;
  send(message: unknown): Promise<Ack>;
  publish(message: unknown): Promise<Ack>;
  onMessage(handler: (data: unknown) => void): () => void;
  on<K extends keyof EventMap>(event: K, handler: (value: EventMap[K]) => void): () => void;
  close(): void;
}

export declare function connect(options: ConnectOptions): SumuClient;
export declare function backoffDelay(
  attempt: number,
  backoff?: { baseMs?: number; maxMs?: number },
  random?: () => number,
): number;
