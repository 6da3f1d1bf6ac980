import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

import { WebSocket } from "ws";
import { afterEach, describe, expect, inject, it } from "vitest";

import { Code, ConnectionError, SwillClient, SwillError, type StateChange } from "../../src/index.js";
import { Client } from "../../src/compat.js";
import { startProcess, type ServerProcess } from "../process.js";
import { elapsed, newClient, rejectionOf, waitForState } from "./helpers.js";

// Reconnection against a demo server of the test's own, which is killed
// and restarted on the same port.

const procs: ServerProcess[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop("SIGKILL")));
});

async function startDemo(addr = "127.0.0.1:0"): Promise<ServerProcess> {
  const p = await startProcess(inject("demoBin"), ["-addr", addr]);
  procs.push(p);
  return p;
}

function hostPort(url: string): string {
  return new URL(url).host;
}

describe("reconnect", () => {
  it("a killed server fails open calls at once; the client comes back when it restarts", async () => {
    const first = await startDemo();
    const changes: StateChange[] = [];
    const client = newClient(first.url, {
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      onStateChange: (c) => changes.push(c),
    });
    expect(await client.call("add", [1, 2])).toBe(3);

    const sleeping = client.call("sleep", 30_000);
    const echo = client.openBidiStream("echo");
    echo.send("before");
    const it = echo[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: "before", done: false });

    const lost = waitForState(client, "disconnected");
    const { value: err, ms } = await elapsed(async () => {
      await first.stop("SIGKILL");
      return rejectionOf(sleeping);
    });
    expect(err).toBeInstanceOf(ConnectionError);
    expect(ms).toBeLessThan(3_000);
    await expect(it.next()).rejects.toBeInstanceOf(ConnectionError);
    const change = await lost;
    expect(change.previous).toBe("open");
    expect(change.error).toBeInstanceOf(ConnectionError);
    expect(change.retryInMs).toBeGreaterThanOrEqual(0);

    // Let a few attempts fail against the closed port, then restart.
    await new Promise((r) => setTimeout(r, 300));
    const failedAttempts = changes.filter((c) => c.state === "disconnected" && c.previous === "connecting").length;
    expect(failedAttempts).toBeGreaterThan(0);
    const reopened = waitForState(client, "open");
    await startDemo(hostPort(first.url));
    await reopened;
    expect(await client.call("add", [20, 22])).toBe(42);
    expect(client.state).toBe("open");

    // The attempts counted up, with waits no longer than maxDelayMs.
    const retries = changes.filter((c) => c.retryInMs !== undefined);
    expect(retries.map((c) => c.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    for (const c of retries) {
      expect(c.retryInMs).toBeLessThanOrEqual(100);
    }
    expect(changes.at(-1)).toMatchObject({ state: "open", attempt: 0 });
  });

  it("a stream cut off by a killed server throws a ConnectionError: it never ends as if complete", async () => {
    const server = await startDemo();
    const client = newClient(server.url, { reconnect: false, maxBufferedItems: 10_000_000 });
    // Server stream: a long countdown, killed after a few items.
    const items: number[] = [];
    let thrown: unknown;
    try {
      for await (const n of client.serverStream("countdown", 100_000_000)) {
        items.push(n);
        if (items.length === 3) {
          void server.stop("SIGKILL");
        }
      }
    } catch (err: unknown) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConnectionError);
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.length).toBeLessThan(100_000_000);
  });

  it("client and bidi streams cut off by a killed server fail with a ConnectionError", async () => {
    const server = await startDemo();
    const client = newClient(server.url, { reconnect: false });
    const sum = client.openClientStream("sum");
    sum.send(1);
    const echo = client.openBidiStream("echo");
    echo.send("a");
    const got: unknown[] = [];
    let answered!: () => void;
    const echoed = new Promise<void>((resolve) => (answered = resolve));
    const loopErr = rejectionOf(
      (async () => {
        for await (const v of echo) {
          got.push(v);
          answered();
        }
      })(),
    );
    // The echo answered, so it runs on the server; a unary call may be
    // answered inline, before a stream's handler has sent anything, so it
    // only shows that the connection is up.
    await echoed;
    expect(await client.call("add", [1, 2])).toBe(3);
    await server.stop("SIGKILL");
    expect(await rejectionOf(sum.response)).toBeInstanceOf(ConnectionError);
    expect(await loopErr).toBeInstanceOf(ConnectionError);
    expect(got).toEqual(["a"]);
    expect(sum.send(2)).toBe(false);
  });

  it("a graceful restart (SIGTERM) drains open calls, refuses new ones with 503, then the client reconnects", async () => {
    const first = await startDemo();
    const client = newClient(first.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    expect(await client.call("add", [1, 2])).toBe(3);
    // An echo that has answered once is surely running on the server.
    const echo = client.openBidiStream("echo");
    const answers = echo[Symbol.asyncIterator]();
    echo.send("running");
    expect(await answers.next()).toEqual({ value: "running", done: false });
    const lost = waitForState(client, "disconnected");
    const stopped = first.stop("SIGTERM");
    // The server drains: the echo goes on, new calls are refused (once
    // the signal has been handled).
    let refused: unknown;
    for (let i = 0; i < 250 && refused === undefined; i++) {
      try {
        await client.call("add", [1, 2]);
        await new Promise((r) => setTimeout(r, 20));
      } catch (err: unknown) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(SwillError);
    expect(refused).toMatchObject({ code: Code.Unavailable, remote: true });
    echo.send("still");
    expect(await answers.next()).toEqual({ value: "still", done: false });
    echo.end();
    expect(await answers.next()).toEqual({ value: undefined, done: true });
    // With no call left, the server closes the connection (1001, going away).
    const change = await lost;
    expect(change.error).toMatchObject({ closeCode: 1001 });
    await stopped;
    const reopened = waitForState(client, "open");
    await startDemo(hostPort(first.url));
    await reopened;
    expect(await client.clientStream("sum", [1, 2, 3])).toBe(6);
  });

  it("with reconnect off the client stays down until the next call, which dials again", async () => {
    const first = await startDemo();
    const client = newClient(first.url, { reconnect: false });
    expect(await client.call("add", [1, 2])).toBe(3);
    const lost = waitForState(client, "disconnected");
    await first.stop("SIGKILL");
    const change = await lost;
    expect(change.retryInMs).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(client.state).toBe("disconnected");

    // While the server is down, a call fails with the failed attempt's error.
    expect(await rejectionOf(client.call("add", [1, 2]))).toBeInstanceOf(ConnectionError);
    expect(client.state).toBe("disconnected");

    await startDemo(hostPort(first.url));
    expect(await client.call("add", [3, 4])).toBe(7);
  });

  it("gives up after maxAttempts, and connect() dials again", async () => {
    const first = await startDemo();
    const client = newClient(first.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } });
    await client.connect();
    const changes: StateChange[] = [];
    client.onStateChange((c) => changes.push(c));
    await first.stop("SIGKILL");
    // Loss (attempt 1, retry), retry fails (attempt 2, retry), fails (attempt 3: give up).
    await new Promise<void>((resolve) => {
      const off = client.onStateChange((c) => {
        if (c.state === "disconnected" && c.retryInMs === undefined) {
          off();
          resolve();
        }
      });
    });
    expect(
      changes.filter((c) => c.state === "disconnected").map((c) => [c.attempt, c.retryInMs !== undefined]),
    ).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    await startDemo(hostPort(first.url));
    await client.connect();
    expect(client.state).toBe("open");
    expect(await client.call("add", [1, 1])).toBe(2);
  });
});

