// The panel of one declared pub/sub channel: its message type and
// settings, a live subscription (swill.subscribe, a plain server-stream
// call) whose publications, joins and leaves are shown as they arrive,
// and, where the server lets clients publish, a publish form
// (swill.publish).

import { ConnectionError, SwillError, type ResponseStream } from "../../clientts/src/index.js";
import { h } from "./dom.js";
import { CODE_NAMES, typeDef, type Host } from "./panel.js";
import { example, exampleName, referencedDefs, typeString, type Channel, type Schema } from "./schema.js";
import { formatJSON, fromWire, toWire } from "./values.js";

/** The state a channel panel shows, also in its data-state attribute. */
type State = "idle" | "subscribing" | "live" | "ended" | "failed";

/** One item of a swill.subscribe stream. */
interface Item {
  channel?: string;
  data?: unknown;
  offset?: number | bigint;
  join?: unknown;
  leave?: unknown;
}

export class ChannelPanel {
  readonly el: HTMLElement;
  readonly #ch: Channel;
  readonly #host: Host;
  readonly #name: HTMLInputElement;
  readonly #asPattern: HTMLInputElement | undefined;
  readonly #subscribe: HTMLButtonElement;
  readonly #unsubscribe: HTMLButtonElement;
  readonly #status: HTMLElement;
  readonly #log: HTMLOListElement;
  readonly #message: HTMLTextAreaElement | undefined;
  #stream: ResponseStream<unknown> | undefined;
  #stopping = false;
  #count = 0;

