import { describe, expect, it } from "vitest";

import { CallCore, type CallOptions } from "./call.js";
import { Code, ConnectionError, SwillError } from "./errors.js";
import { ResponseType, type Metadata } from "./frame.js";
import { Sub, type SubHost, type SubscriptionEvent } from "./pubsub.js";

// Sub against a scripted host: each subscribe call is a CallCore the test
// feeds frames to, as the connection would.

interface Opened {
  method: string;
  data: unknown;
  options: CallOptions;
  core: CallCore<unknown, unknown>;
}

class Host implements SubHost {
  readonly calls: Opened[] = [];
  reconnects = true;
  #waiters: ((o: Opened) => void)[] = [];

  open(method: string, data: unknown, options: CallOptions): CallCore<unknown, unknown> {
    const core = new CallCore<unknown, unknown>("server_stream", method, data, options, 100);
    const o = { method, data, options, core };
    this.calls.push(o);
    this.#waiters.shift()?.(o);
    return core;
  }

  willReconnect(): boolean {
    return this.reconnects;
  }

  /** call resolves with the n-th call (from 0), once it is made. */
  call(n: number): Promise<Opened> {
    const o = this.calls[n];
    if (o !== undefined) {
      return Promise.resolve(o);
    }
    return new Promise((resolve) => {
      const waiter = (x: Opened): void => {
        if (this.calls.length - 1 === n) {
          resolve(x);
        } else {
          this.#waiters.push(waiter);
        }
      };
      this.#waiters.push(waiter);
    });
  }
}

const header = (core: CallCore, md: Metadata): void =>
  core.handle({ seq: 0, type: ResponseType.Metadata, data: null, leading: md, trailing: undefined });
const item = (core: CallCore, data: unknown): void =>
  core.handle({ seq: 0, type: ResponseType.Message, data, leading: undefined, trailing: undefined });
const error = (core: CallCore, code: number, message = "", trailing?: Metadata): void =>
  core.handle({ seq: 0, type: ResponseType.Error, data: { code, message }, leading: undefined, trailing });
const end = (core: CallCore): void =>
  core.handle({ seq: 0, type: ResponseType.EndOfStream, data: null, leading: undefined, trailing: undefined });

const pos = (offset: number, epoch = "e", recovered?: boolean): Metadata => ({
  "swill-offset": offset,
  "swill-epoch": epoch,
  ...(recovered === undefined ? {} : { "swill-recovered": recovered }),
});

const fast = { resubscribe: { initialDelayMs: 1, maxDelayMs: 2, jitter: 0 } };

async function take<T>(it: AsyncIterator<SubscriptionEvent<T>>): Promise<SubscriptionEvent<T>> {
  const r = await it.next();
  if (r.done) {
    throw new Error("the subscription ended");
  }
  return r.value;
}

