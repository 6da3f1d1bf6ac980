import { describe, expect, it } from "vitest";

import { Code, ConnectionError, SwillError, TIMEOUT_KEY, type Metadata } from "../../src/index.js";
import { demoClient, elapsed, iterationError, rejectionOf } from "./helpers.js";

// Every demo handler, every kind of call, over a real WebSocket to the Go
// demo server built and started by the global setup.

async function collect<T>(s: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of s) {
    out.push(v);
  }
  return out;
}

async function* slowly<T>(items: readonly T[], ms: number): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((r) => setTimeout(r, ms));
    yield item;
  }
}

describe("unary", () => {
  it("add returns the sum and negotiates swill.v1", async () => {
    const client = demoClient();
    expect(await client.call("add", [1, 2])).toBe(3);
    expect(await client.call("add", [-40, 2])).toBe(-38);
    expect(client.protocol).toBe("swill.v1");
    expect(client.state).toBe("open");
  });

  it("a call made before the connection opens waits for it", async () => {
    const client = demoClient();
    expect(client.state).toBe("connecting");
    expect(await client.call("add", [20, 22])).toBe(42);
  });

  it("sleep answers after the wait", async () => {
    const client = demoClient();
    expect(await client.call("sleep", 30)).toBe(30);
  });

  it("signup returns the new user", async () => {
    const client = demoClient();
    expect(await client.call("signup", { name: "Alice", email: "alice@example.com", age: 30 })).toEqual({
      id: "u1",
      name: "Alice",
    });
  });

  it("metadata echoes the request metadata with leading and trailing metadata", async () => {
    const client = demoClient();
    const headers: Metadata[] = [];
    const trailers: Metadata[] = [];
    const md = await client.call("metadata", null, {
      metadata: { a: 1, who: "me", nested: { list: [1, "x"] } },
      onHeader: (h) => headers.push(h),
      onTrailer: (t) => trailers.push(t),
    });
    expect(md).toEqual({ a: 1, who: "me", nested: { list: [1, "x"] } });
    expect(headers).toEqual([{ hello: "world" }]);
    expect(trailers).toEqual([{ bye: "world" }]);
  });

  it("metadata without request metadata returns an empty map", async () => {
    const client = demoClient();
    expect(await client.call("metadata", null)).toEqual({});
  });

  it("timeoutMs is sent as swill-timeout-ms, the milliseconds left", async () => {
    const client = demoClient();
    const md = await client.call("metadata", null, { timeoutMs: 5_000, metadata: { k: "v" } });
    expect(md["k"]).toBe("v");
    const left = md[TIMEOUT_KEY];
    expect(Number.isInteger(left)).toBe(true);
    expect(left).toBeGreaterThan(4_000);
    expect(left).toBeLessThanOrEqual(5_000);
  });

  it("an exception in onHeader cancels the call with that exception", async () => {
    const client = demoClient();
    const boom = new Error("listener failed");
    const err = await rejectionOf(
      client.call("metadata", null, {
        onHeader: () => {
          throw boom;
        },
      }),
    );
    expect(err).toBe(boom);
    expect(await client.call("add", [1, 1])).toBe(2);
  });
});

