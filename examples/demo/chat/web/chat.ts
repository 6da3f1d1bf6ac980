// The demo's chat page: one pub/sub channel per room ("room.<name>").
// Joining reads the room's history, shows it, and subscribes from the
// position after it, so that nothing is missed or shown twice; joins and
// leaves keep the presence list current. Messages go out through the
// chat.send call, which stamps them with the user and the time.

import { SwillClient, type Metadata } from "../../../../clientts/src/index.js";

interface Message {
  user: string;
  text: string;
  time: Date;
}

interface ClientInfo {
  client: string;
  user?: string;
}

interface Position {
  offset: number;
  epoch: string;
}

/** One item of a subscription stream. */
interface Item {
  channel: string;
  data?: Message;
  offset?: number;
  join?: ClientInfo;
  leave?: ClientInfo;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`no #${id}`);
  return el as T;
}

const url = new URL("../ws", location.href);
url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
const client = new SwillClient(url.toString());
const state = byId("state");
client.onStateChange(({ state: s }) => {
  state.textContent = s;
  state.className = `state ${s}`;
});

const messages = byId<HTMLOListElement>("messages");
const people = byId<HTMLUListElement>("people");
const notice = byId("notice");
const present = new Map<string, string>(); // client id → user

let user = "";
let room = "";
let leaveRoom: AbortController | undefined;

function show(m: Message): void {
  const li = document.createElement("li");
  const who = document.createElement("span");
  who.className = "user";
  who.textContent = m.user;
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = new Date(m.time).toLocaleTimeString();
  li.append(who, document.createTextNode(m.text), time);
  messages.append(li);
  messages.scrollTop = messages.scrollHeight;
}

function event(text: string): void {
  const li = document.createElement("li");
  li.className = "event";
  li.textContent = text;
  messages.append(li);
}

function renderPeople(): void {
  const names = [...present.values()].sort();
  people.replaceChildren(
    ...names.map((n) => {
      const li = document.createElement("li");
      li.textContent = n;
      return li;
    }),
  );
}

async function join(): Promise<void> {
  leaveRoom?.abort();
  const abort = new AbortController();
  leaveRoom = abort;
  messages.replaceChildren();
  present.clear();
  renderPeople();
  notice.textContent = "";
  const channel = `room.${room}`;
  const metadata: Metadata = { user };
  byId("room-title").textContent = `#${room}`;
  byId("chat").hidden = false;

  // The history, then the subscription from the position after it.
  const history = (await client.call(
    "swill.history" as never,
    { channel, limit: 50 } as never,
    { metadata, signal: abort.signal },
  )) as { publications: Item[]; position: Position };
  for (const it of history.publications) if (it.data !== undefined) show(it.data);
  let since = history.position;

  for (;;) {
    try {
      const stream = client.serverStream(
        "swill.subscribe" as never,
        { channel, since } as never,
        {
          metadata,
          signal: abort.signal,
          onHeader: (h) => {
            if (h["swill-recovered"] === false) event("(some messages were missed)");
            // Who was here before us; joins and leaves keep it current.
            void refreshPresence(channel, metadata, abort.signal);
          },
        },
      );
      for await (const raw of stream) {
        const it = raw as Item;
        if (it.data !== undefined) {
          show(it.data);
          if (it.offset !== undefined) since = { offset: it.offset, epoch: since.epoch };
        } else if (it.join !== undefined) {
          present.set(it.join.client, it.join.user ?? "?");
          renderPeople();
          if (it.join.user !== user) event(`${it.join.user ?? "someone"} joined`);
        } else if (it.leave !== undefined) {
          present.delete(it.leave.client);
          renderPeople();
          event(`${it.leave.user ?? "someone"} left`);
        }
      }
      return; // replaced or unsubscribed
    } catch (err) {
      if (abort.signal.aborted) return;
      notice.textContent = `subscription ended: ${String(err)}; reconnecting`;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function refreshPresence(channel: string, metadata: Metadata, signal: AbortSignal): Promise<void> {
  try {
    const infos = (await client.call("swill.presence" as never, { channel } as never, { metadata, signal })) as ClientInfo[];
    for (const ci of infos) present.set(ci.client, ci.user ?? "?");
    renderPeople();
  } catch (err) {
    if (!signal.aborted) notice.textContent = `presence: ${String(err)}`;
  }
}

byId<HTMLFormElement>("join").addEventListener("submit", (e) => {
  e.preventDefault();
  user = byId<HTMLInputElement>("name").value.trim();
  room = byId<HTMLInputElement>("room").value.trim();
  join().catch((err: unknown) => {
    notice.textContent = String(err);
  });
});

byId<HTMLFormElement>("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>("text");
  const text = input.value;
  input.value = "";
  client.call("chat.send" as never, { room, text } as never, { metadata: { user } }).catch((err: unknown) => {
    notice.textContent = `not sent: ${String(err)}`;
  });
});
