import { backoffDelay, resolveBackoff, type Backoff, type ReconnectOptions } from "./backoff.js";
import { CallCore, type Attachable, type CallOptions, type Wire } from "./call.js";
import { Code, ConnectionError, SwillError } from "./errors.js";
import { createFrameDecoder, FrameError, type ResponseFrame } from "./frame.js";
import type { MethodKind, MethodsOf, RequestOf, ResponseOf, Schema, Untyped } from "./schema.js";
import { CallStream, type BidiStream, type ClientStream, type ResponseStream } from "./stream.js";
import {
  historyResult,
  position,
  PubSubRPC,
  Sub,
  type ClientInfo,
  type HistoryResult,
  type StreamPosition,
  type SubHost,
  type SubscribeOptions,
  type Subscription,
} from "./pubsub.js";
import { OPEN, type WebSocketConstructor, type WebSocketLike } from "./websocket.js";

/** The subprotocol swill-go servers prefer; a valid token, unlike the reference's `swill/1`. */
export const SUBPROTOCOL = "swill.v1";

/**
 * The state of a client's connection:
 * - `connecting`: a WebSocket handshake is in progress;
 * - `open`: calls go out at once;
 * - `disconnected`: no connection; a retry may be scheduled (see
 *   {@link StateChange.retryInMs}), and a new call waits for the next
 *   attempt;
 * - `closed`: {@link SwillClient.close} was called; calls fail at once.
 */
export type ConnectionState = "connecting" | "open" | "disconnected" | "closed";

/** StateChange is passed to state listeners on every transition. */
export interface StateChange {
  readonly state: ConnectionState;
  readonly previous: ConnectionState;
  /** Consecutive connection attempts that failed or were lost; 0 once open. */
  readonly attempt: number;
  /** When disconnected with a retry scheduled: the wait before it, in milliseconds. */
  readonly retryInMs?: number;
  /** When disconnected: why the connection was lost or could not be opened. */
  readonly error?: ConnectionError;
}

/** Options of {@link SwillClient}. Every field is optional. */
export interface ClientOptions {
  /**
   * The WebSocket class to use. Defaults to `globalThis.WebSocket`
   * (browsers, Node 22+); Node 20 has none, so pass the `ws` package's.
   */
  WebSocket?: WebSocketConstructor | undefined;
  /** The subprotocols offered. Defaults to `["swill.v1"]`. */
  protocols?: readonly string[] | undefined;
  /**
   * Reconnection after a lost connection or a failed attempt: true (the
   * default) for the default backoff, false for none, or the backoff's
   * settings. Calls open when a connection is lost fail with a
   * {@link ConnectionError} either way; they are never replayed.
   */
  reconnect?: boolean | ReconnectOptions | undefined;
  /** How long a WebSocket handshake may take before the attempt counts as failed. Defaults to 10 000 ms. */
  connectTimeoutMs?: number | undefined;
  /**
   * The largest frame accepted from the server, in bytes. A larger one
   * closes the connection (close code 4009). Defaults to 16 MiB.
   */
  maxMessageBytes?: number | undefined;
  /**
   * How many items of one response stream may wait to be read. Past it
   * the call is cancelled with a {@link SwillError} of code 429. Defaults to 10 000.
   */
  maxBufferedItems?: number | undefined;
  /** A state listener added at construction, so that it sees the first `connecting`. */
  onStateChange?: ((change: StateChange) => void) | undefined;
}

let enqueueImpl: (client: SwillClient<Untyped>, call: Attachable) => void;

/**
 * enqueueCall sends call on client's connection, now or when it opens.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function enqueueCall(client: SwillClient<Untyped>, call: Attachable): void {
  enqueueImpl(client, call);
}

type Deferred = { resolve: () => void; reject: (err: unknown) => void };

/** One WebSocket and the calls registered on it, by seq. */
class Link implements Wire {
  readonly ws: WebSocketLike;
  readonly calls = new Map<number, Attachable>();
  open = false;
  #seq = 0;

  constructor(ws: WebSocketLike) {
    this.ws = ws;
  }

