/**
 * The names of the reference Swill TypeScript client (`Client`, `connect`,
 * `call`, `rpc` and the `RpcRequest` it returns), on top of
 * {@link SwillClient}, so that an existing front end can switch by
 * changing its import:
 *
 * ```ts
 * import { Client, ResponseType } from "@swillorg/swill-go-client/compat";
 * ```
 *
 * The frames sent are the reference's, byte for byte. What differs, on
 * purpose: the subprotocol offered is `swill.v1` (browsers refuse
 * `swill/1`); a call made before the connection opens waits for it
 * instead of being lost; a lost connection makes `receive()` and `call()`
 * reject with a {@link ConnectionError} instead of leaving them pending;
 * `cancel()` also closes the request locally; reconnection uses
 * exponential backoff seeded from the reference's settings.
 *
 * @module
 */
import type { Attachable, Wire } from "./call.js";
import { enqueueCall, SwillClient, type StateChange } from "./client.js";
import { ConnectionError, SwillError } from "./errors.js";
import { encodeRequest, RequestType as WireRequestType, type Metadata, type ResponseFrame } from "./frame.js";
import type { Untyped } from "./schema.js";
import type { WebSocketConstructor } from "./websocket.js";

export type { Metadata } from "./frame.js";

/** The type of a response, as the reference names it. */
export enum ResponseType {
  MESSAGE = 0,
  END_OF_STREAM = 1,
  METADATA = 2,
  ERROR = 3,
}

/** The type of a request, as the reference names it. */
export enum RequestType {
  MESSAGE = 0,
  END_OF_STREAM = 1,
  METADATA = 2,
  CANCEL = 3,
}

/** The payload of an ERROR frame. */
export interface ErrorMessage {
  code: number;
  message: string;
  data?: unknown;
}

/** One response handed out by {@link RpcRequest.receive}. */
export interface RpcResponse<T> {
  type: ResponseType;
  /** The item or result for MESSAGE, the {@link ErrorMessage} for ERROR, absent for METADATA. */
  data?: T | ErrorMessage;
  leadingMetadata?: Metadata;
  trailingMetadata?: Metadata;
}

/**
 * ResponseError is what {@link Client.call} throws for an ERROR frame. It
 * is a {@link SwillError}, so both names can be caught.
 */
export class ResponseError extends SwillError {
  override readonly name: string = "ResponseError";
  /** The ERROR frame's payload. */
  readonly responseMessage: ErrorMessage;

  constructor(message: ErrorMessage) {
    super(message.code, message.message, { data: message.data, remote: true });
    Object.setPrototypeOf(this, new.target.prototype);
    this.responseMessage = message;
  }
}

/** Per-call options of the reference client. */
export interface CallOptions {
  metadata?: Metadata | undefined;
  /** With no args, open the call with a METADATA frame carrying metadata. */
  sendMetadataFirst?: boolean | undefined;
}

/** The reference's reconnection settings. */
export interface ReconnectSettings {
  /** The first wait, in ms. Defaults to 1000. */
  delay?: number | undefined;
  /** Attempts before giving up; 0 means no limit. Defaults to 5. */
  retries?: number | undefined;
  /** Growth of the wait; the wait is multiplied by 1 + backoffFactor per attempt. Defaults to 1. */
  backoffFactor?: number | undefined;
  /** Kept for compatibility; the jitter is a random fraction of the wait. */
  minJitter?: number | undefined;
  /** Kept for compatibility; the jitter is a random fraction of the wait. */
  maxJitter?: number | undefined;
}

/** The reference client's options, plus `WebSocket` for Node. */
export interface ClientOptions {
  url?: string | undefined;
  /** Connect at construction when url is set. Defaults to true. */
  autoConnect?: boolean | undefined;
  /** Reconnection; null or undefined-with-the-key-set turns it off. Defaults to the reference's settings. */
  reconnect?: ReconnectSettings | null | undefined;
  /** Handshake timeout in ms. Defaults to 30 000. */
  connectTimeout?: number | undefined;
  onConnected?: (() => void) | undefined;
  onDisconnected?: ((code: number, reason: string) => void) | undefined;
  onReconnect?: (() => void) | undefined;
  onTimeout?: (() => void) | undefined;
  /** The WebSocket class; defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor | undefined;
}

const defaultReconnect: ReconnectSettings = { delay: 1000, retries: 5, backoffFactor: 1 };

/** Client is the reference client's entry point. */
export class Client {
  #options: ClientOptions;
  #swill: SwillClient<Untyped> | undefined;

  constructor(options: ClientOptions = {}) {
    this.#options = {
      ...options,
      autoConnect: options.autoConnect ?? true,
      reconnect: "reconnect" in options ? options.reconnect : defaultReconnect,
      connectTimeout: options.connectTimeout ?? 30_000,
    };
    if (this.#options.autoConnect === true && this.#options.url !== undefined) {
      void this.connect(this.#options.url);
    }
  }

  /** True while the connection is open. */
  get connected(): boolean {
    return this.#swill?.state === "open";
  }

