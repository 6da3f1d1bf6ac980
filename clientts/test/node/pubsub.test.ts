import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import { ConnectionError, SwillError, type SubscriptionEvent, type SwillClient } from "../../src/index.js";
import { goBuild, startProcess, type ServerProcess } from "../process.js";
import { newClient, waitForState } from "./helpers.js";

// Publish/subscribe against the Go test server (clientts/testserver): a
// real pubsub hub, steered from a second client through its pstest.*
// calls (drop the subscribers of a channel, hold resubscriptions back
// while publishing, refuse the next ones with a code).

let server: ServerProcess | undefined;
let url = "";

beforeAll(async () => {
  const dir = await mkdtemp(join(inject("scratchDir"), "pubsub-"));
  const bin = join(dir, "testserver");
  await goBuild(inject("repoRoot"), "./clientts/testserver", bin);
  server = await startProcess(bin, ["-addr", "127.0.0.1:0", "-dir", dir]);
  url = server.url.replace(/^http/, "ws") + "ws";
});

afterAll(async () => {
  await server?.stop("SIGTERM");
});

const fast = { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } };

/** control is a second client that steers the server. */
function control(): SwillClient {
  return newClient(url) as unknown as SwillClient;
}

/** events reads n events of it. */
async function events<T>(it: AsyncIterator<SubscriptionEvent<T>>, n: number): Promise<SubscriptionEvent<T>[]> {
  const out: SubscriptionEvent<T>[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) {
      throw new Error(`the subscription ended after ${JSON.stringify(out)}`);
    }
    out.push(r.value);
  }
  return out;
}

function publications<T>(evs: SubscriptionEvent<T>[]): [T, number][] {
  return evs.map((e) => {
    if (e.kind !== "publication") {
      throw new Error(`not a publication: ${JSON.stringify(e)}`);
    }
    return [e.data, e.offset];
  });
}