describe("errors", () => {
  it("an unknown method is 404", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.call("nope" as "add", [1, 2]));
    expect(err).toBeInstanceOf(SwillError);
    expect(err).toMatchObject({ code: Code.NotFound, remote: true, name: "SwillError" });
    expect((err as SwillError).message).toContain("nope");
  });

  it("fail carries the handler's code and message (418)", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.call("fail", { code: 418, message: "I'm a teapot" }));
    expect(err).toBeInstanceOf(SwillError);
    expect(err).toMatchObject({ code: 418, message: "I'm a teapot", data: undefined, remote: true });
  });

  it("a panicking handler is 500 with the generic message", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.call("boom", null));
    expect(err).toMatchObject({ code: Code.Internal, message: "An internal server error occurred" });
  });

  it("signup validation is 422 with the errors per field", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.call("signup", { name: "A", email: "a@example.com", age: 5 }));
    expect(err).toBeInstanceOf(SwillError);
    const e = err as SwillError;
    expect(e.code).toBe(Code.Validation);
    expect(e.message).toBe("Validation Error");
    expect(e.isValidation()).toBe(true);
    expect(e.data).toEqual({
      age: [{ description: "less than 13" }],
      name: [{ description: "length less than 2" }],
    });
  });

  it("a request of the wrong type is 400", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.call("add", "one and two" as unknown as [number, number]));
    expect(err).toMatchObject({ code: Code.BadRequest, remote: true });
  });

  it("a value MsgPack cannot encode fails that call only", async () => {
    const client = demoClient();
    const unencodable = [1n, 2] as unknown as [number, number];
    await expect(client.call("add", unencodable)).rejects.toThrow();
    expect(await client.call("add", [1, 2])).toBe(3);
    const sum = client.openClientStream("sum");
    expect(() => sum.send((() => 1) as unknown as number)).toThrow();
    sum.send(5);
    sum.end();
    expect(await sum.response).toBe(5);
    await expect(client.clientStream("sum", [1, 2n as unknown as number])).rejects.toThrow();
    expect(await client.call("add", [2, 2])).toBe(4);
  });

  it("an invalid timeoutMs rejects before anything is sent", async () => {
    const client = demoClient();
    await expect(client.call("add", [1, 2], { timeoutMs: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(client.call("add", [1, 2], { timeoutMs: Number.NaN })).rejects.toBeInstanceOf(RangeError);
    expect(await client.call("add", [1, 2])).toBe(3);
  });
});

describe("server streams", () => {
  it("countdown yields n..1 and its trailer", async () => {
    const client = demoClient();
    const trailers: Metadata[] = [];
    const s = client.serverStream("countdown", 3, { onTrailer: (t) => trailers.push(t) });
    expect(await collect(s)).toEqual([3, 2, 1]);
    expect(s.trailer).toEqual({ total: 3 });
    expect(s.done).toBe(true);
    expect(trailers).toEqual([{ total: 3 }]);
  });

  it("countdown 0 ends at once with its trailer", async () => {
    const client = demoClient();
    const s = client.serverStream("countdown", 0);
    expect(await collect(s)).toEqual([]);
    expect(s.trailer).toEqual({ total: 0 });
  });

  it("lead's header arrives alone before the items", async () => {
    const client = demoClient();
    const seen: string[] = [];
    const s = client.serverStream("lead", 2, { onHeader: (h) => seen.push(`header ${JSON.stringify(h)}`) });
    for await (const n of s) {
      seen.push(`item ${n}`);
    }
    expect(seen).toEqual(['header {"x":"y"}', "item 0", "item 1"]);
    expect(s.header).toEqual({ x: "y" });
    expect(s.trailer).toBeUndefined();
  });

  it("breaking out of for await cancels the stream, and the connection keeps working", async () => {
    const client = demoClient();
    const s = client.serverStream("countdown", 1_000_000);
    const got: number[] = [];
    const { ms } = await elapsed(async () => {
      for await (const n of s) {
        got.push(n);
        if (got.length === 3) {
          break;
        }
      }
    });
    expect(got).toEqual([1_000_000, 999_999, 999_998]);
    expect(s.done).toBe(true);
    expect(ms).toBeLessThan(5_000);
    expect(await client.call("add", [2, 3])).toBe(5);
    // A stream cannot be iterated twice.
    expect(() => s[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it("an AbortSignal stops the iteration with its reason", async () => {
    const client = demoClient();
    const ac = new AbortController();
    const s = client.serverStream("countdown", 1_000_000, { signal: ac.signal });
    const got: number[] = [];
    const reason = new Error("enough");
    let thrown: unknown;
    try {
      for await (const n of s) {
        got.push(n);
        if (got.length === 2) {
          ac.abort(reason);
        }
      }
    } catch (err: unknown) {
      thrown = err;
    }
    expect(thrown).toBe(reason);
    expect(got).toEqual([1_000_000, 999_999]);
    expect(await client.call("add", [2, 3])).toBe(5);
  });

  it("cancel() without a reason makes the iteration throw an AbortError, not end as if complete", async () => {
    const client = demoClient();
    const s = client.serverStream("countdown", 1_000_000);
    const got: number[] = [];
    let thrown: unknown;
    try {
      for await (const n of s) {
        got.push(n);
        s.cancel();
      }
    } catch (err: unknown) {
      thrown = err;
    }
    expect(got).toEqual([1_000_000]);
    expect(thrown).toMatchObject({ name: "AbortError" });
    expect(await client.call("add", [2, 3])).toBe(5);
  });

  it("break ends the loop and cancels the call", async () => {
    const client = demoClient();
    const s = client.serverStream("countdown", 1_000_000);
    for await (const n of s) {
      expect(n).toBe(1_000_000);
      break;
    }
    expect(s.done).toBe(true);
    expect(await client.call("add", [2, 3])).toBe(5);
  });

  it("an error from a stream is thrown by the iteration", async () => {
    const client = demoClient();
    const { items, err } = await iterationError(client.serverStream("countdown", "three" as unknown as number));
    expect(items).toEqual([]);
    expect(err).toMatchObject({ code: Code.BadRequest, remote: true });
  });

  it("items buffered while nobody reads come out complete and in order", async () => {
    const client = demoClient();
    const s = client.serverStream("countdown", 5_000);
    await new Promise((r) => setTimeout(r, 300));
    const items = await collect(s);
    expect(items).toEqual(Array.from({ length: 5_000 }, (_, i) => 5_000 - i));
  });

  it("a stream read too slowly overflows maxBufferedItems with 429", async () => {
    const client = demoClient({ maxBufferedItems: 50 });
    const s = client.serverStream("countdown", 100_000);
    // Read nothing until the buffer has overflowed.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.done).toBe(true);
    const { err } = await iterationError(s);
    expect(err).toMatchObject({ code: Code.TooManyRequests, remote: false });
    expect(await client.call("add", [1, 1])).toBe(2);
  });
});

describe("client streams", () => {
  it("sum adds up an array", async () => {
    const client = demoClient();
    expect(await client.clientStream("sum", [1, 2, 3])).toBe(6);
  });

  it("sum adds up an async generator", async () => {
    const client = demoClient();
    expect(await client.clientStream("sum", slowly([4, 5, 6, 7], 5))).toBe(22);
  });

  it("sum of an empty stream is 0", async () => {
    const client = demoClient();
    expect(await client.clientStream("sum", [])).toBe(0);
  });

  it("sum with metadata sends it first", async () => {
    const client = demoClient();
    expect(await client.clientStream("sum", [4, 5, 6], { metadata: { m: 1 } })).toBe(15);
  });

  it("send and end", async () => {
    const client = demoClient();
    const s = client.openClientStream("sum");
    expect(s.send(10)).toBe(true);
    expect(s.send(20)).toBe(true);
    s.end();
    expect(() => s.send(30)).toThrow(TypeError);
    expect(await s.response).toBe(30);
  });

  it("an input that throws cancels the call with its error", async () => {
    const client = demoClient();
    const failure = new Error("source broke");
    async function* broken(): AsyncGenerator<number> {
      yield 1;
      await new Promise((r) => setTimeout(r, 5));
      throw failure;
    }
    expect(await rejectionOf(client.clientStream("sum", broken()))).toBe(failure);
    expect(await client.call("add", [1, 1])).toBe(2);
  });

  it("cancel rejects the response with an AbortError", async () => {
    const client = demoClient();
    const s = client.openClientStream("sum");
    s.send(1);
    s.cancel();
    const err = await rejectionOf(s.response);
    expect(err).toMatchObject({ name: "AbortError" });
    expect(s.send(2)).toBe(false);
  });

  it("a wrong item type fails the call with 400", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.clientStream("sum", [1, "two" as unknown as number, 3]));
    expect(err).toMatchObject({ code: Code.BadRequest, remote: true });
  });
});

describe("bidirectional streams", () => {
  for (const method of ["echo", "echo_untyped"] as const) {
    it(`${method} echoes each value as it arrives`, async () => {
      const client = demoClient();
      const s = client.openBidiStream(method);
      const it = s[Symbol.asyncIterator]();
      const values: unknown[] = ["hello", { k: [1, 2] }, 3, null, true, 1.5, new Uint8Array([1, 2, 3])];
      for (const v of values) {
        s.send(v);
        expect(await it.next()).toEqual({ value: v, done: false });
      }
      s.end();
      expect(await it.next()).toEqual({ value: undefined, done: true });
    });
  }

  it("echo from an iterable, with metadata", async () => {
    const client = demoClient();
    const s = client.bidiStream("echo", slowly(["a", "b", "c"], 2), { metadata: { trace: "t1" } });
    expect(await collect(s)).toEqual(["a", "b", "c"]);
  });

  it("echo of an empty stream ends at once", async () => {
    const client = demoClient();
    expect(await collect(client.bidiStream("echo", []))).toEqual([]);
  });

  it("breaking out of an echo cancels it", async () => {
    const client = demoClient();
    async function* forever(): AsyncGenerator<number> {
      for (let i = 0; ; i++) {
        yield i;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    const got: unknown[] = [];
    for await (const v of client.bidiStream("echo", forever())) {
      got.push(v);
      if (got.length === 5) {
        break;
      }
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(await client.call("add", [1, 1])).toBe(2);
  });
});

describe("cancellation and deadlines", () => {
  it("aborting a sleep rejects at once with the signal's reason, and later calls work", async () => {
    const client = demoClient();
    const ac = new AbortController();
    const p = client.call("sleep", 10_000, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const { value: err, ms } = await elapsed(() => rejectionOf(p));
    expect(err).toMatchObject({ name: "AbortError" });
    expect(ms).toBeLessThan(5_000);
    expect(await client.call("add", [1, 2])).toBe(3);
  });

  it("an already aborted signal rejects without a round trip", async () => {
    const client = demoClient();
    const reason = new Error("never mind");
    await expect(client.call("add", [1, 2], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it("timeoutMs fails a slow call with 408", async () => {
    const client = demoClient();
    const { value: err, ms } = await elapsed(() => rejectionOf(client.call("sleep", 10_000, { timeoutMs: 100 })));
    expect(err).toBeInstanceOf(SwillError);
    expect((err as SwillError).code).toBe(Code.Timeout);
    expect(ms).toBeLessThan(5_000);
    expect(await client.call("sleep", 1, { timeoutMs: 5_000 })).toBe(1);
  });

  it("the server applies swill-timeout-ms itself", async () => {
    const client = demoClient();
    const err = await rejectionOf(client.call("sleep", 10_000, { metadata: { [TIMEOUT_KEY]: 50 } }));
    expect(err).toMatchObject({ code: Code.Timeout, remote: true });
  });

  it("timeoutMs also bounds streams", async () => {
    const client = demoClient();
    const { items, err } = await iterationError(client.serverStream("countdown", 1_000_000_000, { timeoutMs: 100 }));
    expect(items.length).toBeGreaterThan(0);
    expect(err).toMatchObject({ code: Code.Timeout });
    expect(await client.call("add", [1, 1])).toBe(2);
  });
});

describe("concurrency", () => {
  it("200 concurrent calls on one connection", async () => {
    const client = demoClient();
    const adds = Array.from({ length: 200 }, (_, i) => client.call("add", [i, i]));
    expect(await Promise.all(adds)).toEqual(Array.from({ length: 200 }, (_, i) => 2 * i));
  });

  it("200 concurrent sleeps run at the same time", async () => {
    const client = demoClient();
    const { value, ms } = await elapsed(() =>
      Promise.all(Array.from({ length: 200 }, (_, i) => client.call("sleep", 200 + (i % 10)))),
    );
    expect(value).toEqual(Array.from({ length: 200 }, (_, i) => 200 + (i % 10)));
    // One after the other they would take 40 s.
    expect(ms).toBeLessThan(10_000);
  });

  it("streams interleave with unary calls", async () => {
    const client = demoClient();
    const streams = Array.from({ length: 20 }, (_, i) => collect(client.serverStream("countdown", i)));
    const sums = Array.from({ length: 20 }, (_, i) => client.clientStream("sum", [i, i, i]));
    const results = await Promise.all(streams);
    results.forEach((items, i) => expect(items).toEqual(Array.from({ length: i }, (_, j) => i - j)));
    expect(await Promise.all(sums)).toEqual(Array.from({ length: 20 }, (_, i) => 3 * i));
  });
});

describe("closing", () => {
  it("close fails open calls with ConnectionError and later calls at once", async () => {
    const client = demoClient();
    await client.connect();
    const p = client.call("sleep", 10_000);
    const s = client.serverStream("countdown", 1_000_000);
    client.close();
    expect(client.state).toBe("closed");
    expect(await rejectionOf(p)).toBeInstanceOf(ConnectionError);
    const { err } = await iterationError(s);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(await rejectionOf(client.call("add", [1, 2]))).toBeInstanceOf(ConnectionError);
    await expect(client.connect()).rejects.toBeInstanceOf(ConnectionError);
  });
});