  constructor(ch: Channel, host: Host) {
    this.#ch = ch;
    this.#host = host;
    const defs = host.defs;

    this.#name = h("input", {
      class: "channel-name",
      value: ch.glob ? exampleName(ch.pattern) : ch.pattern,
      spellcheck: "false",
      "aria-label": "Channel",
    });
    if (ch.glob) {
      this.#asPattern = h("input", { type: "checkbox", class: "as-pattern", "aria-label": "Subscribe to the pattern" });
      this.#asPattern.addEventListener("change", () => {
        this.#name.value = this.#asPattern!.checked ? ch.pattern : exampleName(ch.pattern);
      });
    } else {
      this.#name.readOnly = true;
    }
    this.#subscribe = button("Subscribe", "primary subscribe", () => this.#start());
    this.#unsubscribe = button("Unsubscribe", "cancel unsubscribe", () => this.#stop());
    this.#status = h("span", { class: "status", role: "status" }, "not subscribed");
    this.#log = h("ol", { class: "log", "aria-live": "polite" });

    let publish: HTMLElement;
    if (ch.publish) {
      const message = h("textarea", { class: "json message", rows: 4, spellcheck: "false", "aria-label": "Message (JSON)" });
      message.value = formatJSON(example(ch.message, defs));
      this.#message = message;
      publish = h(
        "div",
        { class: "field publish" },
        h("div", { class: "field-head" }, h("label", {}, "Message to publish (JSON)")),
        message,
        h("div", { class: "actions" }, button("Publish", "publish", () => void this.#publish())),
      );
    } else {
      publish = h("p", { class: "note no-publish" }, "The server refuses publications from clients on this channel (403).");
    }

    const used = referencedDefs([ch.message], defs);
    const named =
      used.length === 0
        ? null
        : h(
            "details",
            { class: "named-types", open: true },
            h("summary", {}, used.length === 1 ? "Type" : "Types"),
            ...used.map((name) => typeDef(name, defs[name] ?? {})),
          );
    const usedDefs: Record<string, Schema> = {};
    for (const name of used) {
      usedDefs[name] = defs[name] ?? {};
    }
    const full: Record<string, unknown> = { message: ch.message };
    if (used.length > 0) {
      full["$defs"] = usedDefs;
    }

    this.el = h(
      "section",
      { class: "method channel", "data-channel": ch.pattern, "data-state": "idle" },
      h(
        "header",
        { class: "method-head" },
        h("h2", {}, ch.pattern),
        h("span", { class: "kind kind-channel" }, ch.glob ? "pattern" : "channel"),
      ),
      ch.doc === "" ? h("p", { class: "doc none" }, "No description.") : h("p", { class: "doc" }, ch.doc),
      h(
        "dl",
        { class: "types" },
        h("dt", {}, "Message"),
        h("dd", { class: "message-type" }, h("code", {}, typeString(ch.message))),
        h("dt", {}, "History"),
        h("dd", { class: "history" }, historyText(ch)),
        h("dt", {}, "Presence"),
        h("dd", { class: "presence" }, presenceText(ch)),
        h("dt", {}, "Publish"),
        h("dd", { class: "publish-allowed" }, ch.publish ? "clients may publish" : "server only"),
      ),
      named,
      h("details", { class: "schema" }, h("summary", {}, "JSON Schema"), h("pre", {}, formatJSON(full, 80))),
      h(
        "div",
        { class: "editor" },
        h(
          "div",
          { class: "field" },
          h("div", { class: "field-head" }, h("label", {}, ch.glob ? `Channel (one that ${ch.pattern} covers)` : "Channel")),
          this.#name,
          this.#asPattern === undefined ? null : h("label", { class: "inline" }, this.#asPattern, " the whole pattern"),
        ),
        publish,
      ),
      h("div", { class: "actions" }, this.#subscribe, this.#unsubscribe, this.#status),
      this.#log,
    );
    this.#setState("idle", "not subscribed");
  }

  #start(): void {
    if (this.#stream !== undefined) {
      return;
    }
    const channel = this.#name.value.trim();
    if (channel === "") {
      this.#setState("failed", "give a channel name");
      return;
    }
    const pattern = this.#asPattern?.checked === true;
    this.#log.replaceChildren();
    this.#count = 0;
    this.#stopping = false;
    const req: Record<string, unknown> = { channel };
    if (pattern) {
      req["pattern"] = true;
    }
    const stream = this.#host.client.serverStream("swill.subscribe", req, {
      onHeader: (md) => {
        this.#entry("leading", "subscribed", md);
        this.#setState("live", `live on ${channel}`);
      },
    });
    this.#stream = stream;
    this.#setState("subscribing", "subscribing…");
    void this.#drain(stream);
  }

  #stop(): void {
    if (this.#stream === undefined) {
      return;
    }
    this.#stopping = true;
    this.#stream.cancel();
  }

  async #drain(stream: ResponseStream<unknown>): Promise<void> {
    try {
      for await (const raw of stream) {
        this.#item(raw as Item);
      }
      this.#ended("the server ended the subscription");
    } catch (err: unknown) {
      if (this.#stopping) {
        this.#ended("unsubscribed");
        return;
      }
      this.#stream = undefined;
      if (err instanceof SwillError) {
        const name = CODE_NAMES[err.code];
        this.#entry("error", `error ${err.code}${name === undefined ? "" : ` (${name})`}: ${err.message}`, undefined);
        this.#setState("failed", `ended with code ${err.code}`);
        return;
      }
      const what = err instanceof ConnectionError ? "connection error" : "error";
      this.#entry("error", `${what}: ${err instanceof Error ? err.message : String(err)}`, undefined);
      this.#setState("failed", what);
    }
  }

  #item(it: Item): void {
    if (it.join !== undefined && it.join !== null) {
      this.#entry("join", `join on ${it.channel ?? ""}`, fromWire(it.join));
      return;
    }
    if (it.leave !== undefined && it.leave !== null) {
      this.#entry("leave", `leave on ${it.channel ?? ""}`, fromWire(it.leave));
      return;
    }
    this.#count++;
    const offset = it.offset === undefined || Number(it.offset) === 0 ? "" : ` #${String(it.offset)}`;
    this.#entry("publication", `${it.channel ?? ""}${offset}`, fromWire(it.data));
    this.#status.textContent = `live: ${this.#count} publication${this.#count === 1 ? "" : "s"}`;
  }

  #ended(text: string): void {
    this.#stream = undefined;
    this.#entry("info", text, undefined);
    this.#setState("ended", text);
  }

  async #publish(): Promise<void> {
    if (this.#message === undefined) {
      return;
    }
    const channel = this.#name.value.trim();
    let data: unknown;
    try {
      data = toWire(JSON.parse(this.#message.value), this.#ch.message, this.#host.defs);
    } catch (err: unknown) {
      this.#entry("error", `not published: ${err instanceof Error ? err.message : String(err)}`, undefined);
      return;
    }
    try {
      const pos = await this.#host.client.call("swill.publish", { channel, data });
      this.#entry("sent", `published on ${channel}`, fromWire(pos));
    } catch (err: unknown) {
      const head =
        err instanceof SwillError
          ? `not published: error ${err.code}: ${err.message}`
          : `not published: ${err instanceof Error ? err.message : String(err)}`;
      this.#entry("error", head, undefined);
    }
  }

  #setState(state: State, text: string): void {
    this.el.dataset["state"] = state;
    const on = state === "subscribing" || state === "live";
    this.#subscribe.disabled = on;
    this.#unsubscribe.disabled = !on;
    this.#name.disabled = on;
    if (this.#asPattern !== undefined) {
      this.#asPattern.disabled = on;
    }
    this.#status.textContent = text;
  }

  #entry(kind: string, label: string, value: unknown): void {
    this.#log.append(
      h(
        "li",
        { class: `entry entry-${kind}`, "data-kind": kind },
        h("span", { class: "label" }, kind === "sent" ? "→ " : kind === "error" ? "✕ " : kind === "info" ? "· " : "← ", label),
        value === undefined ? h("span", { class: "value" }) : h("pre", { class: "value" }, formatJSON(value)),
        h("span", { class: "time" }, new Date().toLocaleTimeString()),
      ),
    );
  }
}

function historyText(ch: Channel): string {
  const hist = ch.history;
  if (hist === null || hist === undefined) {
    return "none";
  }
  const ttl = hist.ttl_ms > 0 ? `, for ${durationText(hist.ttl_ms)}` : "";
  return `last ${hist.size} publications${ttl}; recovered after a reconnection`;
}

function presenceText(ch: Channel): string {
  if (ch.join_leave) return "yes, with joins and leaves";
  return ch.presence ? "yes" : "no";
}

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function button(text: string, cls: string, onClick: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", class: cls }, text);
  b.addEventListener("click", onClick);
  return b;
}
