// Subscribes and publishes through the TypeScript client "swill gen ts"
// wrote for a service with channels, and prints what came back. The
// expected type errors below check that the generated functions carry the
// channels' message types: tsc fails if they do not.
import { WebSocket } from "ws";

import * as chat from "./chat.js";

const url = process.argv[2];
if (url === undefined) {
  throw new Error("usage: node chat_driver.mjs URL");
}
const client = chat.createClient(url, { WebSocket, reconnect: false });
try {
  const ac = new AbortController();
  const sub = chat.subscribeChat(client, "chat.ts", { signal: ac.signal });
  await sub.ready;
  const pos = await chat.publishChat(client, "chat.ts", {
    user: "ts",
    text: "typed",
    at: new Date("2026-01-02T03:04:05Z"),
  });
  console.log("published:", pos.offset);
  for await (const ev of sub) {
    if (ev.kind === "publication") {
      const m: chat.ChatMessage = ev.data;
      console.log("received:", ev.channel, ev.offset, m.user, m.text, m.at.toISOString());
      break;
    }
  }
} finally {
  client.close();
}

// Never called: the types the generated functions take.
export function typeChecks(): void {
  // @ts-expect-error the message must be a ChatMessage
  void chat.publishChat(client, "chat.ts", { user: 1 });
  // @ts-expect-error a glob's function takes the channel's name
  void chat.subscribeChat(client, { signal: undefined });
  const m: string = chat.subscribeChat(client, "chat.x") as unknown as string;
  void m;
}
