import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

import { WebSocket } from "ws";
import { afterEach, describe, expect, inject, it } from "vitest";

import { ConnectionError, SwillClient } from "../../src/index.js";
import { startProcess, type ServerProcess } from "../process.js";
import type { Demo } from "./helpers.js";

// The client over wss:// against the demo served with TLS, as a browser
// or a Node service reaches a server in production.

const procs: ServerProcess[] = [];
const clients: SwillClient<Demo>[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) {
    c.close();
  }
  await Promise.all(procs.splice(0).map((p) => p.stop("SIGKILL")));
});

/** selfSigned writes a certificate for 127.0.0.1 with Go's generator and returns its files. */
async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(inject("scratchDir"), "tls-"));
  const { stdout } = await promisify(execFile)("go", ["env", "GOROOT"]);
  const generator = join(stdout.trim(), "src", "crypto", "tls", "generate_cert.go");
  await promisify(execFile)("go", ["run", generator, "--host", "127.0.0.1"], { cwd: dir });
  return { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}

describe("TLS", () => {
  it("calls go over wss:// to a server with a certificate the client trusts, and fail without it", async () => {
    const { cert, key } = await selfSigned();
    const demo = await startProcess(inject("demoBin"), ["-addr", "127.0.0.1:0", "-tls-cert", cert, "-tls-key", key]);
    procs.push(demo);
    expect(demo.url).toMatch(/^wss:\/\//);

    // In Node, ws takes the CA to trust; browsers use their own store.
    const ca = await readFile(cert);
    class TrustingWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { ca });
      }
    }
    const client = new SwillClient<Demo>(demo.url, { WebSocket: TrustingWebSocket, reconnect: false });
    clients.push(client);
    expect(await client.call("add", [1, 2])).toBe(3);
    expect(await client.clientStream("sum", [1, 2, 3])).toBe(6);

    const untrusting = new SwillClient<Demo>(demo.url, { WebSocket, reconnect: false });
    clients.push(untrusting);
    await expect(untrusting.connect()).rejects.toBeInstanceOf(ConnectionError);
  });
});
