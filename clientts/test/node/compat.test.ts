import { decode, encode } from "@msgpack/msgpack";
import { WebSocket } from "ws";
import { afterEach, describe, expect, inject, it } from "vitest";

import { Client, connect, ResponseError, ResponseType, type RpcRequest } from "../../src/compat.js";
import { ConnectionError, SwillError } from "../../src/index.js";
import { exchanges, loadVector } from "../fixtures/vectors.js";
import { bytes, startFakeServer } from "./fake-server.js";
import { rejectionOf } from "./helpers.js";

// The reference client's API, against the Go demo server and, for the
// exact bytes, against a server replaying the recorded vectors.

const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) {
    c.close();
  }
});

function compatClient(url = inject("demoUrl")): Client {
  const c = new Client({ url, WebSocket });
  clients.push(c);
  return c;
}

async function drain<Req, Res>(r: RpcRequest<Req, Res>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const m = await r.receive();
    if (m === undefined) {
      return out;
    }
    out.push(m.type === ResponseType.MESSAGE ? m.data : ResponseType[m.type]);
  }
}

describe("compat Client against the demo server", () => {
  it("connects at construction and calls", async () => {
    const client = compatClient();
    await client.connect();
    expect(client.connected).toBe(true);
    expect(await client.call<number>("add", [1, 2])).toBe(3);
    expect(await client.call("signup", { name: "Alice", email: "alice@example.com", age: 30 })).toEqual({
      id: "u1",
      name: "Alice",
    });
  });

  it("call throws ResponseError, which is also a SwillError", async () => {
    const client = compatClient();
    const err = await rejectionOf(client.call("fail", { code: 418, message: "I'm a teapot" }));
    expect(err).toBeInstanceOf(ResponseError);
    expect(err).toBeInstanceOf(SwillError);
    expect(err).toMatchObject({
      code: 418,
      message: "I'm a teapot",
      responseMessage: { code: 418, message: "I'm a teapot" },
    });
    const v = (await rejectionOf(
      client.call("signup", { name: "A", email: "a@example.com", age: 30 }),
    )) as ResponseError;
    expect(v.data).toEqual({ name: [{ description: "length less than 2" }] });
  });

  it("rpc on a server stream: items, then undefined; trailing metadata kept", async () => {
    const client = compatClient();
    const r = client.rpc<number, number>("countdown", 3);
    expect(await drain(r)).toEqual([3, 2, 1]);
    expect(r.ended).toBe(true);
    expect(r.trailingMetadata).toEqual({ total: 3 });
  });

  it("rpc on lead: the METADATA frame is a response of its own", async () => {
    const client = compatClient();
    const r = client.rpc<number, number>("lead", 2);
    expect(await drain(r)).toEqual(["METADATA", 0, 1]);
    expect(r.leadingMetadata).toEqual({ x: "y" });
  });

  it("rpc on a client stream: send, endStream, receive", async () => {
    const client = compatClient();
    const r = client.rpc<number, number>("sum", 1);
    r.send(2);
    r.send(3);
    r.endStream();
    const m = await r.receive();
    expect(m).toMatchObject({ type: ResponseType.MESSAGE, data: 6 });
    r.close();
    expect(() => r.send(4)).toThrow("Request has already ended");
  });

  it("rpc with sendMetadataFirst opens the stream with the metadata", async () => {
    const client = compatClient();
    const r = client.rpc<number, number>("sum", undefined, { sendMetadataFirst: true, metadata: { m: 1 } });
    for (const n of [4, 5, 6]) {
      r.send(n);
    }
    r.endStream();
    expect((await r.receive())?.data).toBe(15);
    r.close();
  });

  it("rpc on a bidi stream", async () => {
    const client = compatClient();
    const r = client.rpc<unknown, unknown>("echo_untyped", "hello");
    expect((await r.receive())?.data).toBe("hello");
    r.send({ k: [1, 2] });
    expect(r.hasData).toBe(false);
    expect((await r.receive())?.data).toEqual({ k: [1, 2] });
    r.endStream();
    expect(await r.receive()).toBeUndefined();
  });

  it("rpc metadata: leading and trailing metadata on the response", async () => {
    const client = compatClient();
    const r = client.rpc<unknown, null>("metadata", null, { metadata: { a: 1 } });
    expect(await r.receive()).toEqual({
      type: ResponseType.MESSAGE,
      data: { a: 1 },
      leadingMetadata: { hello: "world" },
      trailingMetadata: { bye: "world" },
    });
    r.close();
  });

  it("an ERROR is a response, then the request has ended", async () => {
    const client = compatClient();
    const r = client.rpc("boom", null);
    expect(await r.receive()).toEqual({
      type: ResponseType.ERROR,
      data: { code: 500, message: "An internal server error occurred" },
    });
    expect(r.ended).toBe(true);
    expect(await r.receive()).toBeUndefined();
  });

  it("cancel stops a call; the connection keeps working", async () => {
    const client = compatClient();
    const r = client.rpc("sleep", 10_000);
    const pending = r.receive();
    r.cancel();
    expect(await pending).toBeUndefined();
    expect(await client.call("add", [1, 1])).toBe(2);
  });

  it("the connect() helper and the state callbacks", async () => {
    const events: string[] = [];
    const client = await connect(inject("demoUrl"), {
      WebSocket,
      onConnected: () => events.push("connected"),
    });
    clients.push(client);
    expect(client.connected).toBe(true);
    expect(events).toEqual(["connected"]);
    expect(client.swillClient?.protocol).toBe("swill.v1");
    client.close();
    expect(client.connected).toBe(false);
    await client.connect();
    expect(client.connected).toBe(true);
    expect(await client.call("add", [1, 2])).toBe(3);
    expect(events).toEqual(["connected", "connected"]);
  });
});

