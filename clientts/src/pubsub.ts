import { backoffDelay, resolveBackoff, type Backoff, type ReconnectOptions } from "./backoff.js";
import { cancelledError, type CallCore, type CallOptions } from "./call.js";
import { Code, ConnectionError, SwillError, isRecord } from "./errors.js";
import type { Metadata } from "./frame.js";

/** The built-in calls of a server that mounts swill-go's pubsub hub. */
export const PubSubRPC = {
  subscribe: "swill.subscribe",
  unsubscribe: "swill.unsubscribe",
  publish: "swill.publish",
  presence: "swill.presence",
  history: "swill.history",
  inbox: "swill.inbox",
} as const;

/** Leading metadata keys of a `swill.subscribe` stream. */
export const POSITION_OFFSET_KEY = "swill-offset";
/** The channel's epoch in the leading metadata of `swill.subscribe`. */
export const POSITION_EPOCH_KEY = "swill-epoch";
/** Whether a subscription with `since` recovered what it missed. */
export const RECOVERED_KEY = "swill-recovered";

/**
 * A place in a channel's stream of publications: the offset of a
 * publication (from 1 on each channel, 0 without history) and the epoch of
 * the history it belongs to, which changes when that history is lost.
 */
export interface StreamPosition {
  readonly offset: number;
  readonly epoch: string;
}

/** A subscriber of a channel, as presence, joins and leaves show it. */
export interface ClientInfo {
  /** The connection's id. */
  readonly client: string;
  /** The user the server's subscribe hook named, if any. */
  readonly user?: string;
  /** What the server's subscribe hook attached, if anything. */
  readonly info?: unknown;
}

/** A published message. */
export interface Publication<T> {
  readonly kind: "publication";
  /** The channel; for a pattern subscription, the one that matched. */
  readonly channel: string;
  readonly data: T;
  /** The publication's offset in its channel, from 1; 0 on a channel without history. */
  readonly offset: number;
}

/** A subscriber that joined (`kind: "join"`) or left (`kind: "leave"`) the channel. */
export interface PresenceEvent {
  readonly kind: "join" | "leave";
  readonly channel: string;
  readonly client: ClientInfo;
}

/**
 * The subscription came back after an interruption (a lost connection, or
 * the server ending it with 429 or 503) but the publications it missed are
 * lost: the channel keeps no history, the gap was larger than its history,
 * the history expired or is of another epoch, or the subscription is to a
 * pattern or the inbox, which never recover. It is also the first event
 * when `since` could not be recovered. The subscription is live again: the
 * next event is the next live one. An application that keeps state built
 * from the channel reloads it now (with `history`, for one).
 */
export interface Unrecovered {
  readonly kind: "unrecovered";
  /** The channel or pattern subscribed to ("" for the inbox). */
  readonly channel: string;
  /** The channel's position from which the subscription goes on. */
  readonly position: StreamPosition;
}

/** What a subscription yields. */
export type SubscriptionEvent<T> = Publication<T> | PresenceEvent | Unrecovered;

/** Options of {@link SwillClient.subscribe} and {@link SwillClient.inbox}. */
export interface SubscribeOptions {
  /**
   * Ends the subscription when aborted: CANCEL goes to the server and the
   * iteration throws `signal.reason`, as every call of this client does.
   */
  signal?: AbortSignal | undefined;
  /**
   * Start after this position (kept from {@link Subscription.position}, or
   * the position of {@link SwillClient.history}): the publications after
   * it come first, then live ones, or an `unrecovered` event when they
   * cannot all be recovered. Only for channels, not patterns or the inbox.
   */
  since?: StreamPosition | undefined;
  /**
   * Subscribe to every channel matching `channel` read as a glob, as
   * Redis's PSUBSCRIBE reads it: `*`, `?`, `[a-z]`, `\` escapes. A pattern
   * cannot recover what it misses.
   */
  pattern?: boolean | undefined;
  /** Request metadata, sent with the subscription and every resubscription (a token for the server's hook). */
  metadata?: Metadata | undefined;
  /**
   * The wait before subscribing again after the server ended the
   * subscription with 429 or 503, when it gave no retry hint: the n-th
   * attempt in a row waits as these settings say (default 100 ms doubling to
   * 10 s, jitter 0.5, never giving up). An event received resets the count.
   * After `maxAttempts` attempts in a row the iteration throws the
   * server's error. A lost connection does not count: the subscription
   * waits for the client to reconnect.
   */
  resubscribe?: ReconnectOptions | undefined;
}