  /** The client underneath, for code moving to the new API. */
  get swillClient(): SwillClient<Untyped> | undefined {
    return this.#swill;
  }

  /**
   * connect connects to url (or the url of the options) and resolves
   * once the attempt is over, connected or not: check `connected`. It
   * throws if no url is known.
   */
  async connect(url?: string): Promise<void> {
    const target = url ?? this.#options.url;
    if (target === undefined) {
      throw new Error("Url must be specified");
    }
    if (this.#swill !== undefined && (this.#swill.url !== target || this.#swill.state === "closed")) {
      this.#swill.close();
      this.#swill = undefined;
    }
    if (this.#swill === undefined) {
      this.#options.url = target;
      this.#swill = this.#create(target);
    }
    try {
      await this.#swill.connect();
    } catch {
      // The reference resolves either way; the state callbacks tell.
    }
  }

  /** close closes the connection and stops reconnecting; a later connect() starts afresh. */
  close(): void {
    this.#swill?.close();
  }

  /**
   * call sends one request and resolves to the first MESSAGE's data,
   * throws a {@link ResponseError} for an ERROR, resolves to null for a
   * stream that ends without items.
   */
  async call<ResponseMessage>(
    methodName: string,
    args: unknown,
    options?: CallOptions,
  ): Promise<ResponseMessage | null> {
    const request = this.rpc<ResponseMessage, unknown>(methodName, args, options);
    try {
      const response = await request.receive();
      if (response === undefined) {
        throw new Error("No response received");
      }
      if (response.type === ResponseType.MESSAGE) {
        return response.data as ResponseMessage;
      }
      if (response.type === ResponseType.ERROR) {
        throw new ResponseError(response.data as ErrorMessage);
      }
      return null;
    } finally {
      request.close();
    }
  }

  /** rpc opens a call of any kind and returns the {@link RpcRequest} to drive it. */
  rpc<ResponseMessage, RequestMessage>(
    methodName: string,
    args?: RequestMessage,
    options?: CallOptions,
  ): RpcRequest<RequestMessage, ResponseMessage> {
    const request = new RpcRequest<RequestMessage, ResponseMessage>(methodName, args, options);
    if (this.#swill === undefined) {
      request.fail(new ConnectionError("swill: not connected; call connect first"));
    } else {
      enqueueCall(this.#swill, request);
    }
    return request;
  }

  #create(url: string): SwillClient<Untyped> {
    const o = this.#options;
    const r = o.reconnect;
    const swill = new SwillClient(url, {
      ...(o.WebSocket === undefined ? {} : { WebSocket: o.WebSocket }),
      ...(o.connectTimeout === undefined || o.connectTimeout <= 0 ? {} : { connectTimeoutMs: o.connectTimeout }),
      reconnect:
        r === null || r === undefined
          ? false
          : {
              initialDelayMs: r.delay ?? 1000,
              maxDelayMs: Math.max(r.delay ?? 1000, 30_000),
              multiplier: 1 + Math.max(0, r.backoffFactor ?? 1),
              maxAttempts: r.retries === undefined ? 5 : r.retries === 0 ? Infinity : r.retries,
            },
    });
    swill.onStateChange((c: StateChange) => this.#stateChanged(c));
    return swill;
  }

  #stateChanged(c: StateChange): void {
    const o = this.#options;
    if (c.state === "open") {
      o.onConnected?.();
      return;
    }
    if (c.state !== "disconnected") {
      return;
    }
    if (c.previous === "open" || c.error?.closeCode !== undefined) {
      o.onDisconnected?.(c.error?.closeCode ?? 1006, c.error?.reason ?? "");
    }
    if (c.previous === "connecting" && c.error !== undefined && c.error.closeCode === undefined) {
      o.onTimeout?.(); // the handshake timed out
    }
    if (c.retryInMs !== undefined) {
      o.onReconnect?.();
    }
  }
}

/**
 * RpcRequest drives one call frame by frame, as the reference's does:
 * `send` items, `receive` responses (MESSAGE, METADATA and ERROR each
 * come out as one {@link RpcResponse}; after END_OF_STREAM or ERROR,
 * `receive` resolves to undefined), `endStream`, `cancel`, `close`.
 */
export class RpcRequest<RequestMessage, ResponseMessage> implements Attachable {
  readonly #method: string;
  readonly #opening: { data: unknown; type: WireRequestType; metadata: Metadata | undefined };
  #wire: Wire | undefined;
  #seq = 0;
  /** Frames written before the connection opened; undefined once attached. */
  #outbox: { type: WireRequestType; data: unknown }[] | undefined = [];
  #queue: RpcResponse<ResponseMessage>[] = [];
  #waiters: { resolve: (r: RpcResponse<ResponseMessage> | undefined) => void; reject: (e: unknown) => void }[] = [];
  #requestEnded = false;
  #closed = false;
  #error: unknown;
  #leading: Metadata | undefined;
  #trailing: Metadata | undefined;

