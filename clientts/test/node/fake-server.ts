import type { AddressInfo } from "node:net";

import { WebSocketServer, type WebSocket } from "ws";
import { afterEach } from "vitest";

/** A WebSocket server that scripts its answers frame by frame. */
export interface FakeServer {
  /** ws:// URL of the server. */
  readonly url: string;
  /** Every binary frame received, as hex, in order, across connections. */
  readonly received: string[];
  /** The subprotocols the last client offered. */
  readonly offered: string[];
  /** The open server-side sockets. */
  readonly sockets: Set<WebSocket>;
  /** Resolves with the next frame received (as hex). */
  nextFrame(): Promise<string>;
  close(): Promise<void>;
}

/** Called for each frame received; reply with socket.send. */
export type OnFrame = (hex: string, socket: WebSocket, index: number) => void;

const servers: FakeServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/**
 * startFakeServer listens on a loopback port, accepts the swill.v1
 * subprotocol and calls onFrame with every binary frame. It is closed
 * after the test.
 */
export async function startFakeServer(onFrame: OnFrame = () => {}): Promise<FakeServer> {
  const offered: string[] = [];
  const received: string[] = [];
  const sockets = new Set<WebSocket>();
  let waiters: ((hex: string) => void)[] = [];
  let backlog: string[] = [];
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (protocols) => {
      offered.splice(0, offered.length, ...protocols);
      return protocols.has("swill.v1") ? "swill.v1" : false;
    },
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("message", (data, isBinary) => {
      if (!isBinary) {
        return;
      }
      const hex = Buffer.from(data as Buffer).toString("hex");
      const index = received.push(hex) - 1;
      const w = waiters.shift();
      if (w === undefined) {
        backlog.push(hex);
      } else {
        w(hex);
      }
      onFrame(hex, socket, index);
    });
  });
  const { port } = wss.address() as AddressInfo;
  const server: FakeServer = {
    url: `ws://127.0.0.1:${port}/ws`,
    received,
    offered,
    sockets,
    nextFrame() {
      const hex = backlog.shift();
      return hex === undefined ? new Promise((resolve) => waiters.push(resolve)) : Promise.resolve(hex);
    },
    close() {
      waiters = [];
      backlog = [];
      for (const s of sockets) {
        s.terminate();
      }
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
  servers.push(server);
  return server;
}

/** hex turns hex digits (spaces allowed) into a Buffer to send. */
export function bytes(hexDigits: string): Buffer {
  return Buffer.from(hexDigits.replace(/\s+/g, ""), "hex");
}