type Driver = (c: Client) => Promise<void>;

const drivers: Record<string, Driver> = {
  add: async (c) => {
    expect(await c.call("add", [1, 2])).toBe(3);
  },
  metadata_none: async (c) => {
    expect(await c.call("metadata", null)).toEqual({});
  },
  metadata_client: async (c) => {
    expect(await c.call("metadata", null, { metadata: { a: 1 } })).toEqual({ a: 1 });
  },
  countdown_3: async (c) => {
    expect(await drain(c.rpc("countdown", 3))).toEqual([3, 2, 1]);
  },
  sum_stream: async (c) => {
    const r = c.rpc("sum", 1);
    r.send(2);
    r.send(3);
    r.endStream();
    expect((await r.receive())?.data).toBe(6);
    r.close();
  },
  sum_metadata_first: async (c) => {
    const r = c.rpc<number, number>("sum", undefined, { sendMetadataFirst: true, metadata: { m: 1 } });
    r.send(4);
    r.send(5);
    r.send(6);
    r.endStream();
    expect((await r.receive())?.data).toBe(15);
    r.close();
  },
  echo_untyped_bidi: async (c) => {
    const r = c.rpc<unknown, unknown>("echo_untyped", "hello");
    expect((await r.receive())?.data).toBe("hello");
    r.send({ k: [1, 2] });
    expect((await r.receive())?.data).toEqual({ k: [1, 2] });
    r.send(3);
    expect((await r.receive())?.data).toBe(3);
    r.endStream();
    expect(await r.receive()).toBeUndefined();
  },
  echo_untyped_burst: async (c) => {
    const r = c.rpc<string, string>("echo_untyped", undefined, { sendMetadataFirst: true, metadata: { trace: "t1" } });
    r.send("a");
    r.send("b");
    r.send("c");
    r.endStream();
    expect(await drain(r)).toEqual(["a", "b", "c"]);
  },
  fail_418: async (c) => {
    await expect(c.call("fail", { code: 418, message: "I'm a teapot" })).rejects.toBeInstanceOf(ResponseError);
  },
};

describe("compat frames equal the reference client's", () => {
  for (const [name, drive] of Object.entries(drivers)) {
    it(name, async () => {
      const script = exchanges(loadVector(name));
      const server = await startFakeServer((_hex, socket, i) => {
        for (const reply of script[i]?.replies ?? []) {
          socket.send(bytes(reply));
        }
      });
      const client = compatClient(server.url);
      await drive(client);
      expect(server.received).toEqual(script.map((x) => x.send));
    });
  }
});

describe("compat connection loss", () => {
  it("receive and call reject with ConnectionError instead of hanging", async () => {
    const server = await startFakeServer((hex, socket) => {
      const [seq] = decode(bytes(hex)) as [number];
      if (seq === 1) {
        socket.send(encode([seq, "first", 0, null, null]));
        return;
      }
      socket.terminate();
    });
    const disconnects: number[] = [];
    const client = new Client({
      url: server.url,
      WebSocket,
      reconnect: null,
      onDisconnected: (code) => disconnects.push(code),
    });
    clients.push(client);
    const r = client.rpc("echo_untyped", "x");
    expect((await r.receive())?.data).toBe("first");
    const second = client.call("add", [1, 2]);
    expect(await rejectionOf(second)).toBeInstanceOf(ConnectionError);
    expect(await rejectionOf(r.receive())).toBeInstanceOf(ConnectionError);
    expect(disconnects).toEqual([1006]);
  });

  it("rpc before any connect fails with ConnectionError", async () => {
    const client = new Client({ autoConnect: false, WebSocket });
    clients.push(client);
    expect(await rejectionOf(client.rpc("add", [1, 2]).receive())).toBeInstanceOf(ConnectionError);
    await expect(client.connect()).rejects.toThrow("Url must be specified");
  });
});
