import { decode, encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";

import { Code, ConnectionError, SwillError, TIMEOUT_KEY, type SwillClient } from "../../src/index.js";
import { exchanges, loadVector } from "../fixtures/vectors.js";
import { bytes, startFakeServer } from "./fake-server.js";
import { newClient, rejectionOf, type Demo } from "./helpers.js";

// The client against scripted servers: the bytes it writes for each call
// are the reference client's (replayed from the recorded vectors), and it
// copes with whatever a server may send.

async function collect<T>(s: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of s) {
    out.push(v);
  }
  return out;
}

type Scenario = (c: SwillClient<Demo>) => Promise<void>;

const scenarios: Record<string, Scenario> = {
  add: async (c) => {
    expect(await c.call("add", [1, 2])).toBe(3);
  },
  boom: async (c) => {
    const err = await rejectionOf(c.call("boom", null));
    expect(err).toBeInstanceOf(SwillError);
    expect(err).toMatchObject({ code: 500, message: "An internal server error occurred", remote: true });
  },
  countdown_0: async (c) => {
    const s = c.serverStream("countdown", 0);
    expect(await collect(s)).toEqual([]);
    expect(s.trailer).toEqual({ total: 0 });
  },
  countdown_3: async (c) => {
    const s = c.serverStream("countdown", 3);
    expect(await collect(s)).toEqual([3, 2, 1]);
    expect(s.trailer).toEqual({ total: 3 });
  },
  echo_untyped_bidi: async (c) => {
    const s = c.openBidiStream("echo_untyped");
    const it = s[Symbol.asyncIterator]();
    for (const v of ["hello", { k: [1, 2] }, 3]) {
      s.send(v);
      expect(await it.next()).toEqual({ value: v, done: false });
    }
    s.end();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  },
  echo_untyped_burst: async (c) => {
    const s = c.openBidiStream("echo_untyped", { metadata: { trace: "t1" } });
    s.send("a");
    s.send("b");
    s.send("c");
    s.end();
    expect(await collect(s)).toEqual(["a", "b", "c"]);
  },
  fail_418: async (c) => {
    const err = await rejectionOf(c.call("fail", { code: 418, message: "I'm a teapot" }));
    expect(err).toMatchObject({ code: 418, message: "I'm a teapot", remote: true });
  },
  lead_2: async (c) => {
    const s = c.serverStream("lead", 2);
    expect(await collect(s)).toEqual([0, 1]);
    expect(s.header).toEqual({ x: "y" });
  },
  metadata_client: async (c) => {
    const seen: unknown[] = [];
    const md = await c.call("metadata", null, {
      metadata: { a: 1 },
      onHeader: (h) => seen.push(["header", h]),
      onTrailer: (t) => seen.push(["trailer", t]),
    });
    expect(md).toEqual({ a: 1 });
    expect(seen).toEqual([
      ["header", { hello: "world" }],
      ["trailer", { bye: "world" }],
    ]);
  },
  metadata_none: async (c) => {
    expect(await c.call("metadata", null)).toEqual({});
  },
  signup_age_5: async (c) => {
    const err = await rejectionOf(c.call("signup", { name: "Alice", email: "alice@example.com", age: 5 }));
    expect(err).toMatchObject({
      code: 422,
      message: "Validation Error",
      data: { age: [{ description: "less than 13" }] },
    });
  },
  signup_both: async (c) => {
    const err = (await rejectionOf(c.call("signup", { name: "A", email: "a@example.com", age: 5 }))) as SwillError;
    expect(err.isValidation()).toBe(true);
    expect(err.data).toEqual({
      age: [{ description: "less than 13" }],
      name: [{ description: "length less than 2" }],
    });
  },
  signup_short_name: async (c) => {
    const err = await rejectionOf(c.call("signup", { name: "A", email: "a@example.com", age: 30 }));
    expect(err).toMatchObject({ code: 422, data: { name: [{ description: "length less than 2" }] } });
  },
  signup_valid: async (c) => {
    expect(await c.call("signup", { name: "Alice", email: "alice@example.com", age: 30 })).toEqual({
      id: "u1",
      name: "Alice",
    });
  },
  sum_metadata_first: async (c) => {
    expect(await c.clientStream("sum", [4, 5, 6], { metadata: { m: 1 } })).toBe(15);
  },
  sum_stream: async (c) => {
    const s = c.openClientStream("sum");
    s.send(1);
    s.send(2);
    s.send(3);
    s.end();
    expect(await s.response).toBe(6);
  },
};

describe("reference vectors", () => {
  for (const [name, run] of Object.entries(scenarios)) {
    it(`${name}: same frames as the reference client, same outcome`, async () => {
      const vector = loadVector(name);
      const script = exchanges(vector);
      const server = await startFakeServer((_hex, socket, i) => {
        for (const reply of script[i]?.replies ?? []) {
          socket.send(bytes(reply));
        }
      });
      const client = newClient(server.url);
      await run(client);
      expect(server.received).toEqual(script.map((x) => x.send));
      expect(server.offered).toEqual(["swill.v1"]);
    });
  }
});