describe("connecting", () => {
  let tcp: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) {
      s.destroy();
    }
    sockets.clear();
    await new Promise<void>((resolve) => (tcp === undefined ? resolve() : tcp.close(() => resolve())));
    tcp = undefined;
  });

  it("a handshake that never completes times out", async () => {
    // A TCP server that accepts and says nothing.
    tcp = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => tcp!.listen(0, "127.0.0.1", () => resolve()));
    const { port } = tcp.address() as AddressInfo;
    const client = newClient(`ws://127.0.0.1:${port}/ws`, { connectTimeoutMs: 200, reconnect: false });
    const { value: err, ms } = await elapsed(() => rejectionOf(client.connect()));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toContain("no WebSocket handshake");
    expect(ms).toBeLessThan(3_000);
    expect(client.state).toBe("disconnected");

    // The compatibility layer reports it as the reference does.
    const timeouts: string[] = [];
    const compat = new Client({
      url: `ws://127.0.0.1:${port}/ws`,
      WebSocket,
      connectTimeout: 200,
      reconnect: null,
      onTimeout: () => timeouts.push("timeout"),
    });
    await compat.connect();
    compat.close();
    expect(compat.connected).toBe(false);
    expect(timeouts).toEqual(["timeout"]);
  });

  it("connect() rejects for a refused connection; calls waiting for it fail too", async () => {
    tcp = createServer();
    await new Promise<void>((resolve) => tcp!.listen(0, "127.0.0.1", () => resolve()));
    const { port } = tcp.address() as AddressInfo;
    await new Promise<void>((resolve) => tcp!.close(() => resolve()));
    tcp = undefined;
    const client = newClient(`ws://127.0.0.1:${port}/ws`, { reconnect: false });
    const call = client.call("add", [1, 2]);
    const err = await rejectionOf(client.connect());
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ closeCode: 1006 });
    expect((err as Error).message).toContain("ECONNREFUSED");
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(await rejectionOf(call)).toBe(err);
  });

  it("a wrong path is refused by the server's handshake", async () => {
    const url = inject("demoUrl").replace(/\/ws$/, "/nope");
    const client = newClient(url, { reconnect: false });
    await expect(client.connect()).rejects.toBeInstanceOf(ConnectionError);
  });

  it("close while connecting fails waiting calls and stops there", async () => {
    const changes: string[] = [];
    const client = newClient(inject("demoUrl"), { onStateChange: (c) => changes.push(c.state) });
    const call = client.call("add", [1, 2]);
    client.close();
    expect(await rejectionOf(call)).toBeInstanceOf(ConnectionError);
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).toEqual(["connecting", "closed"]);
    expect(client.state).toBe("closed");
  });

  it("state changes: connecting, open, closed", async () => {
    const changes: string[] = [];
    const client = newClient(inject("demoUrl"), { onStateChange: (c) => changes.push(`${c.previous}>${c.state}`) });
    await client.connect();
    client.close();
    client.close();
    expect(changes).toEqual(["disconnected>connecting", "connecting>open", "open>closed"]);
  });

  it("a listener that throws does not disturb the client", async () => {
    const client = newClient(inject("demoUrl"));
    const seen: string[] = [];
    const off = client.onStateChange(() => {
      throw new Error("listener bug");
    });
    client.onStateChange((c) => seen.push(c.state));
    // The listener's error is rethrown asynchronously, as EventTarget
    // does; catch it here instead of letting the runner report it.
    const runner = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    try {
      const reported = new Promise<unknown>((resolve) => process.once("uncaughtException", resolve));
      await client.connect();
      expect(seen).toEqual(["open"]);
      expect(await reported).toMatchObject({ message: "listener bug" });
    } finally {
      process.removeAllListeners("uncaughtException");
      for (const l of runner) {
        process.on("uncaughtException", l);
      }
    }
    off();
    expect(await client.call("add", [1, 1])).toBe(2);
  });

  it("the connect() helper resolves to an open client", async () => {
    const { connect } = await import("../../src/index.js");
    const client = await connect(inject("demoUrl"), { WebSocket });
    try {
      expect(client.state).toBe("open");
      expect(await client.call("add", [1, 2])).toBe(3);
    } finally {
      client.close();
    }
  });

  it("without a WebSocket option the global one is used, or a clear TypeError is thrown", async () => {
    const global = (globalThis as { WebSocket?: unknown }).WebSocket;
    if (global === undefined) {
      expect(() => new SwillClient(inject("demoUrl"))).toThrow(/no global WebSocket/);
    } else {
      const client = new SwillClient(inject("demoUrl"));
      try {
        expect(await client.call("add", [1, 2])).toBe(3);
      } finally {
        client.close();
      }
    }
  });

  it("invalid options throw RangeError", () => {
    expect(() => new SwillClient("ws://127.0.0.1:1/ws", { WebSocket, connectTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new SwillClient("ws://127.0.0.1:1/ws", { WebSocket, maxBufferedItems: -1 })).toThrow(RangeError);
    expect(() => new SwillClient("ws://127.0.0.1:1/ws", { WebSocket, reconnect: { jitter: 3 } })).toThrow(RangeError);
  });

  it("an invalid URL fails calls with a ConnectionError carrying the cause", async () => {
    const client = newClient("not a url", { reconnect: false });
    const err = await rejectionOf(client.call("add", [1, 2]));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).cause).toBeInstanceOf(Error);
  });
});
