import { decode } from "@msgpack/msgpack";
import { afterEach, describe, expect, it, vi } from "vitest";

import { CallCore, TIMEOUT_KEY, type CallOptions, type Wire } from "./call.js";
import { Code, SwillError } from "./errors.js";
import { RequestType, ResponseType, type Metadata, type ResponseFrame } from "./frame.js";
import type { MethodKind } from "./schema.js";

/** FakeWire records the frames a call sends, decoded, and what it releases. */
class FakeWire implements Wire {
  readonly sent: unknown[][] = [];
  readonly released: number[] = [];
  open = true;

  send(frame: Uint8Array): boolean {
    if (!this.open) {
      return false;
    }
    this.sent.push(decode(frame) as unknown[]);
    return true;
  }

  release(seq: number): void {
    this.released.push(seq);
  }
}

function call<Req = unknown, Res = unknown>(
  kind: MethodKind,
  method: string,
  data: unknown,
  options: CallOptions = {},
  maxBuffered = 100,
): CallCore<Req, Res> {
  return new CallCore<Req, Res>(kind, method, data, options, maxBuffered);
}

function frame(type: number, data: unknown = null, leading?: Metadata, trailing?: Metadata): ResponseFrame {
  return { seq: 7, data, type, leading, trailing } as ResponseFrame;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("CallCore", () => {
  it("sends a unary request when attached and resolves with the MESSAGE", async () => {
    const w = new FakeWire();
    const c = call("unary", "add", [1, 2]);
    c.attach(w, 7);
    expect(w.sent).toEqual([[7, [1, 2], "add"]]);
    c.handle(frame(ResponseType.Message, 3));
    await expect(c.result).resolves.toBe(3);
    expect(c.done).toBe(true);
    expect(w.released).toEqual([7]);
  });

  it("tells the server its deadline and fails with 408 when it passes", async () => {
    vi.useFakeTimers();
    const w = new FakeWire();
    const c = call("unary", "sleep", 1000, { timeoutMs: 50, metadata: { a: 1 } });
    c.attach(w, 7);
    const [sent] = w.sent as [[number, unknown, string, number, Record<string, unknown>]];
    expect(sent.slice(0, 4)).toEqual([7, 1000, "sleep", RequestType.Message]);
    expect(sent[4]["a"]).toBe(1);
    expect(sent[4][TIMEOUT_KEY]).toBeGreaterThan(0);
    expect(sent[4][TIMEOUT_KEY]).toBeLessThanOrEqual(50);
    vi.advanceTimersByTime(50);
    const err: unknown = await c.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwillError);
    expect((err as SwillError).code).toBe(Code.Timeout);
    expect(w.sent.at(-1), "the server is sent CANCEL").toEqual([7, null, "sleep", RequestType.Cancel]);
  });

  it("refuses a bad method or timeout before sending anything", async () => {
    await expect(call("unary", "", null).result).rejects.toBeInstanceOf(TypeError);
    await expect(call("unary", "x", null, { timeoutMs: 0 }).result).rejects.toBeInstanceOf(RangeError);
    await expect(call("unary", "x", null, { timeoutMs: Number.NaN }).result).rejects.toBeInstanceOf(RangeError);
  });

  it("cancels on abort: CANCEL once the call is out, the signal's reason as the error", async () => {
    const w = new FakeWire();
    const ac = new AbortController();
    const c = call("unary", "sleep", 1000, { signal: ac.signal });
    c.attach(w, 7);
    const reason = new Error("user gave up");
    ac.abort(reason);
    await expect(c.result).rejects.toBe(reason);
    expect(w.sent).toEqual([
      [7, 1000, "sleep"],
      [7, null, "sleep", RequestType.Cancel],
    ]);
    c.cancel(); // a no-op once over
    expect(w.sent).toHaveLength(2);
  });

  it("stops before sending when the signal is already aborted", async () => {
    const ac = new AbortController();
    ac.abort();
    const w = new FakeWire();
    const c = call("unary", "add", [1, 2], { signal: ac.signal });
    expect(c.done).toBe(true);
    c.attach(w, 7);
    expect(w.sent).toEqual([]);
    expect(w.released).toEqual([7]);
    const err: unknown = await c.result.catch((e: unknown) => e);
    expect((err as DOMException).name).toBe("AbortError");
  });

  it("passes the header and trailer to their callbacks once, the trailer before the result", async () => {
    const w = new FakeWire();
    const seen: string[] = [];
    const c = call("unary", "md", null, {
      onHeader: (h) => seen.push(`header ${JSON.stringify(h)}`),
      onTrailer: (t) => seen.push(`trailer ${JSON.stringify(t)}`),
    });
    c.attach(w, 7);
    void c.result.then((r) => seen.push(`result ${String(r)}`));
    c.handle(frame(ResponseType.Metadata, null, { h: 1 }));
    c.handle(frame(ResponseType.Message, 42, undefined, { t: 2 }));
    await c.result;
    expect(seen).toEqual(['header {"h":1}', 'trailer {"t":2}', "result 42"]);
    expect(c.header).toEqual({ h: 1 });
    expect(c.trailer).toEqual({ t: 2 });
  });

  it("fails with the server's ERROR, code, message and data", async () => {
    const c = call("unary", "fail", null);
    c.attach(new FakeWire(), 7);
    c.handle(frame(ResponseType.Error, { code: 418, message: "teapot", data: { x: 1 } }));
    const err: unknown = await c.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwillError);
    expect((err as SwillError).code).toBe(418);
    expect((err as SwillError).data).toEqual({ x: 1 });
  });

  it("treats END_OF_STREAM without a result as an error of a unary call", async () => {
    const c = call("unary", "x", null);
    c.attach(new FakeWire(), 7);
    c.handle(frame(ResponseType.EndOfStream));
    const err: unknown = await c.result.catch((e: unknown) => e);
    expect((err as SwillError).code).toBe(Code.Internal);
  });

  it("streams the server's items in order and ends at END_OF_STREAM", async () => {
    const c = call<unknown, number>("server_stream", "countdown", 3);
    c.attach(new FakeWire(), 7);
    const first = c.next(); // waiting before the item arrives
    c.handle(frame(ResponseType.Message, 3));
    c.handle(frame(ResponseType.Message, 2));
    c.handle(frame(ResponseType.EndOfStream));
    await expect(first).resolves.toEqual({ value: 3, done: false });
    await expect(c.next()).resolves.toEqual({ value: 2, done: false });
    await expect(c.next()).resolves.toEqual({ value: undefined, done: true });
    await expect(c.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it("a cancelled stream never reads as complete", async () => {
    const w = new FakeWire();
    const c = call<unknown, number>("server_stream", "countdown", 3);
    c.attach(w, 7);
    c.handle(frame(ResponseType.Message, 3));
    c.cancel();
    const err: unknown = await c.next().catch((e: unknown) => e);
    expect((err as DOMException).name).toBe("AbortError");
  });

  it("cancels with 429 a stream whose reader falls behind the buffer", async () => {
    const w = new FakeWire();
    const c = call<unknown, number>("server_stream", "flood", null, {}, 2);
    c.attach(w, 7);
    for (let i = 0; i < 3; i++) {
      c.handle(frame(ResponseType.Message, i));
    }
    expect(c.done).toBe(true);
    expect(w.sent.at(-1)).toEqual([7, null, "flood", RequestType.Cancel]);
    const err: unknown = await c.next().catch((e: unknown) => e);
    expect((err as SwillError).code).toBe(Code.TooManyRequests);
  });

  it("queues client-stream items until attached, then sends metadata, items and END_OF_STREAM in order", async () => {
    const w = new FakeWire();
    const c = call<number, number>("client_stream", "sum", undefined, { metadata: { m: 1 } });
    expect(c.sendItem(1)).toBe(true);
    expect(c.sendItem(2)).toBe(true);
    c.end();
    expect(() => c.sendItem(3)).toThrow(TypeError); // a misuse, not a lost connection
    c.attach(w, 7);
    expect(w.sent).toEqual([
      [7, null, "sum", RequestType.Metadata, { m: 1 }],
      [7, 1, "sum"],
      [7, 2, "sum"],
      [7, null, "sum", RequestType.EndOfStream],
    ]);
    c.handle(frame(ResponseType.Message, 3));
    await expect(c.result).resolves.toBe(3);
  });

  it("fail ends the call without telling the server", async () => {
    const w = new FakeWire();
    const c = call("unary", "sleep", 1000);
    c.attach(w, 7);
    const err = new Error("connection lost");
    c.fail(err);
    await expect(c.result).rejects.toBe(err);
    expect(w.sent).toHaveLength(1);
  });
});
