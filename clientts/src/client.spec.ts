import { decode, encode } from "@msgpack/msgpack";
import { afterEach, describe, expect, it, vi } from "vitest";

import { SUBPROTOCOL, SwillClient, type StateChange } from "./client.js";
import { Code, ConnectionError, SwillError } from "./errors.js";
import type { WebSocketLike } from "./websocket.js";

type Listener = (event: never) => void;

/**
 * FakeWebSocket is an in-memory WebSocket the tests drive by hand: they
 * open it, hand it the server's frames and close it, and read what the
 * client sent.
 */
class FakeWebSocket implements WebSocketLike {
  static made: FakeWebSocket[] = [];
  readyState = 0;
  protocol = "";
  binaryType = "blob";
  readonly sent: unknown[][] = [];
  closedWith: [number | undefined, string | undefined] | undefined;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeWebSocket.made.push(this);
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: Uint8Array): void {
    this.sent.push(decode(data) as unknown[]);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }

  #emit(type: string, event: unknown): void {
    for (const l of this.#listeners.get(type) ?? []) {
      (l as (e: unknown) => void)(event);
    }
  }

  /** The server accepted the handshake with protocol. */
  open(protocol = SUBPROTOCOL): void {
    this.protocol = protocol;
    this.readyState = 1;
    this.#emit("open", {});
  }

  /** The server sent the response frame f. */
  frame(f: unknown[]): void {
    const b = encode(f);
    this.#emit("message", { data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
  }

  /** The server sent raw bytes. */
  raw(b: Uint8Array): void {
    this.#emit("message", { data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
  }

  /** The connection ended with code. */
  end(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.#emit("close", { code, reason, wasClean: code === 1000 });
  }
}

function last(): FakeWebSocket {
  const ws = FakeWebSocket.made.at(-1);
  if (ws === undefined) {
    throw new Error("no WebSocket was made");
  }
  return ws;
}

function client(options: ConstructorParameters<typeof SwillClient>[1] = {}): SwillClient {
  return new SwillClient("ws://test/ws", { WebSocket: FakeWebSocket, reconnect: false, ...options });
}

afterEach(() => {
  FakeWebSocket.made = [];
  vi.useRealTimers();
});