/** reply answers every frame with the frames made by answer (given the decoded request). */
function replying(answer: (req: unknown[]) => unknown[][]) {
  return (hex: string, socket: import("ws").WebSocket) => {
    for (const frame of answer(decode(bytes(hex)) as unknown[])) {
      socket.send(encode(frame));
    }
  };
}

describe("what the client sends", () => {
  it("CANCEL on abort is [seq, nil, rpc, 3]", async () => {
    const server = await startFakeServer();
    const client = newClient(server.url);
    const ac = new AbortController();
    const p = client.call("sleep", 10_000, { signal: ac.signal });
    expect(await server.nextFrame()).toBe("9301cd2710a5736c656570");
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    expect(await server.nextFrame()).toBe("9401c0a5736c65657003");
  });

  it("CANCEL when a for await loop is left", async () => {
    const server = await startFakeServer(
      replying(([seq]) => [
        [seq, 5, 0, null, null],
        [seq, 4, 0, null, null],
      ]),
    );
    const client = newClient(server.url);
    for await (const n of client.serverStream("countdown", 5)) {
      expect(n).toBe(5);
      break;
    }
    expect(await server.nextFrame()).toBe("930105a9636f756e74646f776e");
    expect(await server.nextFrame()).toBe("9401c0a9636f756e74646f776e03");
  });

  it("no CANCEL for a call the server never saw", async () => {
    const server = await startFakeServer(replying(([seq]) => [[seq, 2, 0, null, null]]));
    const client = newClient(server.url);
    const s = client.openClientStream("sum");
    s.cancel(); // nothing was sent yet: no frame at all
    expect(await client.call("add", [1, 1])).toBe(2);
    expect(server.received).toEqual(["9301920101a3616464"]);
  });

  it("the client's own deadline ends an idle stream with 408 and sends CANCEL", async () => {
    const server = await startFakeServer(); // never answers
    const client = newClient(server.url);
    const s = client.openBidiStream("echo", { timeoutMs: 50 });
    const it = s[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: Code.Timeout, remote: false });
    const opening = decode(bytes(await server.nextFrame())) as unknown[];
    expect(opening.slice(0, 4)).toEqual([1, null, "echo", 2]);
    expect(Object.keys(opening[4] as object)).toEqual([TIMEOUT_KEY]);
    expect(await server.nextFrame()).toBe("9401c0a46563686f03"); // [1, nil, "echo", 3]
  });

  it("timeoutMs goes out as request metadata", async () => {
    const server = await startFakeServer(replying(([seq]) => [[seq, 3, 0, null, null]]));
    const client = newClient(server.url);
    expect(await client.call("add", [1, 2], { timeoutMs: 1_000, metadata: { x: 1 } })).toBe(3);
    const frame = decode(bytes(server.received[0]!)) as unknown[];
    expect(frame.slice(0, 4)).toEqual([1, [1, 2], "add", 0]);
    const md = frame[4] as Record<string, unknown>;
    expect(Object.keys(md)).toEqual(["x", TIMEOUT_KEY]);
    expect(md[TIMEOUT_KEY]).toBeGreaterThan(0);
    expect(md[TIMEOUT_KEY]).toBeLessThanOrEqual(1_000);
  });

  it("an empty client stream is opened by an empty METADATA frame, then ended", async () => {
    const server = await startFakeServer(replying(([seq, , , type]) => (type === 1 ? [[seq, 0, 0, null, null]] : [])));
    const client = newClient(server.url);
    expect(await client.clientStream("sum", [])).toBe(0);
    // [1, nil, "sum", 2, {}] then [1, nil, "sum", 1]
    expect(server.received).toEqual(["9501c0a373756d0280", "9401c0a373756d01"]);
  });

  it("sequence numbers count up per connection, in their smallest form", async () => {
    const server = await startFakeServer(replying(([seq, data]) => [[seq, data, 0, null, null]]));
    const client = newClient(server.url);
    const n = 130;
    const got = await Promise.all(Array.from({ length: n }, (_, i) => client.call("sleep", i)));
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    const seqs = server.received.map((hex) => (decode(bytes(hex)) as unknown[])[0]);
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(server.received[126]!.slice(0, 4)).toBe("937f"); // seq 127: positive fixint
    expect(server.received[127]!.slice(0, 6)).toBe("93cc80"); // seq 128: uint8
  });
});

