import { Code, SwillError } from "./errors.js";
import { encodeRequest, RequestType, ResponseType, type Metadata, type ResponseFrame } from "./frame.js";
import type { MethodKind } from "./schema.js";

/** The request metadata key that carries a call's deadline, in integer milliseconds. */
export const TIMEOUT_KEY = "swill-timeout-ms";

/** Per-call options, accepted by every kind of call. */
export interface CallOptions {
  /**
   * Cancels the call when aborted: the server is sent CANCEL, and the
   * call rejects (or its iteration throws) with `signal.reason`. A signal
   * that is already aborted stops the call before anything is sent.
   */
  signal?: AbortSignal | undefined;
  /**
   * The call's deadline, in milliseconds from now. The server is told
   * (request metadata `swill-timeout-ms`, the milliseconds left when the
   * call goes out) and stops the handler when it passes. When it passes,
   * the call fails with a {@link SwillError} of code 408, whichever side
   * noticed first. Must be a positive number.
   */
  timeoutMs?: number | undefined;
  /** Request metadata; values are any MsgPack-encodable value. */
  metadata?: Metadata | undefined;
  /** Called once with the leading metadata (the response header), if the server sends any. */
  onHeader?: ((header: Metadata) => void) | undefined;
  /** Called once with the trailing metadata (the response trailer), if the server sends any, before the call completes. */
  onTrailer?: ((trailer: Metadata) => void) | undefined;
}

/**
 * Wire is what a call needs from the connection it is attached to.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface Wire {
  /** Sends one frame; false if the connection is no longer open. */
  send(frame: Uint8Array): boolean;
  /** Forgets the call registered under seq. */
  release(seq: number): void;
}

/**
 * Attachable is a call as a connection sees it: sent when the connection
 * opens, fed the frames addressed to it, failed when the connection goes.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface Attachable {
  /** True once the call is over; a connection then skips it. */
  readonly done: boolean;
  /** Sends the call on a connection that registered it under seq. */
  attach(wire: Wire, seq: number): void;
  /** Applies one response frame addressed to the call. */
  handle(f: ResponseFrame): void;
  /** Ends the call with err without telling the server. */
  fail(err: unknown): void;
}

type Waiter<T> = { resolve: (r: IteratorResult<T, undefined>) => void; reject: (err: unknown) => void };