  register(call: Attachable): number {
    // Sequence numbers start at 1 on every connection and stay small, so
    // that they encode in one byte for the first 127 calls, as the
    // reference client's do.
    do {
      this.#seq = this.#seq >= 0xffff_ffff ? 1 : this.#seq + 1;
    } while (this.calls.has(this.#seq));
    this.calls.set(this.#seq, call);
    return this.#seq;
  }

  send(frame: Uint8Array): boolean {
    if (!this.open || this.ws.readyState !== OPEN) {
      return false;
    }
    try {
      this.ws.send(frame);
      return true;
    } catch {
      return false;
    }
  }

  release(seq: number): void {
    this.calls.delete(seq);
  }
}

/**
 * SwillClient is a connection to a swill/1 server (swill-go, or any server
 * speaking the protocol) over one WebSocket, on which any number of calls
 * run at once. It connects when created, reconnects after losing the
 * connection (unless told not to) and can be used at any time: calls made
 * while it is not connected wait for the next connection attempt.
 *
 * Pass a schema type to get typed calls:
 *
 * ```ts
 * interface Demo {
 *   add: Unary<[number, number], number>;
 *   countdown: ServerStreaming<number, number>;
 * }
 * const client = new SwillClient<Demo>("ws://localhost:8080/ws");
 * const sum = await client.call("add", [1, 2]);
 * for await (const n of client.serverStream("countdown", 3)) console.log(n);
 * ```
 *
 * Without one, every method is callable with any request and gives
 * `unknown` responses.
 */
export class SwillClient<S extends Schema<S> = Untyped> {
  /** The server's URL. */
  readonly url: string;

  readonly #WebSocket: WebSocketConstructor;
  readonly #protocols: string[];
  readonly #backoff: Backoff | undefined;
  readonly #connectTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #maxBufferedItems: number;
  readonly #decode: (bytes: Uint8Array) => ResponseFrame;

  #state: ConnectionState = "disconnected";
  #link: Link | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Calls waiting for a connection. Calls that end while waiting (timed
   * out, aborted) stay until the next attempt opens or fails, and are
   * skipped then.
   */
  readonly #waiting = new Set<Attachable>();
  /** Callers of connect() waiting for the current attempt. */
  #attemptWaiters: Deferred[] = [];
  readonly #listeners = new Set<(change: StateChange) => void>();

  /**
   * Creates a client and starts connecting to url at once. It throws a
   * TypeError if no WebSocket implementation is available and a
   * RangeError for an invalid option.
   */
  constructor(url: string, options: ClientOptions = {}) {
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WS === undefined) {
      throw new TypeError(
        "swill: this runtime has no global WebSocket; pass one in options.WebSocket (in Node 20, the ws package's)",
      );
    }
    this.url = url;
    this.#WebSocket = WS;
    this.#protocols = [...(options.protocols ?? [SUBPROTOCOL])];
    this.#backoff = resolveBackoff(options.reconnect);
    this.#connectTimeoutMs = positive("connectTimeoutMs", options.connectTimeoutMs, 10_000);
    this.#maxMessageBytes = positive("maxMessageBytes", options.maxMessageBytes, 16 << 20);
    this.#maxBufferedItems = positive("maxBufferedItems", options.maxBufferedItems, 10_000);
    this.#decode = createFrameDecoder(this.#maxMessageBytes);
    if (options.onStateChange !== undefined) {
      this.#listeners.add(options.onStateChange);
    }
    this.#dial();
  }

  /** The connection's current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The subprotocol the server chose for the current connection; empty when not connected. */
  get protocol(): string {
    return this.#link?.open === true ? this.#link.ws.protocol : "";
  }

  /**
   * onStateChange calls listener on every change of {@link state} and
   * returns a function that removes it. A listener that throws does not
   * disturb the client; its error is rethrown asynchronously.
   */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * connect resolves once the client is connected. If it is
   * disconnected, it dials at once, without waiting for a scheduled
   * retry. It rejects with the {@link ConnectionError} of the attempt if
   * that fails (the client keeps retrying if reconnection is on), or at
   * once if the client is closed.
   */
  connect(): Promise<void> {
    if (this.#state === "closed") {
      return Promise.reject(new ConnectionError("swill: the client is closed"));
    }
    if (this.#state === "open") {
      return Promise.resolve();
    }
    const p = new Promise<void>((resolve, reject) => this.#attemptWaiters.push({ resolve, reject }));
    if (this.#state === "disconnected") {
      this.#dial();
    }
    return p;
  }

  /**
   * close closes the connection for good: open and waiting calls fail
   * with a {@link ConnectionError}, no reconnection follows, and later
   * calls fail at once. Calling it again is a no-op.
   */
  close(): void {
    if (this.#state === "closed") {
      return;
    }
    const err = new ConnectionError("swill: the client was closed");
    this.#clearTimers();
    const link = this.#link;
    this.#link = undefined;
    this.#setState("closed", this.#attempt);
    this.#failAttemptWaiters(err);
    this.#failWaiting(err);
    if (link !== undefined) {
      for (const call of [...link.calls.values()]) {
        call.fail(err);
      }
      link.calls.clear();
      link.open = false;
      try {
        link.ws.close(1000, "client closed");
      } catch {
        // Already closing.
      }
    }
  }

  /**
   * call makes a unary call and resolves to its result. It rejects with
   * a {@link SwillError} if the server answers with an error or the
   * deadline passes, a {@link ConnectionError} if the connection fails
   * first, and `signal.reason` if the signal aborts it.
   */
  call<M extends MethodsOf<S, "unary">>(
    method: M,
    data: RequestOf<S, M>,
    options: CallOptions = {},
  ): Promise<ResponseOf<S, M>> {
    return this.#start<RequestOf<S, M>, ResponseOf<S, M>>("unary", method, data, options).result;
  }

  /** serverStream makes a server-stream call; iterate the result with `for await`. */
  serverStream<M extends MethodsOf<S, "server_stream">>(
    method: M,
    data: RequestOf<S, M>,
    options: CallOptions = {},
  ): ResponseStream<ResponseOf<S, M>> {
    return new CallStream(this.#start<RequestOf<S, M>, ResponseOf<S, M>>("server_stream", method, data, options));
  }

  /**
   * clientStream makes a client-stream call that sends every item of
   * input, then END_OF_STREAM, and resolves to the result. If input
   * throws, the call is cancelled and rejects with that error.
   */
  clientStream<M extends MethodsOf<S, "client_stream">>(
    method: M,
    input: AsyncIterable<RequestOf<S, M>> | Iterable<RequestOf<S, M>>,
    options: CallOptions = {},
  ): Promise<ResponseOf<S, M>> {
    const core = this.#start<RequestOf<S, M>, ResponseOf<S, M>>("client_stream", method, undefined, options);
    void pump(core, input);
    return core.result;
  }

  /** openClientStream opens a client-stream call to feed with send and end. */
  openClientStream<M extends MethodsOf<S, "client_stream">>(
    method: M,
    options: CallOptions = {},
  ): ClientStream<RequestOf<S, M>, ResponseOf<S, M>> {
    return new CallStream(this.#start<RequestOf<S, M>, ResponseOf<S, M>>("client_stream", method, undefined, options));
  }

  /**
   * bidiStream makes a bidirectional call that sends every item of input,
   * then END_OF_STREAM, while the answers are iterated. If input throws,
   * the call is cancelled and the iteration throws that error.
   */
  bidiStream<M extends MethodsOf<S, "bidi_stream">>(
    method: M,
    input: AsyncIterable<RequestOf<S, M>> | Iterable<RequestOf<S, M>>,
    options: CallOptions = {},
  ): ResponseStream<ResponseOf<S, M>> {
    const core = this.#start<RequestOf<S, M>, ResponseOf<S, M>>("bidi_stream", method, undefined, options);
    void pump(core, input);
    return new CallStream(core);
  }

  /** openBidiStream opens a bidirectional call to feed with send and end while iterating the answers. */
  openBidiStream<M extends MethodsOf<S, "bidi_stream">>(
    method: M,
    options: CallOptions = {},
  ): BidiStream<RequestOf<S, M>, ResponseOf<S, M>> {
    return new CallStream(this.#start<RequestOf<S, M>, ResponseOf<S, M>>("bidi_stream", method, undefined, options));
  }

  /**
   * subscribe subscribes to a channel of a server that mounts swill-go's
   * pubsub hub (the built-in call `swill.subscribe`) and returns the
   * subscription, to iterate with `for await`: publications, joins and
   * leaves, and an `unrecovered` event when publications missed during an
   * interruption are lost. It resubscribes by itself after a lost
   * connection and after the server's 429 or 503, recovering what it
   * missed from the channel's history (see {@link Subscription}). With
   * `pattern`, channel is a glob matching many channels.
   *
   * ```ts
   * const sub = client.subscribe<ChatMessage>("chat.lobby", { signal });
   * for await (const ev of sub) {
   *   if (ev.kind === "publication") show(ev.data);
   *   else if (ev.kind === "unrecovered") await reload();
   * }
   * ```
   */
  subscribe<T = unknown>(channel: string, options: SubscribeOptions = {}): Subscription<T> {
    return new Sub<T>(this.#subHost, PubSubRPC.subscribe, channel, options);
  }

  /**
   * inbox opens this connection's inbox (`swill.inbox`): the publications
   * of the channels the server subscribed the connection to on its own.
   * After a reconnection it opens again and yields an `unrecovered` event
   * first. `since` and `pattern` are not allowed.
   */
  inbox<T = unknown>(options: Omit<SubscribeOptions, "pattern" | "since"> = {}): Subscription<T> {
    return new Sub<T>(this.#subHost, PubSubRPC.inbox, "", options);
  }

  /**
   * publish publishes data on channel (`swill.publish`) and resolves to
   * the publication's position (offset 0 on a channel without history).
   * The server refuses with a {@link SwillError} of code 403 unless its
   * publish hook allows it, and 400 when data does not fit the channel.
   */
  async publish<T = unknown>(channel: string, data: T, options: CallOptions = {}): Promise<StreamPosition> {
    return position(await this.#start("unary", PubSubRPC.publish, { channel, data }, options).result);
  }

  /** presence resolves to the subscribers of channel (`swill.presence`). */
  async presence(channel: string, options: CallOptions = {}): Promise<ClientInfo[]> {
    const v = await this.#start("unary", PubSubRPC.presence, { channel }, options).result;
    return Array.isArray(v) ? (v as ClientInfo[]) : [];
  }

  /**
   * history resolves to the latest publications of channel, at most
   * limit, oldest first, and the channel's position (`swill.history`):
   * subscribing with `since` set to that position continues without a gap
   * or a duplicate ("history on join").
   */
  async history<T = unknown>(channel: string, limit: number, options: CallOptions = {}): Promise<HistoryResult<T>> {
    if (!(Number.isInteger(limit) && limit >= 0)) {
      throw new RangeError(`history: limit must be a non-negative integer, got ${String(limit)}`);
    }
    return historyResult<T>(await this.#start("unary", PubSubRPC.history, { channel, limit }, options).result);
  }

  readonly #subHost: SubHost = {
    open: (method, data, options) => this.#start("server_stream", method, data, options),
    willReconnect: () => this.#state !== "closed" && (this.#state !== "disconnected" || this.#retryTimer !== undefined),
  };

  #start<Req, Res>(kind: MethodKind, method: string, data: unknown, options: CallOptions): CallCore<Req, Res> {
    const core = new CallCore<Req, Res>(kind, method, data, options, this.#maxBufferedItems);
    this.#enqueue(core);
    return core;
  }

  static {
    enqueueImpl = (client, call) => client.#enqueue(call);
  }

  #enqueue(call: Attachable): void {
    if (call.done) {
      return;
    }
    if (this.#state === "closed") {
      call.fail(new ConnectionError("swill: the client is closed"));
      return;
    }
    const link = this.#link;
    if (link?.open === true) {
      call.attach(link, link.register(call));
      return;
    }
    this.#waiting.add(call);
    if (this.#state === "disconnected" && this.#retryTimer === undefined) {
      this.#dial(); // no retry is scheduled: connect on demand
    }
  }

  #dial(): void {
    this.#clearTimers();
    let ws: WebSocketLike;
    try {
      ws = new this.#WebSocket(this.url, this.#protocols);
    } catch (err: unknown) {
      // A malformed URL or subprotocol: retrying cannot help.
      const e = new ConnectionError(`swill: cannot open a WebSocket to ${this.url}`, { cause: err });
      this.#setState("disconnected", this.#attempt, undefined, e);
      this.#failAttemptWaiters(e);
      this.#failWaiting(e);
      return;
    }
    ws.binaryType = "arraybuffer";
    const link = new Link(ws);
    this.#link = link;
    this.#connectTimer = setTimeout(() => {
      this.#lost(
        link,
        new ConnectionError(`swill: no WebSocket handshake with ${this.url} within ${this.#connectTimeoutMs} ms`),
      );
      try {
        ws.close();
      } catch {
        // Nothing more to do: the link is already forgotten.
      }
    }, this.#connectTimeoutMs);
    // What went wrong, when the implementation says (ws does; browsers,
    // on purpose, do not). The close event that always follows carries the rest.
    let failure: unknown;
    ws.addEventListener("error", (ev) => {
      const detail = (ev as { error?: unknown } | null)?.error;
      if (detail !== undefined) {
        failure = detail;
      }
    });
    ws.addEventListener("open", () => this.#opened(link));
    ws.addEventListener("message", (ev) => this.#message(link, ev.data));
    ws.addEventListener("close", (ev) => {
      const why = failure instanceof Error ? `: ${failure.message}` : ev.reason === "" ? "" : `: ${ev.reason}`;
      const e = new ConnectionError(
        link.open
          ? `swill: connection to ${this.url} lost (close code ${ev.code}${why})`
          : `swill: could not connect to ${this.url} (close code ${ev.code}${why})`,
        { closeCode: ev.code, reason: ev.reason, cause: failure },
      );
      this.#lost(link, e);
    });
    // Last, so that a listener closing the client finds everything in place.
    this.#setState("connecting", this.#attempt);
  }

  #opened(link: Link): void {
    if (this.#link !== link) {
      return;
    }
    if (this.#connectTimer !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    }
    link.open = true;
    this.#attempt = 0;
    this.#setState("open", 0);
    const waiters = this.#attemptWaiters;
    this.#attemptWaiters = [];
    for (const w of waiters) {
      w.resolve();
    }
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const call of waiting) {
      if (call.done) {
        continue;
      }
      if (this.#link !== link || !link.open) {
        // A listener or a callback closed the client meanwhile.
        call.fail(new ConnectionError("swill: the connection closed before the call could be sent"));
        continue;
      }
      call.attach(link, link.register(call));
    }
  }

  #lost(link: Link, err: ConnectionError): void {
    if (this.#link !== link) {
      return;
    }
    this.#link = undefined;
    if (this.#connectTimer !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    }
    const wasOpen = link.open;
    link.open = false;
    for (const call of [...link.calls.values()]) {
      call.fail(err);
    }
    link.calls.clear();
    if (!wasOpen) {
      this.#failAttemptWaiters(err);
      this.#failWaiting(err);
    }
    this.#attempt++;
    const b = this.#backoff;
    if (b === undefined || this.#attempt > b.maxAttempts) {
      this.#setState("disconnected", this.#attempt, undefined, err);
      return;
    }
    const delay = backoffDelay(b, this.#attempt);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#dial();
    }, delay);
    this.#setState("disconnected", this.#attempt, delay, err);
  }

  #message(link: Link, data: unknown): void {
    if (this.#link !== link || !link.open) {
      return;
    }
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) {
      bytes = new Uint8Array(data);
    } else if (ArrayBuffer.isView(data)) {
      bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else {
      return; // a text frame: the protocol has none, so it means nothing
    }
    if (bytes.byteLength > this.#maxMessageBytes) {
      this.#lost(
        link,
        new ConnectionError(`swill: frame of ${bytes.byteLength} bytes exceeds maxMessageBytes`, { closeCode: 4009 }),
      );
      try {
        link.ws.close(4009, "message too big");
      } catch {
        // Already closing.
      }
      return;
    }
    let f: ResponseFrame;
    try {
      f = this.#decode(bytes);
    } catch (err: unknown) {
      // A frame that breaks the protocol fails its call when its seq can
      // be read; otherwise it is dropped, as unknown seqs are.
      if (err instanceof FrameError && err.seq !== undefined) {
        link.calls
          .get(err.seq)
          ?.fail(new SwillError(Code.Internal, `malformed response frame: ${err.message}`, { cause: err }));
      }
      return;
    }
    link.calls.get(f.seq)?.handle(f);
  }

  #failWaiting(err: ConnectionError): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const call of waiting) {
      call.fail(err);
    }
  }

