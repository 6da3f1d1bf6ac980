import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, inject, it } from "vitest";

import { Code, ConnectionError, SwillError } from "../../src/index.js";
import { startProcess, type ServerProcess } from "../process.js";
import { newClient, waitForState } from "./helpers.js";

// A rolling restart as a load balancer does it: the client's URL leads
// to a TCP proxy that sends new connections to the server it is told to.

const procs: ServerProcess[] = [];
let proxy: Server | undefined;
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) {
    s.destroy();
  }
  sockets.clear();
  await new Promise<void>((resolve) => (proxy === undefined ? resolve() : proxy.close(() => resolve())));
  proxy = undefined;
  await Promise.all(procs.splice(0).map((p) => p.stop("SIGKILL")));
});

async function startDemo(graceMs: number): Promise<ServerProcess> {
  const p = await startProcess(inject("demoBin"), ["-addr", "127.0.0.1:0", "-grace", `${graceMs}ms`]);
  procs.push(p);
  return p;
}

/** startProxy forwards each new connection to the host:port target() returns at that moment. */
async function startProxy(target: () => string): Promise<{ url: string; served: Map<string, number> }> {
  const served = new Map<string, number>();
  proxy = createServer((client) => {
    const [host, port] = target().split(":");
    served.set(`${host}:${port}`, (served.get(`${host}:${port}`) ?? 0) + 1);
    const upstream = createConnection({ host: host!, port: Number(port) });
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy!.listen(0, "127.0.0.1", () => resolve()));
  const { port } = proxy.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/ws`, served };
}

describe("shutdown under load", () => {
  it("calls in flight end with their result or a 503 with a retry hint; the client reconnects to the other server", async () => {
    const grace = 1_000;
    const a = await startDemo(grace);
    const b = await startDemo(grace);
    const hostOf = (p: ServerProcess) => new URL(p.url).host;
    let target = hostOf(a);
    const { url, served } = await startProxy(() => target);

    const client = newClient(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    expect(await client.call("add", [1, 2])).toBe(3);

    // 100 calls in flight: half end well within the grace period, half
    // would run for a minute.
    const calls = Array.from({ length: 100 }, (_, i) =>
      client.call("sleep", i % 2 === 0 ? 300 : 60_000).then(
        (v) => ({ ok: true as const, v }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    );
    // The server reads a connection's frames in order: once an echo
    // opened after them answers, every sleep has started.
    const echo = client.openBidiStream("echo");
    const answers = echo[Symbol.asyncIterator]();
    echo.send("running");
    expect(await answers.next()).toEqual({ value: "running", done: false });

    target = hostOf(b);
    const lost = waitForState(client, "disconnected");
    const t0 = performance.now();
    const stopped = a.stop("SIGTERM");
    const results = await Promise.all(calls);
    const ms = performance.now() - t0;

    results.forEach((r, i) => {
      if (i % 2 === 0) {
        expect(r, `call ${i}`).toEqual({ ok: true, v: 300 });
        return;
      }
      expect(r.ok, `call ${i}`).toBe(false);
      const err = (r as { err: unknown }).err;
      expect(err).toBeInstanceOf(SwillError);
      expect(err).toMatchObject({ code: Code.Unavailable, message: "server shutting down", remote: true });
      expect((err as SwillError).retryAfterMs()).toBeGreaterThan(0);
    });
    const streamErr = await answers.next().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(streamErr).toMatchObject({ code: Code.Unavailable, remote: true });
    // They end at the deadline, not a minute later.
    expect(ms).toBeLessThan(grace + 3_000);

    const change = await lost;
    expect(change.error).toBeInstanceOf(ConnectionError);
    expect(change.error).toMatchObject({ closeCode: 1001 });
    await stopped;

    await waitForState(client, "open");
    expect(await client.call("add", [20, 22])).toBe(42);
    expect(served.get(hostOf(b))).toBeGreaterThanOrEqual(1);
  });
});
