// The demo's chat page: one pub/sub channel per room ("room.<name>").
// Joining reads the room's history, shows it, and subscribes from the
// position after it, so that nothing is missed or shown twice; joins and
// leaves keep the presence list current. Messages go out through the
// chat.send call, which stamps them with the user and the time.

import { SwillClient, type ClientInfo, type Metadata } from "../../../../clientts/src/index.js";

interface Message {
  user: string;
  text: string;
  time: Date;
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

  // The history, then the subscription from the position after it: it
  // recovers by itself what it misses while the connection is down.
  const history = await client.history<Message>(channel, 50, { metadata, signal: abort.signal });
  for (const p of history.publications) show(p.data);
  const sub = client.subscribe<Message>(channel, { since: history.position, metadata, signal: abort.signal });
  // Who was here before us; joins and leaves keep it current.
  sub.ready.then(() => refreshPresence(channel, metadata, abort.signal)).catch(() => {});
  try {
    for await (const ev of sub) {
      switch (ev.kind) {
        case "publication":
          show(ev.data);
          break;
        case "join":
          present.set(ev.client.client, ev.client.user ?? "?");
          renderPeople();
          if (ev.client.user !== user) event(`${ev.client.user ?? "someone"} joined`);
          break;
        case "leave":
          present.delete(ev.client.client);
          renderPeople();
          event(`${ev.client.user ?? "someone"} left`);
          break;
        case "unrecovered":
          event("(some messages were missed)");
          break;
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) notice.textContent = `subscription ended: ${String(err)}`;
  }
}

async function refreshPresence(channel: string, metadata: Metadata, signal: AbortSignal): Promise<void> {
  try {
    const infos: ClientInfo[] = await client.presence(channel, { metadata, signal });
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