  #failAttemptWaiters(err: ConnectionError): void {
    const waiters = this.#attemptWaiters;
    this.#attemptWaiters = [];
    for (const w of waiters) {
      w.reject(err);
    }
  }

  #clearTimers(): void {
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
    if (this.#connectTimer !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
    }
  }

  #setState(state: ConnectionState, attempt: number, retryInMs?: number, error?: ConnectionError): void {
    const previous = this.#state;
    this.#state = state;
    const change: StateChange = {
      state,
      previous,
      attempt,
      ...(retryInMs === undefined ? {} : { retryInMs }),
      ...(error === undefined ? {} : { error }),
    };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err: unknown) {
        // Like EventTarget: report the listener's error, keep going.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}

/**
 * connect creates a {@link SwillClient} and resolves to it once it is
 * connected. If the first attempt fails, the client is closed and the
 * promise rejects with the attempt's {@link ConnectionError}.
 */
export async function connect<S extends Schema<S> = Untyped>(
  url: string,
  options: ClientOptions = {},
): Promise<SwillClient<S>> {
  const client = new SwillClient<S>(url, options);
  try {
    await client.connect();
  } catch (err: unknown) {
    client.close();
    throw err;
  }
  return client;
}

async function pump<Req, Res>(core: CallCore<Req, Res>, input: AsyncIterable<Req> | Iterable<Req>): Promise<void> {
  try {
    for await (const item of input) {
      if (!core.sendItem(item)) {
        return; // the call is over; leaving the loop closes input
      }
    }
    core.end();
  } catch (err: unknown) {
    core.cancel(err);
  }
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) {
    return dflt;
  }
  if (!(v > 0)) {
    throw new RangeError(`swill: ${name} must be positive, got ${String(v)}`);
  }
  return v;
}
