import { WebSocket } from "ws";
import { afterEach, inject } from "vitest";

import {
  SwillClient,
  type BidiStreaming,
  type ClientOptions,
  type ClientStreaming,
  type Metadata,
  type ServerStreaming,
  type StateChange,
  type Unary,
} from "../../src/index.js";

/** The demo service's methods, as a schema. */
export interface Demo {
  add: Unary<[number, number], number>;
  countdown: ServerStreaming<number, number>;
  sum: ClientStreaming<number, number>;
  fail: Unary<{ code: number; message: string }, null>;
  sleep: Unary<number, number>;
  boom: Unary<unknown, never>;
  lead: ServerStreaming<number, number>;
  echo: BidiStreaming<unknown, unknown>;
  metadata: Unary<unknown, Metadata>;
  echo_untyped: BidiStreaming<unknown, unknown>;
  signup: Unary<{ name: string; email: string; age: number }, { id: string; name: string }>;
}

const clients: SwillClient<never>[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) {
    c.close();
  }
});

/** newClient returns a client of url using the ws package, closed after the test. */
export function newClient(url: string, options: ClientOptions = {}): SwillClient<Demo> {
  const c = new SwillClient<Demo>(url, { WebSocket, ...options });
  clients.push(c as unknown as SwillClient<never>);
  return c;
}

/** demoClient returns a client of the shared demo server, closed after the test. */
export function demoClient(options: ClientOptions = {}): SwillClient<Demo> {
  return newClient(inject("demoUrl"), options);
}

/** waitForState resolves with the first change to state seen by client. */
export function waitForState(
  client: { onStateChange(l: (c: StateChange) => void): () => void; readonly state: string },
  state: StateChange["state"],
  timeoutMs = 10_000,
): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`state ${state} not reached within ${timeoutMs} ms (now ${client.state})`));
    }, timeoutMs);
    const off = client.onStateChange((c) => {
      if (c.state === state) {
        clearTimeout(timer);
        off();
        resolve(c);
      }
    });
  });
}

/** elapsed runs fn and returns its result with the milliseconds it took. */
export async function elapsed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/** rejectionOf returns the reason p rejects with, and throws if p resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  let v: unknown;
  try {
    v = await p;
  } catch (err: unknown) {
    return err;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
}

/** iterationError iterates s to its end and returns what it threw, throwing if it ended cleanly. */
export async function iterationError(s: AsyncIterable<unknown>): Promise<{ items: unknown[]; err: unknown }> {
  const items: unknown[] = [];
  try {
    for await (const v of s) {
      items.push(v);
    }
  } catch (err: unknown) {
    return { items, err };
  }
  throw new Error(`expected the iteration to throw; it ended after ${JSON.stringify(items)}`);
}