describe("pubsub", () => {
  it("delivers publications, history from a position, presence, joins and leaves", async () => {
    const c = newClient(url);
    const sub = c.subscribe<{ text: string }>("feed.deliver");
    await sub.ready;
    expect(sub.position).toMatchObject({ offset: 0 });
    const p1 = await c.publish("feed.deliver", { text: "one" });
    expect(p1.offset).toBe(1);
    await c.publish("feed.deliver", { text: "two" });
    const it = sub[Symbol.asyncIterator]();
    expect(publications(await events(it, 2))).toEqual([
      [{ text: "one" }, 1],
      [{ text: "two" }, 2],
    ]);
    expect(sub.position).toEqual({ offset: 2, epoch: p1.epoch });

    // History on join: the latest publication, then a subscription from
    // its position, with a publication in between.
    const h = await c.history<{ text: string }>("feed.deliver", 1);
    expect(h.publications).toEqual([
      { kind: "publication", channel: "feed.deliver", data: { text: "two" }, offset: 2 },
    ]);
    await c.publish("feed.deliver", { text: "three" });
    const late = newClient(url).subscribe<{ text: string }>("feed.deliver", { since: h.position });
    expect(publications(await events(late[Symbol.asyncIterator](), 1))).toEqual([[{ text: "three" }, 3]]);

    // Refusals are coded.
    await expect(c.publish("readonly", 1)).rejects.toMatchObject({ code: 403 });

    // Presence, joins and leaves.
    const watcher = c.subscribe("room.a", { metadata: { user: "watcher" } });
    const w = watcher[Symbol.asyncIterator]();
    expect(await events(w, 1)).toMatchObject([{ kind: "join", channel: "room.a", client: { user: "watcher" } }]);
    const ac = new AbortController();
    const ann = newClient(url).subscribe("room.a", { metadata: { user: "ann" }, signal: ac.signal });
    await ann.ready;
    expect(await events(w, 1)).toMatchObject([{ kind: "join", client: { user: "ann" } }]);
    const who = await c.presence("room.a");
    expect(who.map((i) => i.user).sort()).toEqual(["ann", "watcher"]);
    const reason = new Error("done with it");
    ac.abort(reason);
    await expect(ann[Symbol.asyncIterator]().next()).rejects.toBe(reason);
    expect(await events(w, 1)).toMatchObject([{ kind: "leave", client: { user: "ann" } }]);
    expect(ann.done).toBe(true);
  });

  it("subscribes to a pattern", async () => {
    const c = newClient(url);
    const sub = c.subscribe<number>("news.[ab]*", { pattern: true });
    await sub.ready;
    for (const [ch, n] of [
      ["news.alpha", 1],
      ["news.cat", 2],
      ["news.beta", 3],
    ] as const) {
      await c.publish(ch, n);
    }
    const got: string[] = [];
    for await (const ev of sub) {
      if (ev.kind === "publication") {
        got.push(`${ev.channel}=${ev.data}`);
      }
      if (got.length === 2) {
        break; // unsubscribes
      }
    }
    expect(got).toEqual(["news.alpha=1", "news.beta=3"]);
    expect(sub.done).toBe(true);
  });

  it("recovers after a dropped connection, or says it cannot when the gap is larger than the history", async () => {
    const ctl = control();
    const c = newClient(url, fast);
    const sub = c.subscribe<number>("feed.recover");
    await sub.ready;
    const it = sub[Symbol.asyncIterator]();
    await ctl.publish("feed.recover", 1);
    expect(publications(await events(it, 1))).toEqual([[1, 1]]);

    // A gap the history (5) covers.
    await ctl.call("pstest.hold", { channel: "feed.recover" });
    const lost = waitForState(c, "disconnected");
    expect(await ctl.call("pstest.drop", { channel: "feed.recover" })).toBe(1);
    await lost;
    const pending = events(it, 3);
    await ctl.call("pstest.held", { channel: "feed.recover" }); // back, and resubscribing
    for (const n of [2, 3, 4]) {
      await ctl.publish("feed.recover", n);
    }
    await ctl.call("pstest.release", { channel: "feed.recover" });
    expect(publications(await pending)).toEqual([
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    await ctl.publish("feed.recover", 5);
    expect(publications(await events(it, 1))).toEqual([[5, 5]]);

    // A gap of 15, past the history.
    await ctl.call("pstest.hold", { channel: "feed.recover" });
    await ctl.call("pstest.drop", { channel: "feed.recover" });
    const next = events(it, 1);
    await ctl.call("pstest.held", { channel: "feed.recover" });
    for (let n = 6; n <= 20; n++) {
      await ctl.publish("feed.recover", n);
    }
    await ctl.call("pstest.release", { channel: "feed.recover" });
    expect(await next).toMatchObject([{ kind: "unrecovered", channel: "feed.recover", position: { offset: 20 } }]);
    await ctl.publish("feed.recover", 21);
    expect(publications(await events(it, 1))).toEqual([[21, 21]]);
    expect(sub.position?.offset).toBe(21);
    sub.unsubscribe();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("retries 503 and 429 (with the server's hint), keeping its position; a 403 is final", async () => {
    const ctl = control();
    await ctl.call("pstest.fail", { channel: "feed.retry", code: 503, count: 2 });
    const c = newClient(url, fast);
    const sub = c.subscribe<number>("feed.retry", { resubscribe: { initialDelayMs: 5, maxDelayMs: 10 } });
    await sub.ready; // after two refusals
    const it = sub[Symbol.asyncIterator]();
    await ctl.publish("feed.retry", 1);
    expect(publications(await events(it, 1))).toEqual([[1, 1]]);

    // Dropped, then refused once with 429 and a hint: the resubscription
    // that follows still recovers from offset 1.
    await ctl.call("pstest.fail", { channel: "feed.retry", code: 429, count: 1, retry_after_ms: 50 });
    await ctl.call("pstest.drop", { channel: "feed.retry" });
    await ctl.publish("feed.retry", 2);
    await ctl.publish("feed.retry", 3);
    expect(publications(await events(it, 2))).toEqual([
      [2, 2],
      [3, 3],
    ]);
    sub.unsubscribe();

    await ctl.call("pstest.fail", { channel: "feed.refused", code: 403, count: 1 });
    const refused = c.subscribe("feed.refused");
    await expect(refused.ready).rejects.toMatchObject({ code: 403, remote: true });
    await expect(refused[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(SwillError);
  });

  it("recovers when its own buffer overflows (a local 429)", async () => {
    const ctl = control();
    const c = newClient(url, { ...fast, maxBufferedItems: 2 });
    const sub = c.subscribe<number>("feed.overflow", { resubscribe: { initialDelayMs: 1, maxDelayMs: 5 } });
    await sub.ready;
    for (let n = 1; n <= 5; n++) {
      await ctl.publish("feed.overflow", n);
    }
    // Not read meanwhile: the buffer of 2 overflowed and the call was
    // cancelled; reading resubscribes from offset 0 and recovers all five.
    expect(publications(await events(sub[Symbol.asyncIterator](), 5))).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    sub.unsubscribe();
  });

  it("ends with a ConnectionError when the client does not reconnect, and when it is closed", async () => {
    const ctl = control();
    const c = newClient(url, { reconnect: false });
    const sub = c.subscribe("other.noreconnect");
    await sub.ready;
    await ctl.call("pstest.drop", { channel: "other.noreconnect" });
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ConnectionError);

    const c2 = newClient(url);
    const sub2 = c2.subscribe("other.closed");
    await sub2.ready;
    c2.close();
    await expect(sub2[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ConnectionError);
  });

  it("receives what the server subscribed the connection to through the inbox", async () => {
    const ctl = control();
    const c = newClient(url, fast);
    const inbox = c.inbox<string>();
    await inbox.ready;
    await (c as unknown as SwillClient).call("pstest.subscribe_me", { channel: "user.7" });
    await ctl.publish("user.7", "for you");
    const it = inbox[Symbol.asyncIterator]();
    expect(await events(it, 1)).toEqual([{ kind: "publication", channel: "user.7", data: "for you", offset: 0 }]);
    inbox.unsubscribe();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