describe("Sub", () => {
  it("is ready on the header and yields publications, joins and leaves", async () => {
    const host = new Host();
    const sub = new Sub<string>(host, "swill.subscribe", "chat", {});
    const { core, data } = await host.call(0);
    expect(data).toEqual({ channel: "chat" });
    expect(sub.position).toBeUndefined();
    header(core, pos(4));
    await sub.ready;
    expect(sub.position).toEqual({ offset: 4, epoch: "e" });
    item(core, { channel: "chat", data: "hi", offset: 5 });
    item(core, { channel: "chat", join: { client: "c1", user: "ann" } });
    item(core, { channel: "chat", leave: { client: "c1", user: "ann" } });
    const it = sub[Symbol.asyncIterator]();
    expect(await take(it)).toEqual({ kind: "publication", channel: "chat", data: "hi", offset: 5 });
    expect(await take(it)).toEqual({ kind: "join", channel: "chat", client: { client: "c1", user: "ann" } });
    expect(await take(it)).toEqual({ kind: "leave", channel: "chat", client: { client: "c1", user: "ann" } });
    expect(sub.position).toEqual({ offset: 5, epoch: "e" });
    end(core);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(sub.done).toBe(true);
  });

  it("resubscribes after 503 with since = its position and drops duplicates", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "feed", fast);
    const first = (await host.call(0)).core;
    header(first, pos(0));
    item(first, { channel: "feed", data: 1, offset: 1 });
    const it = sub[Symbol.asyncIterator]();
    expect(await take(it)).toMatchObject({ data: 1, offset: 1 });
    error(first, Code.Unavailable, "missed");
    const next = take(it);
    const second = await host.call(1);
    expect(second.data).toEqual({ channel: "feed", since: { offset: 1, epoch: "e" } });
    header(second.core, pos(3, "e", true));
    item(second.core, { channel: "feed", data: 1, offset: 1 }); // a duplicate
    item(second.core, { channel: "feed", data: 2, offset: 2 });
    expect(await next).toMatchObject({ kind: "publication", data: 2, offset: 2 });
    expect(sub.position).toEqual({ offset: 2, epoch: "e" });
    sub.unsubscribe();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(second.core.done).toBe(true);
  });

  it("yields unrecovered once when the server could not recover, then goes on live", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "feed", fast);
    const first = (await host.call(0)).core;
    header(first, pos(7));
    const it = sub[Symbol.asyncIterator]();
    const next = take(it);
    first.fail(new ConnectionError("lost"));
    const second = await host.call(1);
    expect(second.data).toEqual({ channel: "feed", since: { offset: 7, epoch: "e" } });
    header(second.core, pos(40, "e2", false));
    item(second.core, { channel: "feed", data: 41, offset: 41 });
    expect(await next).toEqual({ kind: "unrecovered", channel: "feed", position: { offset: 40, epoch: "e2" } });
    expect(await take(it)).toMatchObject({ data: 41, offset: 41 });
    sub.unsubscribe();
  });

  it("waits for the server's retry hint after 429", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "feed", fast);
    const first = (await host.call(0)).core;
    error(first, Code.TooManyRequests, "slow", { "swill-retry-after-ms": 40 });
    const t0 = performance.now();
    const second = await host.call(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    expect(second.data).toEqual({ channel: "feed" }); // never confirmed: no position to recover from
    header(second.core, pos(0));
    await sub.ready;
    sub.unsubscribe();
  });

  it("ends with the server's refusal, which ready and the iteration report", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "secret", fast);
    error((await host.call(0)).core, Code.Forbidden, "no");
    const err = await sub.ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwillError);
    expect((err as SwillError).code).toBe(403);
    const it = sub[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBe(err);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("gives up after maxAttempts refusals in a row", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "feed", {
      resubscribe: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 1 },
    });
    error((await host.call(0)).core, Code.Unavailable, "a");
    error((await host.call(1)).core, Code.Unavailable, "b");
    const err = await sub.ready.catch((e: unknown) => e);
    expect((err as SwillError).message).toBe("b");
  });

  it("ends with the connection error once the client will not reconnect", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "feed", fast);
    const first = (await host.call(0)).core;
    header(first, pos(0));
    await sub.ready;
    host.reconnects = false;
    const lost = new ConnectionError("lost for good");
    first.fail(lost);
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toBe(lost);
    expect(host.calls).toHaveLength(1);
  });

  it("a pattern or the inbox says unrecovered after each interruption, and never sends since", async () => {
    for (const [method, channel, pattern] of [
      ["swill.subscribe", "news.*", true],
      ["swill.inbox", "", false],
    ] as const) {
      const host = new Host();
      const sub = new Sub<string>(host, method, channel, { ...fast, pattern });
      const first = await host.call(0);
      expect(first.data).toEqual(method === "swill.inbox" ? null : { channel, pattern: true });
      header(first.core, pos(0, ""));
      item(first.core, { channel: "news.a", data: "x", offset: 0 });
      const it = sub[Symbol.asyncIterator]();
      expect(await take(it)).toMatchObject({ channel: "news.a", data: "x" });
      const next = take(it);
      first.core.fail(new ConnectionError("lost"));
      const second = await host.call(1);
      expect(second.data).toEqual(first.data);
      header(second.core, pos(0, ""));
      expect(await next).toMatchObject({ kind: "unrecovered", channel });
      sub.unsubscribe();
    }
  });

  it("throws the signal's reason when aborted, and sends nothing for an aborted signal", async () => {
    const host = new Host();
    const ac = new AbortController();
    const sub = new Sub<number>(host, "swill.subscribe", "feed", { signal: ac.signal });
    const first = (await host.call(0)).core;
    header(first, pos(0));
    await sub.ready;
    const it = sub[Symbol.asyncIterator]();
    const next = it.next();
    const reason = new Error("stop");
    ac.abort(reason);
    await expect(next).rejects.toBe(reason);
    expect(first.done).toBe(true);

    const host2 = new Host();
    const sub2 = new Sub<number>(host2, "swill.subscribe", "feed", { signal: AbortSignal.abort(reason) });
    await expect(sub2.ready).rejects.toBe(reason);
    expect(host2.calls).toHaveLength(0);
  });

  it("refuses bad arguments", async () => {
    const host = new Host();
    await expect(new Sub(host, "swill.subscribe", "", {}).ready).rejects.toBeInstanceOf(TypeError);
    await expect(
      new Sub(host, "swill.subscribe", "a.*", { pattern: true, since: { offset: 1, epoch: "" } }).ready,
    ).rejects.toThrow(/cannot recover/);
    const sub = new Sub(host, "swill.subscribe", "x", {});
    sub[Symbol.asyncIterator]();
    expect(() => sub[Symbol.asyncIterator]()).toThrow(TypeError);
    sub.unsubscribe();
    expect(host.calls).toHaveLength(1);
  });

  it("unsubscribe before the confirmation ends it quietly; ready rejects with an AbortError", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "x", {});
    const { core } = await host.call(0);
    sub.unsubscribe();
    expect(sub.done).toBe(true);
    expect(core.done).toBe(true);
    await expect(sub.ready).rejects.toMatchObject({ name: "AbortError" });
    expect(await sub[Symbol.asyncIterator]().next()).toEqual({ value: undefined, done: true });
  });

  it("a stream that ends before its header is an error", async () => {
    const host = new Host();
    const sub = new Sub<number>(host, "swill.subscribe", "x", {});
    end((await host.call(0)).core);
    await expect(sub.ready).rejects.toThrow(/before confirming/);
  });
});