describe("what the client accepts", () => {
  it("responses of 2, 3, 4 and 6 elements", async () => {
    const server = await startFakeServer((hex, socket) => {
      const [seq, data] = decode(bytes(hex)) as [number, number];
      const frames: Record<number, unknown[]> = {
        2: [seq, data * 10],
        3: [seq, data * 10, 0],
        4: [seq, data * 10, 0, { h: data }],
        6: [seq, data * 10, 0, null, { t: data }, "ignored"],
      };
      socket.send(encode(frames[data]));
    });
    const client = newClient(server.url);
    expect(await client.call("sleep", 2)).toBe(20);
    expect(await client.call("sleep", 3)).toBe(30);
    const headers: unknown[] = [];
    expect(await client.call("sleep", 4, { onHeader: (h) => headers.push(h) })).toBe(40);
    expect(headers).toEqual([{ h: 4 }]);
    const trailers: unknown[] = [];
    expect(await client.call("sleep", 6, { onTrailer: (t) => trailers.push(t) })).toBe(60);
    expect(trailers).toEqual([{ t: 6 }]);
  });

  it("frames for unknown sequence numbers are ignored", async () => {
    const server = await startFakeServer((hex, socket) => {
      const [seq] = decode(bytes(hex)) as [number];
      socket.send(encode([seq + 1000, "stray", 0, null, null]));
      socket.send(encode([seq + 1000, null, 1, null, null]));
      socket.send(encode([seq + 1000, { code: 500, message: "stray" }, 3, null, null]));
      socket.send(encode([seq, 3, 0, null, null]));
    });
    const client = newClient(server.url);
    expect(await client.call("add", [1, 2])).toBe(3);
    expect(await client.call("add", [1, 2])).toBe(3);
  });

  it("frames that are not swill frames are dropped, the connection stays", async () => {
    const server = await startFakeServer((hex, socket) => {
      const [seq] = decode(bytes(hex)) as [number];
      socket.send(bytes("c1")); // not MsgPack
      socket.send(bytes("93")); // truncated
      socket.send(encode({ seq })); // not an array
      socket.send(encode([seq])); // one element
      socket.send(encode(["one", 1, 0])); // seq not an integer
      socket.send("a text frame");
      socket.send(encode([seq, 3, 0, null, null]));
    });
    const client = newClient(server.url);
    expect(await client.call("add", [1, 2])).toBe(3);
    expect(client.state).toBe("open");
  });

  it("__proto__ keys are refused: the frame is dropped and nothing is polluted", async () => {
    const server = await startFakeServer((hex, socket) => {
      const [seq] = decode(bytes(hex)) as [number];
      const s = seq.toString(16).padStart(2, "0");
      // [seq, {"__proto__": {"polluted": true}}, 0, nil, nil]
      socket.send(bytes(`95 ${s} 81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 c3 00 c0 c0`));
      // [seq, 1, 0, {"__proto__": {"polluted": true}}, nil]
      socket.send(bytes(`95 ${s} 01 00 81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 c3 c0`));
      socket.send(encode([seq, "clean", 0, null, null]));
    });
    const client = newClient(server.url);
    const headers: unknown[] = [];
    expect(await client.call("metadata", null, { onHeader: (h) => headers.push(h) })).toBe("clean");
    expect(headers).toEqual([]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("a frame that names a call but breaks the protocol fails that call", async () => {
    const server = await startFakeServer(replying(([seq]) => [[seq, null, 7, null, null]]));
    const client = newClient(server.url);
    const err = await rejectionOf(client.call("add", [1, 2]));
    expect(err).toBeInstanceOf(SwillError);
    expect(err).toMatchObject({ code: Code.Internal, remote: false });
    expect((err as Error).message).toContain("type 7");
  });

  it("an ERROR frame of the wrong shape is a 500", async () => {
    const server = await startFakeServer(replying(([seq]) => [[seq, "oops", 3, null, null]]));
    const client = newClient(server.url);
    const err = await rejectionOf(client.call("add", [1, 2]));
    expect(err).toMatchObject({ code: 500, message: "malformed ERROR frame from the server", data: "oops" });
  });

  it("END_OF_STREAM for a unary call fails it instead of leaving it pending", async () => {
    const server = await startFakeServer(replying(([seq]) => [[seq, null, 1, null, null]]));
    const client = newClient(server.url);
    const err = await rejectionOf(client.call("add", [1, 2]));
    expect(err).toMatchObject({ code: Code.Internal, remote: false });
  });

  it("a frame above maxMessageBytes closes the connection (4009)", async () => {
    const server = await startFakeServer(replying(([seq]) => [[seq, "x".repeat(2_000), 0, null, null]]));
    const client = newClient(server.url, { maxMessageBytes: 1_000, reconnect: false });
    const err = await rejectionOf(client.call("add", [1, 2]));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ closeCode: 4009 });
    expect(client.state).toBe("disconnected");
  });

  it("the server closing the socket fails open calls with ConnectionError, and seq restarts at 1", async () => {
    let calls = 0;
    const server = await startFakeServer((hex, socket) => {
      const [seq, data] = decode(bytes(hex)) as [number, number];
      calls++;
      if (calls === 2) {
        socket.close(1011, "going down");
      } else {
        socket.send(encode([seq, data, 0, null, null]));
      }
    });
    const client = newClient(server.url, { reconnect: false });
    expect(await client.call("sleep", 1)).toBe(1);
    const err = await rejectionOf(client.call("sleep", 2));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ closeCode: 1011, reason: "going down" });
    // Reconnection is off: the next call dials again on demand.
    expect(await client.call("sleep", 3)).toBe(3);
    expect(server.received.map((hex) => (decode(bytes(hex)) as unknown[])[0])).toEqual([1, 2, 1]);
  });
});
