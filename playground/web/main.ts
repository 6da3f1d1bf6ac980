// The docs and playground page of a swill service: it lists the calls
// of the service's description (swill.describe) and lets the user make
// them with the TypeScript client.

import { SwillClient, type ConnectionState } from "../../clientts/src/index.js";
import { h } from "./dom.js";
import { ChannelPanel } from "./channel.js";
import { KIND_LABELS, Panel, type Host } from "./panel.js";
import { typeString, type Document, type Schema } from "./schema.js";

/** The start of the URL fragment that names a channel's panel: #channel:chat.* */
const CHANNEL_HASH = "channel:";

/** The page: one client, the description, a panel per call (made when first shown). */
class App implements Host {
  client: SwillClient;
  defs: Record<string, Schema> = {};
  readonly #panels = new Map<string, Panel>();
  readonly #channelPanels = new Map<string, ChannelPanel>();
  readonly #main = byId("main");
  readonly #nav = byId("methods");
  readonly #channelNav = byId("channels");
  readonly #state = byId("conn-state");
  readonly #endpoint = byId("endpoint") as HTMLInputElement;
  #doc: Document | undefined;

  constructor() {
    this.client = this.#connect(endpointURL());
    this.#endpoint.value = this.client.url;
    this.#endpoint.addEventListener("change", () => {
      const url = this.#endpoint.value.trim();
      if (url !== "" && url !== this.client.url) {
        this.client.close();
        this.client = this.#connect(url);
      }
    });
    const filter = byId("filter") as HTMLInputElement;
    filter.addEventListener("input", () => this.#filter(filter.value));
    window.addEventListener("hashchange", () => this.#show(currentHash()));
  }

  #connect(url: string): SwillClient {
    const client = new SwillClient(url, {
      reconnect: { maxAttempts: 5 },
      onStateChange: (c) => this.#showState(c.state),
    });
    this.#showState(client.state);
    return client;
  }

  #showState(state: ConnectionState): void {
    this.#state.textContent = state;
    this.#state.dataset["state"] = state;
  }

  async load(): Promise<void> {
    let doc: Document;
    try {
      doc = await loadDocument(this.client);
    } catch (err: unknown) {
      this.#main.replaceChildren(
        h(
          "p",
          { class: "empty error" },
          `Could not load the service's description: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
      return;
    }
    this.#doc = doc;
    this.defs = doc.$defs ?? {};
    if (doc.version !== "") {
      byId("version").textContent = `version ${doc.version}`;
    }
    byId("count").textContent = `${doc.handlers.length} calls`;
    this.#nav.replaceChildren(
      ...doc.handlers.map((m) =>
        h(
          "li",
          { "data-method": m.name },
          h(
            "a",
            { href: `#${encodeURIComponent(m.name)}` },
            h("span", { class: "name" }, m.name),
            h("span", { class: `kind kind-${m.kind}` }, KIND_LABELS[m.kind]),
          ),
        ),
      ),
    );
    const channels = doc.channels ?? [];
    byId("channels-head").hidden = channels.length === 0;
    if (channels.length > 0) {
      byId("count").textContent += ` · ${channels.length} channel${channels.length === 1 ? "" : "s"}`;
    }
    this.#channelNav.replaceChildren(
      ...channels.map((c) =>
        h(
          "li",
          { "data-channel": c.pattern },
          h(
            "a",
            { href: `#${CHANNEL_HASH}${encodeURIComponent(c.pattern)}` },
            h("span", { class: "name" }, c.pattern),
            h("span", { class: "kind kind-channel" }, typeString(c.message)),
          ),
        ),
      ),
    );
    if (doc.handlers.length === 0 && channels.length === 0) {
      this.#main.replaceChildren(h("p", { class: "empty" }, "The service has no calls."));
      return;
    }
    this.#show(currentHash());
  }

  /** #show displays the panel of the call called name, or of the first call. */
  #show(name: string): void {
    const doc = this.#doc;
    if (doc === undefined) {
      return;
    }
    if (name.startsWith(CHANNEL_HASH) || doc.handlers.length === 0) {
      this.#showChannel(name.slice(CHANNEL_HASH.length));
      return;
    }
    const m = doc.handlers.find((x) => x.name === name) ?? doc.handlers[0];
    if (m === undefined) {
      return;
    }
    let panel = this.#panels.get(m.name);
    if (panel === undefined) {
      panel = new Panel(m, this);
      this.#panels.set(m.name, panel);
    }
    // Panels are kept, so that a call goes on (and its transcript grows)
    // while another one is shown.
    this.#main.replaceChildren(panel.el);
    this.#select(m.name, "");
  }

  /** #showChannel displays the panel of the channel declared as pattern, or of the first one. */
  #showChannel(pattern: string): void {
    const channels = this.#doc?.channels ?? [];
    const c = channels.find((x) => x.pattern === pattern) ?? channels[0];
    if (c === undefined) {
      return;
    }
    let panel = this.#channelPanels.get(c.pattern);
    if (panel === undefined) {
      panel = new ChannelPanel(c, this);
      this.#channelPanels.set(c.pattern, panel);
    }
    // Kept too: a subscription stays live while another panel is shown.
    this.#main.replaceChildren(panel.el);
    this.#select("", c.pattern);
  }

  #select(method: string, channel: string): void {
    for (const li of this.#nav.children) {
      li.classList.toggle("selected", (li as HTMLElement).dataset["method"] === method);
    }
    for (const li of this.#channelNav.children) {
      li.classList.toggle("selected", (li as HTMLElement).dataset["channel"] === channel);
    }
  }

  #filter(text: string): void {
    const q = text.trim().toLowerCase();
    for (const li of [...this.#nav.children, ...this.#channelNav.children]) {
      const el = li as HTMLElement;
      const name = el.dataset["method"] ?? el.dataset["channel"] ?? "";
      el.hidden = q !== "" && !name.toLowerCase().includes(q);
    }
  }
}

/**
 * loadDocument reads describe.json, served next to the page; a page
 * served without it asks the server with swill.describe.
 */
async function loadDocument(client: SwillClient): Promise<Document> {
  const res = await fetch("describe.json", { headers: { Accept: "application/json" } }).catch(() => undefined);
  if (res?.ok === true) {
    return (await res.json()) as Document;
  }
  return (await client.call("swill.describe", null)) as Document;
}

/**
 * endpointURL resolves the endpoint the page was given (a meta tag,
 * usually relative to the page, "../ws") to a ws:// or wss:// URL.
 */
function endpointURL(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="swill-endpoint"]');
  const u = new URL(meta?.content ?? "../ws", window.location.href);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  u.hash = "";
  return u.toString();
}

function currentHash(): string {
  return decodeURIComponent(window.location.hash.replace(/^#/, ""));
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) {
    throw new Error(`the page has no #${id}`);
  }
  return el;
}

void new App().load();
