import type { CallCore } from "./call.js";
import type { Metadata } from "./frame.js";

/**
 * ResponseStream is the server's side of a server-stream or bidi call:
 * iterate it with `for await`. Leaving the loop early (`break`, `return`,
 * an exception) cancels the call on the server. The call is sent as soon
 * as the stream is created, not when iteration starts.
 *
 * The iteration ends quietly only when the server ended the stream
 * (END_OF_STREAM). Any other end throws: a `SwillError` from the
 * server, a `ConnectionError` when the connection was lost or the
 * client closed, the signal's reason or an `AbortError` when cancelled.
 *
 * A stream can be iterated once. Items that arrive faster than they are
 * read are buffered, up to the client's `maxBufferedItems`; past it the
 * call is cancelled and iteration throws a {@link SwillError} of code 429.
 */
export interface ResponseStream<Res> extends AsyncIterable<Res> {
  /** The leading metadata, once it has arrived. */
  readonly header: Metadata | undefined;
  /** The trailing metadata, once it has arrived (at the end of the stream). */
  readonly trailer: Metadata | undefined;
  /** True once the call is over: ended, failed or cancelled. Buffered items may remain to be read. */
  readonly done: boolean;
  /**
   * cancel sends CANCEL and drops the buffered items; the iteration then
   * throws reason, or an `AbortError` DOMException when none is given, so
   * that a cancelled stream never reads as complete. (Leaving a `for await`
   * loop early cancels too, with nobody left to throw to.) A no-op once the
   * call is over.
   */
  cancel(reason?: unknown): void;
}

/**
 * RequestStream is the client's side of a client-stream or bidi call.
 * Items are sent in order; those sent before the connection is open are
 * queued and go out when it opens.
 */
export interface RequestStream<Req> {
  /**
   * send sends one item. It returns false, sending nothing, if the call is
   * already over (its error or result tells why), and throws a TypeError
   * after {@link RequestStream.end}.
   */
  send(item: Req): boolean;
  /** end tells the server no more items follow (END_OF_STREAM). Later calls are no-ops. */
  end(): void;
}

/**
 * ClientStream is an open client-stream call: send items, end, then await
 * the response.
 */
export interface ClientStream<Req, Res> extends RequestStream<Req> {
  /** The result, once the server has read the stream. */
  readonly response: Promise<Res>;
  /** The leading metadata, once it has arrived. */
  readonly header: Metadata | undefined;
  /** The trailing metadata, once it has arrived. */
  readonly trailer: Metadata | undefined;
  /**
   * cancel sends CANCEL; `response` rejects with reason, or with an
   * `AbortError` DOMException when none is given. A no-op once the call is over.
   */
  cancel(reason?: unknown): void;
}

/** BidiStream is an open bidirectional call: send items and iterate the answers, in any order. */
export interface BidiStream<Req, Res> extends ResponseStream<Res>, RequestStream<Req> {}

/** @private Internal code, does not follow semantic versioning. */
export class CallStream<Req, Res> implements BidiStream<Req, Res>, ClientStream<Req, Res> {
  readonly #core: CallCore<Req, Res>;
  #iterated = false;

  constructor(core: CallCore<Req, Res>) {
    this.#core = core;
  }

  get header(): Metadata | undefined {
    return this.#core.header;
  }

  get trailer(): Metadata | undefined {
    return this.#core.trailer;
  }

  get done(): boolean {
    return this.#core.done;
  }

  get response(): Promise<Res> {
    return this.#core.result;
  }

  send(item: Req): boolean {
    return this.#core.sendItem(item);
  }

  end(): void {
    this.#core.end();
  }

  cancel(reason?: unknown): void {
    this.#core.cancel(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<Res, undefined> {
    if (this.#iterated) {
      throw new TypeError(`the response stream of ${this.#core.method} can be iterated only once`);
    }
    this.#iterated = true;
    const core = this.#core;
    return {
      next: () => core.next(),
      return: () => {
        core.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