/**
 * Subscription is a live subscription to a channel, a pattern or the
 * inbox: iterate it with `for await`. It is sent at once, not when the
 * iteration starts; {@link Subscription.ready} resolves when the server
 * has confirmed it.
 *
 * It outlives interruptions: after a lost connection it subscribes again
 * once the client has reconnected, and after the server ended it with 429
 * (too slow) or 503 (publications missed, shutting down) it subscribes
 * again after a backoff. A channel subscription then asks for every
 * publication after the last one it yielded and gets exactly those, in
 * order, without duplicates; when they cannot be recovered it yields one
 * {@link Unrecovered} event and goes on live. Resubscriptions are made by
 * the iteration: while nobody reads, nothing is resubscribed (and on
 * channels with history nothing is lost by that).
 *
 * The iteration ends quietly after {@link Subscription.unsubscribe}, when
 * the loop is left early (which unsubscribes), and when the server ended
 * the subscription normally (an unsubscribe, or a second subscription to
 * the same channel on the same client, which replaces this one). It
 * throws the signal's reason when the signal aborts, a
 * {@link SwillError} for the server's refusals (400, 401, 403, 404) and a
 * {@link ConnectionError} when the client is closed or stops reconnecting.
 * A subscription can be iterated once.
 */
export interface Subscription<T> extends AsyncIterable<SubscriptionEvent<T>> {
  /** The channel or pattern subscribed to ("" for the inbox). */
  readonly channel: string;
  /** True for a pattern subscription. */
  readonly pattern: boolean;
  /**
   * The position of the last publication yielded or, before any, the
   * channel's position when the subscription started; undefined until the
   * server confirmed it. Meaningful for channels only.
   */
  readonly position: StreamPosition | undefined;
  /**
   * Resolves when the server first confirmed the subscription (its
   * METADATA frame): publications made from then on reach it. Rejects
   * with what ended the subscription if it ended first.
   */
  readonly ready: Promise<void>;
  /** True once the subscription has ended. */
  readonly done: boolean;
  /** unsubscribe ends the subscription (CANCEL goes to the server); the iteration ends quietly. */
  unsubscribe(): void;
}

/** What a Sub needs from its client. */
export interface SubHost {
  /** Starts a server-stream call. */
  open(method: string, data: unknown, options: CallOptions): CallCore<unknown, unknown>;
  /** False when the client is closed or will not reconnect by itself. */
  willReconnect(): boolean;
}

const defaultResubscribe: ReconnectOptions = { initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2, jitter: 0.5 };

/** The reason a subscription ends with after unsubscribe. */
const unsubscribed = Symbol("unsubscribed");