describe("SwillClient", () => {
  it("connects at once, offers swill.v1 and reports every state", async () => {
    const changes: StateChange[] = [];
    const c = client({ onStateChange: (ch) => changes.push(ch) });
    const ws = last();
    expect(ws.url).toBe("ws://test/ws");
    expect(ws.protocols).toEqual(["swill.v1"]);
    expect(ws.binaryType).toBe("arraybuffer");
    expect(c.state).toBe("connecting");
    expect(c.protocol).toBe("");
    const connected = c.connect();
    ws.open();
    await connected;
    expect(c.state).toBe("open");
    expect(c.protocol).toBe("swill.v1");
    c.close();
    expect(c.state).toBe("closed");
    expect(ws.closedWith).toEqual([1000, "client closed"]);
    expect(changes.map((ch) => `${ch.previous}>${ch.state}`)).toEqual([
      "disconnected>connecting",
      "connecting>open",
      "open>closed",
    ]);
  });

  it("sends a unary call in the reference's compact form and resolves with the result", async () => {
    const c = client();
    const ws = last();
    const sum = c.call("add", [1, 2]);
    expect(ws.sent, "nothing goes out before the connection opens").toEqual([]);
    ws.open();
    expect(ws.sent).toEqual([[1, [1, 2], "add"]]);
    ws.frame([1, 3, 0, null, null]);
    await expect(sum).resolves.toBe(3);
    c.close();
  });

  it("gives each call its own seq and routes the answers by it", async () => {
    const c = client();
    const ws = last();
    ws.open();
    const a = c.call("echo", "a");
    const b = c.call("echo", "b");
    const [[seqA], [seqB]] = ws.sent as [[number], [number]];
    expect(seqA).not.toBe(seqB);
    ws.frame([seqB, "B", 0, null, null]);
    ws.frame([seqA, "A", 0, null, null]);
    await expect(a).resolves.toBe("A");
    await expect(b).resolves.toBe("B");
    c.close();
  });

  it("rejects with the server's error, its code and data", async () => {
    const c = client();
    const ws = last();
    ws.open();
    const p = c.call("signup", { age: 5 });
    ws.frame([
      1,
      { code: 422, message: "Validation Error", data: { age: [{ description: "less than 13" }] } },
      3,
      null,
      null,
    ]);
    const err: unknown = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwillError);
    const e = err as SwillError;
    expect(e.code).toBe(Code.Validation);
    expect(e.message).toBe("Validation Error");
    expect(e.data).toEqual({ age: [{ description: "less than 13" }] });
    c.close();
  });

  it("fails the open calls with a ConnectionError when the connection is lost", async () => {
    const c = client();
    const ws = last();
    ws.open();
    const p = c.call("sleep", 1000);
    ws.end(1006);
    const err: unknown = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).closeCode).toBe(1006);
    expect(c.state).toBe("disconnected");
  });

  it("fails open and later calls once closed", async () => {
    const c = client();
    const ws = last();
    ws.open();
    const open = c.call("sleep", 1000);
    c.close();
    await expect(open).rejects.toBeInstanceOf(ConnectionError);
    await expect(c.call("add", [1, 2])).rejects.toBeInstanceOf(ConnectionError);
    await expect(c.connect()).rejects.toBeInstanceOf(ConnectionError);
    c.close(); // a no-op
    expect(ws.sent, "no CANCEL after close: the socket is gone").toEqual([[1, 1000, "sleep"]]);
  });

  it("closes with 4009 on a frame larger than maxMessageBytes", async () => {
    const c = client({ maxMessageBytes: 16 });
    const ws = last();
    ws.open();
    const p = c.call("big", null);
    ws.raw(encode([1, "x".repeat(32), 0, null, null]));
    const err: unknown = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).closeCode).toBe(4009);
    expect(ws.closedWith?.[0]).toBe(4009);
  });

  it("ignores answers to seqs it does not know and text frames", async () => {
    const c = client();
    const ws = last();
    ws.open();
    const p = c.call("add", [1, 2]);
    ws.frame([99, "stray", 0, null, null]);
    ws.raw(new TextEncoder().encode("not msgpack at all, but seq unknown"));
    ws.frame([1, 3, 0, null, null]);
    await expect(p).resolves.toBe(3);
    expect(c.state).toBe("open");
    c.close();
  });

  it("dials again on demand after a failed attempt when reconnection is off", async () => {
    const c = client();
    const first = last();
    first.end(1006);
    expect(c.state).toBe("disconnected");
    const p = c.call("add", [1, 2]);
    const second = last();
    expect(second).not.toBe(first);
    second.open();
    second.frame([1, 3, 0, null, null]);
    await expect(p).resolves.toBe(3);
    c.close();
  });

  it("retries with backoff when reconnection is on", async () => {
    vi.useFakeTimers();
    const changes: StateChange[] = [];
    const c = new SwillClient("ws://test/ws", {
      WebSocket: FakeWebSocket,
      reconnect: { initialDelayMs: 100, maxDelayMs: 100, jitter: 0 },
      onStateChange: (ch) => changes.push(ch),
    });
    last().end(1006);
    const lost = changes.at(-1);
    expect(lost?.state).toBe("disconnected");
    expect(lost?.retryInMs).toBe(100);
    expect(FakeWebSocket.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeWebSocket.made).toHaveLength(2);
    last().open();
    expect(c.state).toBe("open");
    c.close();
  });

  it("throws a TypeError without a WebSocket and a RangeError for a bad option", () => {
    const g = globalThis as { WebSocket?: unknown };
    const saved = g.WebSocket;
    try {
      delete g.WebSocket;
      expect(() => new SwillClient("ws://test/ws")).toThrow(TypeError);
    } finally {
      if (saved !== undefined) {
        g.WebSocket = saved;
      }
    }
    expect(() => client({ maxMessageBytes: -1 })).toThrow(RangeError);
  });
});
