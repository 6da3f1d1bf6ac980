// Calls the demo service through the generated TypeScript client and
// prints what it got, one line per call. The expected type errors below
// check that the generated types reject wrong requests: tsc fails if
// they do not.
import { WebSocket } from "ws";

import { SwillError, type Metadata } from "./client/index.js";
import * as demo from "./demo.js";
import type * as rich from "./rich.js";

const url = process.argv[2];
if (url === undefined) {
  throw new Error("usage: node driver.mjs URL");
}
const client = demo.createClient(url, { WebSocket, reconnect: false });
try {
  const sum: number = await demo.add(client, [20, 22]);
  console.log("add:", sum);

  const items: number[] = [];
  let trailer: Metadata | undefined;
  for await (const n of demo.countdown(client, 3, { onTrailer: (t) => (trailer = t) })) {
    items.push(n);
  }
  console.log("countdown:", JSON.stringify(items), JSON.stringify(trailer));

  console.log("sum:", await demo.sum(client, [1, 2, 3, 4]));

  const echoed: unknown[] = [];
  for await (const v of demo.echo(client, ["hello", 7, { a: [1.5, null] }])) {
    echoed.push(v);
  }
  console.log("echo:", JSON.stringify(echoed));

  try {
    await demo.fail(client, { code: 418, message: "I'm a teapot" });
    console.log("fail: no error");
  } catch (err: unknown) {
    if (!(err instanceof SwillError)) {
      throw err;
    }
    console.log("fail:", err.code, err.message);
  }

  const user: demo.SignupResponse = await demo.signup(client, { name: "Ada", email: "ada@example.com", age: 36 });
  console.log("signup:", user.id, user.name);

  const md = await demo.metadata(client, null, { metadata: { who: "generated" } });
  console.log("metadata:", md?.["who"]);

  // Wrong requests do not type-check.
  const never = (): void => {
    // @ts-expect-error add takes two numbers
    void demo.add(client, ["x", 1]);
    // @ts-expect-error signup's request has no field "nick"
    void demo.signup(client, { name: "Ada", email: "ada@example.com", age: 36, nick: "a" });
    // @ts-expect-error countdown streams numbers
    void ((s: AsyncIterable<string>) => s)(demo.countdown(client, 1));
    // @ts-expect-error the client is typed: no call named "nope"
    void client.call("nope", null);
  };
  void never;
} finally {
  client.close();
}

// The shapes of the rich test service's types.
export const node: rich.Node = {
  name: "n",
  children: [],
  parent: null,
  data: new Uint8Array([1, 2]),
  at: new Date(0),
  by_id: { 1: "one" },
  tags: { t: ["a"] },
  opt: null,
  pair: [1.5, 2],
  any: { anything: true },
  inline: { x: 1 },
  color: "green",
  user_id: 7,
};
// @ts-expect-error color is one of "red" and "green"
export const badColor: rich.Node["color"] = "blue";
// @ts-expect-error pair is a tuple of two numbers
export const badPair: rich.Node["pair"] = [1, 2, 3];