/**
 * Sub implements {@link Subscription}.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class Sub<T> implements Subscription<T> {
  readonly channel: string;
  readonly pattern: boolean;
  readonly ready: Promise<void>;

  readonly #host: SubHost;
  readonly #method: string;
  readonly #since: StreamPosition | undefined;
  readonly #metadata: Metadata | undefined;
  readonly #backoff: Backoff;
  readonly #abort = new AbortController();
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort: (() => void) | undefined;

  #position: StreamPosition | undefined;
  #call: CallCore<unknown, unknown> | undefined;
  /** The call's first next(), taken while waiting for its header. */
  #first: Promise<IteratorResult<unknown, undefined>> | undefined;
  #opening: Promise<void> | undefined;
  #unrecovered = false;
  #attempt = 0;
  #ended = false;
  #endError: unknown;
  #thrown = false;
  #iterated = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(host: SubHost, method: string, channel: string, options: SubscribeOptions) {
    this.#host = host;
    this.#method = method;
    this.channel = channel;
    this.pattern = options.pattern === true;
    this.#since = options.since;
    this.#metadata = options.metadata;
    this.#backoff = resolveBackoff({ ...defaultResubscribe, ...options.resubscribe })!;
    this.#abort.signal.addEventListener("abort", () => this.#end(this.#abortReason()), { once: true });
    const signal = options.signal;
    if (signal !== undefined) {
      this.#userSignal = signal;
      this.#onUserAbort = () => this.#abort.abort(signal.reason ?? cancelledError());
      signal.addEventListener("abort", this.#onUserAbort, { once: true });
    }
    let ready: Promise<void>;
    if (method === PubSubRPC.subscribe && (typeof channel !== "string" || channel === "")) {
      ready = Promise.reject(new TypeError("subscribe: the channel must be a non-empty string"));
    } else if (this.#since !== undefined && !this.#recovers()) {
      ready = Promise.reject(new TypeError("subscribe: since is for channels; a pattern or the inbox cannot recover"));
    } else if (signal?.aborted) {
      ready = Promise.reject(signal.reason ?? cancelledError());
    } else {
      ready = this.#open(false);
      this.#opening = ready;
    }
    ready.catch((err: unknown) => this.#end(err));
    this.ready = ready;
    // The caller may never await ready; its rejection is what iteration throws.
    this.ready.catch(() => {});
  }

  get position(): StreamPosition | undefined {
    return this.#position;
  }

  get done(): boolean {
    return this.#ended;
  }

  unsubscribe(): void {
    this.#abort.abort(unsubscribed);
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionEvent<T>, undefined> {
    if (this.#iterated) {
      throw new TypeError(`the subscription to ${this.channel || "the inbox"} can be iterated only once`);
    }
    this.#iterated = true;
    return {
      next: () => {
        // One read at a time, whatever the caller does.
        const p = this.#chain.then(() => this.#next());
        this.#chain = p.catch(() => {});
        return p;
      },
      return: () => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #recovers(): boolean {
    return this.#method === PubSubRPC.subscribe && !this.pattern;
  }

  async #next(): Promise<IteratorResult<SubscriptionEvent<T>, undefined>> {
    for (;;) {
      if (this.#ended || this.#abort.signal.aborted) {
        this.#end(this.#abortReason());
        if (this.#endError !== undefined && !this.#thrown) {
          this.#thrown = true;
          throw this.#endError;
        }
        return { value: undefined, done: true };
      }
      if (this.#opening !== undefined) {
        try {
          await this.#opening;
        } catch (err: unknown) {
          this.#end(err);
          continue;
        } finally {
          this.#opening = undefined;
        }
      }
      if (this.#unrecovered) {
        this.#unrecovered = false;
        return {
          value: { kind: "unrecovered", channel: this.channel, position: this.#position ?? { offset: 0, epoch: "" } },
          done: false,
        };
      }
      const call = this.#call;
      if (call === undefined) {
        this.#opening = this.#open(true);
        this.#opening.catch((err: unknown) => this.#end(err));
        continue;
      }
      let r: IteratorResult<unknown, undefined>;
      try {
        const first = this.#first;
        this.#first = undefined;
        r = await (first ?? call.next());
      } catch (err: unknown) {
        this.#call = undefined;
        if (this.#abort.signal.aborted) {
          continue;
        }
        this.#opening = this.#retry(err);
        this.#opening.catch((e: unknown) => this.#end(e));
        continue;
      }
      if (r.done) {
        this.#call = undefined;
        this.#end(undefined); // the server ended it normally
        continue;
      }
      const ev = this.#event(r.value);
      if (ev === undefined) {
        continue; // a duplicate, or an item of no known form
      }
      this.#attempt = 0;
      return { value: ev, done: false };
    }
  }

  /** #event turns a wire item into an event, updating the position; undefined to skip it. */
  #event(item: unknown): SubscriptionEvent<T> | undefined {
    if (!isRecord(item)) {
      return undefined;
    }
    const channel = typeof item["channel"] === "string" ? item["channel"] : this.channel;
    if (isRecord(item["join"])) {
      return { kind: "join", channel, client: item["join"] as unknown as ClientInfo };
    }
    if (isRecord(item["leave"])) {
      return { kind: "leave", channel, client: item["leave"] as unknown as ClientInfo };
    }
    const offset = toNumber(item["offset"]);
    if (this.#recovers() && offset !== 0 && this.#position !== undefined) {
      if (offset <= this.#position.offset) {
        return undefined; // received before an interruption
      }
      this.#position = { offset, epoch: this.#position.epoch };
    }
    return { kind: "publication", channel, data: item["data"] as T, offset };
  }

  /**
   * #open makes the subscribe call and resolves once its header arrived,
   * retrying interruptions; it rejects with what ends the subscription.
   */
  async #open(resume: boolean): Promise<void> {
    for (;;) {
      let since: StreamPosition | undefined;
      let data: unknown = null;
      if (this.#method === PubSubRPC.subscribe) {
        since = resume ? (this.#recovers() ? this.#position : undefined) : this.#since;
        data = {
          channel: this.channel,
          ...(this.pattern ? { pattern: true } : {}),
          ...(since === undefined ? {} : { since: { offset: since.offset, epoch: since.epoch } }),
        };
      }
      let onHeader!: (md: Metadata) => void;
      const header = new Promise<Metadata>((resolve) => (onHeader = resolve));
      const call = this.#host.open(this.#method, data, {
        signal: this.#abort.signal,
        metadata: this.#metadata,
        onHeader: (md) => onHeader(md),
      });
      const first = call.next();
      first.catch(() => {});
      let md: Metadata | undefined;
      let failure: unknown;
      try {
        md = await Promise.race([header, first.then(() => undefined)]);
      } catch (err: unknown) {
        failure = err;
      }
      if (md === undefined && failure === undefined) {
        // The stream ended or sent an item before its header.
        call.cancel();
        try {
          const r = await first;
          failure = r.done
            ? new SwillError(Code.Internal, `${this.#method} ended before confirming the subscription`)
            : new SwillError(Code.Internal, `${this.#method} sent an item before its leading metadata`);
        } catch (err: unknown) {
          failure = err;
        }
      }
      if (md !== undefined) {
        this.#call = call;
        this.#first = first;
        this.#live(md, since, resume);
        return;
      }
      if (this.#abort.signal.aborted) {
        throw this.#abortReason() ?? cancelledError();
      }
      await this.#retry(failure);
    }
  }

  /** #live records the position a confirmed subscription starts from. */
  #live(md: Metadata, since: StreamPosition | undefined, resume: boolean): void {
    const pos = { offset: toNumber(md[POSITION_OFFSET_KEY]), epoch: str(md[POSITION_EPOCH_KEY]) };
    const recovered = md[RECOVERED_KEY] === true;
    if (since !== undefined && recovered) {
      pos.offset = since.offset; // the publications after since follow
    }
    this.#position = pos;
    if ((since !== undefined && !recovered) || (resume && !this.#recovers())) {
      this.#unrecovered = true;
    }
  }

  /**
   * #retry resolves when the subscription should subscribe again (at
   * once, or after a backoff for 429 and 503), and rejects with what ends
   * it otherwise.
   */
  async #retry(err: unknown): Promise<void> {
    if (this.#abort.signal.aborted) {
      throw this.#abortReason() ?? cancelledError();
    }
    if (err instanceof ConnectionError) {
      if (!this.#host.willReconnect()) {
        throw err;
      }
      return; // the next call waits for the next connection
    }
    if (!(err instanceof SwillError) || (err.code !== Code.TooManyRequests && err.code !== Code.Unavailable)) {
      throw err;
    }
    // A 429 is the server's (its queue for this connection was full) or
    // this client's (more items buffered than maxBufferedItems): either
    // way, what was missed is recovered from history.
    this.#attempt++;
    if (this.#attempt > this.#backoff.maxAttempts) {
      throw err;
    }
    const delay = err.retryAfterMs() ?? backoffDelay(this.#backoff, this.#attempt);
    await sleep(delay, this.#abort.signal);
    if (this.#abort.signal.aborted) {
      throw this.#abortReason() ?? cancelledError();
    }
  }

  #abortReason(): unknown {
    const r: unknown = this.#abort.signal.reason;
    return r === unsubscribed ? undefined : r;
  }

  /** #end ends the subscription with err (undefined: quietly). */
  #end(err: unknown): void {
    if (this.#ended) {
      return;
    }
    this.#ended = true;
    // After unsubscribe, whatever the calls failed with, the end is quiet.
    this.#endError = this.#abort.signal.reason === unsubscribed ? undefined : err;
    this.#call?.cancel();
    this.#call = undefined;
    this.#first = undefined;
    if (this.#onUserAbort !== undefined) {
      this.#userSignal?.removeEventListener("abort", this.#onUserAbort);
    }
    if (!this.#abort.signal.aborted) {
      this.#abort.abort(unsubscribed);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function toNumber(v: unknown): number {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) {
    return v;
  }
  if (typeof v === "bigint" && v >= 0n) {
    return Number(v);
  }
  return 0;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** The answer of {@link SwillClient.history}. */
export interface HistoryResult<T> {
  /** The latest publications, oldest first. */
  readonly publications: Publication<T>[];
  /** The channel's position: subscribing with `since` set to it continues without a gap. */
  readonly position: StreamPosition;
}

/**
 * historyResult reads the answer of swill.history.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function historyResult<T>(v: unknown): HistoryResult<T> {
  const r = isRecord(v) ? v : {};
  const pubs = Array.isArray(r["publications"]) ? r["publications"] : [];
  return {
    publications: pubs.filter(isRecord).map((p) => ({
      kind: "publication" as const,
      channel: str(p["channel"]),
      data: p["data"] as T,
      offset: toNumber(p["offset"]),
    })),
    position: position(r["position"]),
  };
}

/**
 * position reads a Position from the wire.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function position(v: unknown): StreamPosition {
  const r = isRecord(v) ? v : {};
  return { offset: toNumber(r["offset"]), epoch: str(r["epoch"]) };
}