/**
 * cancelledError is the reason a call fails with when it is cancelled
 * without one: an `AbortError` DOMException, as `fetch` uses.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function cancelledError(): unknown {
  return new DOMException("The call was cancelled", "AbortError");
}

/**
 * CallCore is one call's state, whatever its kind: the request side
 * (the opening frame, client stream items, END_OF_STREAM, CANCEL) and the
 * response side (a result, or a queue of stream items and a terminal
 * state). It is single-threaded like all JavaScript; every method may be
 * called at any time and is a no-op once the call is over.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class CallCore<Req = unknown, Res = unknown> implements Attachable {
  readonly method: string;
  readonly kind: MethodKind;
  /** Set while the call is registered on a connection. */
  seq = 0;
  header: Metadata | undefined;
  trailer: Metadata | undefined;
  /** The result of a unary or client-stream call. */
  readonly result: Promise<Res>;

  #wire: Wire | undefined;
  #done = false;
  /** Some frame of this call reached the server, so a CANCEL means something. */
  #opened = false;
  readonly #data: unknown;
  readonly #options: CallOptions;
  readonly #deadline: number | undefined;
  readonly #maxBuffered: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onAbort: (() => void) | undefined;

  // Request side of streaming calls.
  #pending: Req[] = [];
  #endRequested = false;

  // Response side.
  #resolve!: (v: Res) => void;
  #reject!: (err: unknown) => void;
  #items: Res[] = [];
  #head = 0;
  #waiters: Waiter<Res>[] = [];
  #error: unknown;
  #hasError = false;

  constructor(kind: MethodKind, method: string, data: unknown, options: CallOptions, maxBuffered: number) {
    this.kind = kind;
    this.method = method;
    this.#data = data;
    this.#options = options;
    this.#maxBuffered = maxBuffered;
    this.result = new Promise<Res>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller of a streaming kind may never look at result; its
    // rejection must not be reported as unhandled.
    this.result.catch(() => {});

    const { signal, timeoutMs } = options;
    if (typeof method !== "string" || method === "") {
      this.#deadline = undefined;
      this.#finish(new TypeError("method must be a non-empty string"));
      return;
    }
    if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
      this.#deadline = undefined;
      this.#finish(new RangeError(`timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`));
      return;
    }
    this.#deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    if (signal?.aborted) {
      this.#finish(signal.reason ?? cancelledError());
      return;
    }
    if (signal) {
      this.#onAbort = () => this.cancel(signal.reason ?? cancelledError());
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      this.#timer = setTimeout(() => {
        this.cancel(new SwillError(Code.Timeout, `deadline exceeded: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    }
  }

  get done(): boolean {
    return this.#done;
  }

  get requestStreams(): boolean {
    return this.kind === "client_stream" || this.kind === "bidi_stream";
  }

  get responseStreams(): boolean {
    return this.kind === "server_stream" || this.kind === "bidi_stream";
  }

  /**
   * attach sends the call on a connection that has just registered it
   * under seq: its opening frame, the items queued so far and, if the
   * caller already ended its stream, END_OF_STREAM.
   */
  attach(wire: Wire, seq: number): void {
    if (this.#done) {
      wire.release(seq);
      return;
    }
    this.#wire = wire;
    this.seq = seq;
    try {
      const md = this.#requestMetadata();
      if (!this.requestStreams) {
        this.#send(encodeRequest(seq, this.#data, this.method, RequestType.Message, md));
        return;
      }
      // A streaming request carries its metadata in a METADATA frame of its
      // own, ahead of the items, which opens the call on the server at once.
      if (md !== undefined) {
        this.#send(encodeRequest(seq, null, this.method, RequestType.Metadata, md));
      }
      const pending = this.#pending;
      this.#pending = [];
      for (const item of pending) {
        this.#send(encodeRequest(seq, item, this.method));
      }
      if (this.#endRequested) {
        this.#sendEnd();
      }
    } catch (err: unknown) {
      // A value MsgPack cannot encode (a bigint, a function...): the call
      // fails with the encoder's error.
      this.cancel(err);
    }
  }

  /**
   * sendItem sends one item of the client's stream (queued until the call
   * is attached). It returns false, sending nothing, once the call is
   * over; it throws if the stream was ended or item cannot be encoded.
   */
  sendItem(item: Req): boolean {
    if (this.#done) {
      return false;
    }
    if (this.#endRequested) {
      throw new TypeError(`send after end on the request stream of ${this.method}`);
    }
    if (this.#wire === undefined) {
      encodeRequest(0, item, this.method); // throws now for a value that cannot be sent
      this.#pending.push(item);
    } else {
      this.#send(encodeRequest(this.seq, item, this.method));
    }
    return true;
  }

  /** end ends the client's stream (END_OF_STREAM); later calls are no-ops. */
  end(): void {
    if (this.#done || this.#endRequested) {
      return;
    }
    this.#endRequested = true;
    if (this.#wire !== undefined) {
      this.#sendEnd();
    }
  }

  /**
   * cancel ends the call at once: the server is sent CANCEL if the call
   * reached it, buffered items are dropped, and the call fails with
   * reason, or an `AbortError` without one. A stream cut short thus never
   * reads as complete: only the server's END_OF_STREAM ends an iteration
   * quietly.
   */
  cancel(reason?: unknown): void {
    if (this.#done) {
      return;
    }
    if (this.#opened && this.#wire !== undefined) {
      this.#wire.send(encodeRequest(this.seq, null, this.method, RequestType.Cancel));
    }
    this.#items = [];
    this.#head = 0;
    this.#finish(reason === undefined ? cancelledError() : reason);
  }

  /** fail ends the call with err without telling the server (the connection is gone). */
  fail(err: unknown): void {
    this.#finish(err);
  }

  /** handle applies one response frame addressed to this call. */
  handle(f: ResponseFrame): void {
    if (this.#done) {
      return;
    }
    if (f.leading !== undefined) {
      this.#deliverHeader(f.leading);
      if (this.#done) {
        return; // the callback threw and cancelled the call
      }
    }
    if (f.trailing !== undefined) {
      this.trailer = f.trailing;
    }
    const terminal =
      f.type === ResponseType.Error ||
      f.type === ResponseType.EndOfStream ||
      (f.type === ResponseType.Message && !this.responseStreams);
    if (terminal && this.trailer !== undefined) {
      this.#callback(this.#options.onTrailer, this.trailer);
      if (this.#done) {
        return;
      }
    }
    switch (f.type) {
      case ResponseType.Metadata:
        return;
      case ResponseType.Error:
        this.#finish(SwillError.fromWire(f.data, f.trailing));
        return;
      case ResponseType.EndOfStream:
        if (this.responseStreams) {
          this.#finish();
        } else {
          this.#finish(
            new SwillError(Code.Internal, `the server ended ${this.kind} call ${this.method} without a result`),
          );
        }
        return;
      case ResponseType.Message:
        if (this.responseStreams) {
          this.#push(f.data as Res);
        } else {
          this.#finish(undefined, f.data as Res);
        }
        return;
    }
  }

  /** next reads the next item of the server's stream. */
  next(): Promise<IteratorResult<Res, undefined>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head] as Res;
      this.#items[this.#head] = undefined as Res;
      this.#head++;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
        // A reader that stays just behind never empties the buffer: drop
        // the consumed front now and then so it does not grow forever.
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) {
      if (this.#hasError) {
        // The error is thrown once; the iteration is over after that.
        this.#hasError = false;
        return Promise.reject(this.#error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #requestMetadata(): Metadata | undefined {
    const md = this.#options.metadata;
    if (this.#deadline === undefined) {
      return md;
    }
    const left = Math.max(1, Math.ceil(this.#deadline - Date.now()));
    return { ...md, [TIMEOUT_KEY]: left };
  }

  #send(frame: Uint8Array): void {
    if (this.#wire?.send(frame)) {
      this.#opened = true;
    }
  }

  #sendEnd(): void {
    // END_OF_STREAM for a call the server has not seen is ignored, so an
    // empty stream is opened with an (empty) METADATA frame first.
    if (!this.#opened) {
      this.#send(encodeRequest(this.seq, null, this.method, RequestType.Metadata, {}));
    }
    this.#send(encodeRequest(this.seq, null, this.method, RequestType.EndOfStream));
  }

  #push(item: Res): void {
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.#items.length - this.#head >= this.#maxBuffered) {
      this.cancel(
        new SwillError(
          Code.TooManyRequests,
          `${this.method}: more than ${this.#maxBuffered} stream items buffered; read the stream faster or raise maxBufferedItems`,
        ),
      );
      return;
    }
    this.#items.push(item);
  }

  #deliverHeader(md: Metadata): void {
    if (this.header !== undefined) {
      return;
    }
    this.header = md;
    this.#callback(this.#options.onHeader, md);
  }

  #callback(fn: ((md: Metadata) => void) | undefined, md: Metadata): void {
    if (fn === undefined) {
      return;
    }
    try {
      fn(md);
    } catch (err: unknown) {
      this.cancel(err);
    }
  }

  #finish(err?: unknown, result?: Res): void {
    if (this.#done) {
      return;
    }
    this.#done = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#onAbort !== undefined) {
      this.#options.signal?.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
    this.#pending = [];
    if (this.#wire !== undefined) {
      this.#wire.release(this.seq);
    }
    if (err !== undefined) {
      this.#error = err;
      this.#hasError = true;
      this.#reject(err);
    } else {
      this.#resolve(result as Res);
    }
    // Waiters exist only when the buffer is empty.
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (this.#hasError) {
        this.#hasError = false;
        w.reject(this.#error);
      } else {
        w.resolve({ value: undefined, done: true });
      }
    }
  }
}