  /** @private Internal code, does not follow semantic versioning; use {@link Client.rpc}. */
  constructor(method: string, args: RequestMessage | undefined, options: CallOptions | undefined) {
    this.#method = method;
    if (options?.sendMetadataFirst === true && (args === undefined || args === null)) {
      this.#opening = { data: null, type: WireRequestType.Metadata, metadata: options.metadata ?? {} };
    } else {
      this.#opening = { data: args, type: WireRequestType.Message, metadata: options?.metadata };
    }
  }

  /** send sends one message on the call; it throws once the request has ended. */
  send(message: RequestMessage): void {
    if (this.#requestEnded) {
      throw new Error("Request has already ended");
    }
    this.#write(WireRequestType.Message, message);
  }

  /**
   * receive resolves to the next response; to undefined once the call
   * has ended and its responses were read. It rejects with a
   * {@link ConnectionError} if the connection is lost first.
   */
  receive(): Promise<RpcResponse<ResponseMessage> | undefined> {
    const r = this.#queue.shift();
    if (r !== undefined) {
      return Promise.resolve(r);
    }
    if (this.#error !== undefined) {
      return Promise.reject(this.#error);
    }
    if (this.#closed) {
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** close stops receiving and forgets the call; nothing is sent. */
  close(): void {
    this.#requestEnded = true;
    this.#end();
  }

  /** cancel sends CANCEL and closes the request. */
  cancel(): void {
    if (!this.#closed) {
      this.#write(WireRequestType.Cancel, null);
    }
    this.close();
  }

  /** endStream sends END_OF_STREAM: no more messages follow. */
  endStream(): void {
    this.#write(WireRequestType.EndOfStream, null);
  }

  /** True when a response is waiting to be received. */
  get hasData(): boolean {
    return this.#queue.length > 0;
  }

  /** True once the call has ended (END_OF_STREAM, ERROR, close). */
  get ended(): boolean {
    return this.#requestEnded;
  }

  /** The leading metadata, once received. */
  get leadingMetadata(): Metadata | undefined {
    return this.#leading;
  }

  /** The trailing metadata, once received. */
  get trailingMetadata(): Metadata | undefined {
    return this.#trailing;
  }

  /** @private Internal code, does not follow semantic versioning. */
  get done(): boolean {
    return this.#closed;
  }

  /** @private Internal code, does not follow semantic versioning. */
  attach(wire: Wire, seq: number): void {
    if (this.#closed) {
      wire.release(seq);
      return;
    }
    this.#wire = wire;
    this.#seq = seq;
    const o = this.#opening;
    wire.send(encodeRequest(seq, o.data, this.#method, o.type, o.metadata));
    const outbox = this.#outbox ?? [];
    this.#outbox = undefined;
    for (const w of outbox) {
      wire.send(encodeRequest(seq, w.data, this.#method, w.type));
    }
  }

  /** @private Internal code, does not follow semantic versioning. */
  handle(f: ResponseFrame): void {
    if (this.#closed) {
      return;
    }
    if (f.leading !== undefined) {
      this.#leading = f.leading;
    }
    if (f.trailing !== undefined) {
      this.#trailing = f.trailing;
    }
    const md = {
      ...(this.#leading === undefined ? {} : { leadingMetadata: this.#leading }),
      ...(this.#trailing === undefined ? {} : { trailingMetadata: this.#trailing }),
    };
    switch (f.type) {
      case ResponseType.MESSAGE:
        this.#push({ type: ResponseType.MESSAGE, data: f.data as ResponseMessage, ...md });
        return;
      case ResponseType.METADATA:
        this.#push({ type: ResponseType.METADATA, ...md });
        return;
      case ResponseType.ERROR: {
        const e = SwillError.fromWire(f.data);
        const data: ErrorMessage = { code: e.code, message: e.message };
        if (e.data !== undefined) {
          data.data = e.data;
        }
        this.#requestEnded = true;
        this.#push({ type: ResponseType.ERROR, data, ...md });
        this.#end();
        return;
      }
      case ResponseType.END_OF_STREAM:
        this.#requestEnded = true;
        this.#end();
        return;
    }
  }

  /** @private Internal code, does not follow semantic versioning. */
  fail(err: unknown): void {
    if (this.#closed) {
      return;
    }
    this.#error = err;
    this.#requestEnded = true;
    this.#end();
  }

  #write(type: WireRequestType, data: unknown): void {
    if (this.#closed) {
      return;
    }
    if (this.#outbox !== undefined) {
      this.#outbox.push({ type, data });
      return;
    }
    this.#wire?.send(encodeRequest(this.#seq, data, this.#method, type));
  }

  #push(r: RpcResponse<ResponseMessage>): void {
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.resolve(r);
    } else {
      this.#queue.push(r);
    }
  }

  #end(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#wire?.release(this.#seq);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (this.#error !== undefined) {
        w.reject(this.#error);
      } else {
        w.resolve(undefined);
      }
    }
  }
}

/**
 * connect creates a {@link Client} for url and resolves to it once the
 * first connection attempt is over.
 */
export async function connect(url: string, options: Omit<ClientOptions, "url" | "autoConnect"> = {}): Promise<Client> {
  const client = new Client({ ...options, url, autoConnect: false });
  await client.connect();
  return client;
}
