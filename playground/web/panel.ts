// The panel of one call: its description, the request editor, the
// metadata rows, the buttons that drive the call, and the transcript of
// what went out and came back.

import {
  ConnectionError,
  SwillError,
  type CallOptions,
  type Metadata,
  type RequestStream,
  type SwillClient,
} from "../../clientts/src/index.js";
import { h } from "./dom.js";
import { constraints, example, referencedDefs, typeString, type Method, type Schema } from "./schema.js";
import { formatJSON, fromWire, parseValue, toWire } from "./values.js";

/** What a panel needs from the page. */
export interface Host {
  /** The client calls are made on (it changes when the endpoint does). */
  readonly client: SwillClient;
  /** The description's named types. */
  readonly defs: Record<string, Schema>;
}

/** The state a panel shows, also in its data-state attribute. */
type State = "idle" | "running" | "done" | "failed" | "cancelled";

/** The controls of the call in progress. */
interface Active {
  cancel(): void;
  send?(item: unknown): boolean;
  end?(): void;
  cancelled: boolean;
}

/** The short names of the codes the protocol uses, as `swill call` prints them. */
export const CODE_NAMES: Record<number, string> = {
  400: "bad request",
  401: "unauthorized",
  403: "forbidden",
  404: "not found",
  408: "timeout",
  422: "validation error",
  429: "too many requests",
  500: "internal error",
  501: "invalid rpc",
  503: "unavailable",
};

/** KIND_LABELS names the kinds of call for people. */
export const KIND_LABELS: Record<Method["kind"], string> = {
  unary: "unary",
  server_stream: "server stream",
  client_stream: "client stream",
  bidi_stream: "bidi stream",
};

export class Panel {
  readonly el: HTMLElement;
  readonly #method: Method;
  readonly #host: Host;
  readonly #request: HTMLTextAreaElement;
  readonly #mdRows: HTMLElement;
  readonly #timeout: HTMLInputElement;
  readonly #start: HTMLButtonElement;
  readonly #send: HTMLButtonElement | undefined;
  readonly #end: HTMLButtonElement | undefined;
  readonly #cancel: HTMLButtonElement;
  readonly #status: HTMLElement;
  readonly #log: HTMLOListElement;
  #active: Active | undefined;
  #startedAt = 0;

  constructor(method: Method, host: Host) {
    this.#method = method;
    this.#host = host;
    const m = method;
    const streamsIn = m.request.streams;
    const kindClass = `kind kind-${m.kind}`;

    this.#request = h("textarea", {
      class: "json",
      rows: 6,
      spellcheck: "false",
      "aria-label": streamsIn ? "Item (JSON)" : "Request (JSON)",
    });
    this.#resetExample();
    this.#mdRows = h("div", { class: "md-rows" });
    this.#timeout = h("input", {
      type: "number",
      min: 1,
      step: 1,
      placeholder: "none",
      class: "timeout",
      "aria-label": "Timeout (ms)",
    });
    this.#start = button(startLabel(m.kind), "primary start", () => this.#run());
    this.#cancel = button("Cancel", "cancel", () => this.#active?.cancel());
    if (streamsIn) {
      this.#send = button("Send item", "send", () => this.#sendItem());
      this.#end = button("End stream", "end", () => this.#endStream());
    }
    this.#status = h("span", { class: "status", role: "status" }, "idle");
    this.#log = h("ol", { class: "log", "aria-live": "polite" });

    // The named types the call uses, with their fields; the JSON Schema
    // carries their definitions, so that nothing hides behind a $ref.
    const defs = this.#host.defs;
    const used = referencedDefs([m.request.schema, m.response.schema], defs);
    const usedDefs: Record<string, Schema> = {};
    for (const name of used) {
      usedDefs[name] = defs[name] ?? {};
    }
    const named =
      used.length === 0
        ? null
        : h(
            "details",
            { class: "named-types", open: true },
            h("summary", {}, used.length === 1 ? "Type" : "Types"),
            ...used.map((name) => typeDef(name, defs[name] ?? {})),
          );
    const full: Record<string, unknown> = { request: m.request.schema, response: m.response.schema };
    if (used.length > 0) {
      full["$defs"] = usedDefs;
    }
    const schema = h(
      "details",
      { class: "schema" },
      h("summary", {}, "JSON Schema"),
      h("pre", {}, formatJSON(full, 80)),
    );
    const errors =
      m.errors.length === 0
        ? null
        : [
            h("dt", {}, "Errors"),
            h("dd", {}, m.errors.map((e) => `${e.code}${e.name ? ` ${e.name}` : ""}`).join(", ")),
          ];

    this.#request.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        if (this.#active !== undefined && this.#send !== undefined) {
          this.#sendItem();
        } else if (this.#active === undefined) {
          this.#run();
        }
      }
    });

    this.el = h(
      "section",
      { class: "method", "data-method": m.name, "data-state": "idle" },
      h("header", { class: "method-head" }, h("h2", {}, m.name), h("span", { class: kindClass }, KIND_LABELS[m.kind])),
      m.doc === "" ? h("p", { class: "doc none" }, "No description.") : h("p", { class: "doc" }, m.doc),
      h(
        "dl",
        { class: "types" },
        h("dt", {}, "Request"),
        h("dd", {}, h("code", {}, side(m.request.streams, m.request.schema))),
        h("dt", {}, "Response"),
        h("dd", {}, h("code", {}, side(m.response.streams, m.response.schema))),
        ...(errors ?? []),
      ),
      named,
      schema,
      h(
        "div",
        { class: "editor" },
        h(
          "div",
          { class: "field" },
          h(
            "div",
            { class: "field-head" },
            h("label", {}, streamsIn ? "Item to send (JSON)" : "Request (JSON)"),
            button("Reset to example", "link reset", () => this.#resetExample()),
          ),
          this.#request,
        ),
        h(
          "div",
          { class: "field" },
          h(
            "div",
            { class: "field-head" },
            h("label", {}, "Metadata"),
            button("Add metadata", "link add-md", () => this.#addMetadataRow()),
          ),
          this.#mdRows,
          h("label", { class: "inline" }, "Timeout (ms) ", this.#timeout),
        ),
      ),
      h("div", { class: "actions" }, this.#start, this.#send, this.#end, this.#cancel, this.#status),
      this.#log,
    );
    this.#setState("idle");
  }

  #resetExample(): void {
    this.#request.value = formatJSON(example(this.#method.request.schema, this.#host.defs));
  }

  #addMetadataRow(key = "", value = ""): void {
    const row = h(
      "div",
      { class: "md-row" },
      h("input", {
        class: "md-key",
        placeholder: "key",
        value: key,
        "aria-label": "Metadata key",
        spellcheck: "false",
      }),
      h("input", {
        class: "md-value",
        placeholder: "value (JSON or text)",
        value,
        "aria-label": "Metadata value",
        spellcheck: "false",
      }),
    );
    row.append(button("×", "remove", () => row.remove(), "Remove this metadata"));
    this.#mdRows.append(row);
    row.querySelector("input")?.focus();
  }

  /** #options reads the metadata rows and the timeout; it throws on a bad entry. */
  #options(): CallOptions {
    const opts: CallOptions = {
      onHeader: (md) => this.#entry("leading", "leading metadata", md),
      onTrailer: (md) => this.#entry("trailing", "trailing metadata", md),
    };
    const md: Metadata = {};
    let any = false;
    for (const row of this.#mdRows.querySelectorAll(".md-row")) {
      const key = (row.querySelector(".md-key") as HTMLInputElement).value.trim();
      const value = (row.querySelector(".md-value") as HTMLInputElement).value;
      if (key === "") {
        if (value.trim() !== "") throw new Error("a metadata value has no key");
        continue;
      }
      md[key] = parseValue(value);
      any = true;
    }
    if (any) {
      opts.metadata = md;
    }
    const t = this.#timeout.value.trim();
    if (t !== "") {
      const ms = Number(t);
      if (!(ms > 0)) throw new Error("the timeout must be a positive number of milliseconds");
      opts.timeoutMs = ms;
    }
    return opts;
  }

  /** #read parses the editor's JSON as one request or item. */
  #read(): unknown {
    let v: unknown;
    try {
      v = JSON.parse(this.#request.value);
    } catch (err: unknown) {
      throw new Error(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    return toWire(v, this.#method.request.schema, this.#host.defs);
  }

  #run(): void {
    if (this.#active !== undefined) {
      return;
    }
    let opts: CallOptions;
    let req: unknown;
    try {
      opts = this.#options();
      req = this.#method.request.streams ? undefined : this.#read();
    } catch (err: unknown) {
      this.#setStatus("failed", err instanceof Error ? err.message : String(err));
      return;
    }
    this.#log.replaceChildren();
    this.#startedAt = performance.now();
    const client = this.#host.client;
    const name = this.#method.name;
    if (!this.#method.request.streams) {
      this.#entry("sent", "request", fromWire(req));
    }
    switch (this.#method.kind) {
      case "unary": {
        const ac = new AbortController();
        this.#begin(() => ac.abort());
        void this.#settle(client.call(name, req, { ...opts, signal: ac.signal }));
        return;
      }
      case "server_stream": {
        const stream = client.serverStream(name, req, opts);
        this.#begin(() => stream.cancel());
        void this.#drain(stream);
        return;
      }
      case "client_stream": {
        const call = client.openClientStream(name, opts);
        this.#begin(() => call.cancel(), call);
        void this.#settle(call.response);
        return;
      }
      case "bidi_stream": {
        const call = client.openBidiStream(name, opts);
        this.#begin(() => call.cancel(), call);
        void this.#drain(call);
        return;
      }
    }
  }

  /** #begin makes the call the active one: cancel stops it, requests takes its stream's items. */
  #begin(cancel: () => void, requests?: RequestStream<unknown>): void {
    const active: Active = {
      cancel: () => {
        active.cancelled = true;
        cancel();
      },
      cancelled: false,
    };
    if (requests !== undefined) {
      active.send = (item) => requests.send(item);
      active.end = () => requests.end();
    }
    this.#active = active;
    this.#setState("running");
    if (this.#send !== undefined) {
      this.#send.disabled = false;
      this.#end!.disabled = false;
    }
  }

  async #settle(p: Promise<unknown>): Promise<void> {
    try {
      const res = await p;
      this.#entry("result", "result", fromWire(res));
      this.#done();
    } catch (err: unknown) {
      this.#failed(err);
    }
  }

  async #drain(stream: AsyncIterable<unknown>): Promise<void> {
    try {
      for await (const item of stream) {
        this.#entry("item", "item", fromWire(item));
      }
      this.#done();
    } catch (err: unknown) {
      this.#failed(err);
    }
  }

  #sendItem(): void {
    const active = this.#active;
    if (active?.send === undefined) {
      return;
    }
    let item: unknown;
    try {
      item = this.#read();
    } catch (err: unknown) {
      this.#entry("info", "not sent", err instanceof Error ? err.message : String(err));
      return;
    }
    if (active.send(item)) {
      this.#entry("sent", "item sent", fromWire(item));
    } else {
      this.#entry("info", "not sent", "the call is over");
    }
  }

  #endStream(): void {
    const active = this.#active;
    if (active?.end === undefined) {
      return;
    }
    active.end();
    this.#entry("sent", "end of stream", undefined);
    this.#send!.disabled = true;
    this.#end!.disabled = true;
  }

  #done(): void {
    const cancelled = this.#active?.cancelled === true;
    this.#active = undefined;
    this.#setStatus(
      cancelled ? "cancelled" : "done",
      `${cancelled ? "cancelled after" : "done in"} ${this.#elapsed()} ms`,
    );
    if (cancelled) {
      this.#entry("info", "cancelled", "CANCEL sent to the server");
    }
  }

  #failed(err: unknown): void {
    if (this.#active?.cancelled === true) {
      this.#done();
      return;
    }
    this.#active = undefined;
    if (err instanceof SwillError) {
      const name = CODE_NAMES[err.code];
      const head = `error ${err.code}${name === undefined ? "" : ` (${name})`}: ${err.message}`;
      this.#entry("error", head, err.data === undefined || err.data === null ? undefined : fromWire(err.data));
      this.#setStatus("failed", `failed with code ${err.code} after ${this.#elapsed()} ms`);
      return;
    }
    const what = err instanceof ConnectionError ? "connection error" : "error";
    const msg = err instanceof Error ? err.message : String(err);
    this.#entry("error", `${what}: ${msg}`, undefined);
    this.#setStatus("failed", `${what} after ${this.#elapsed()} ms`);
  }

  #elapsed(): number {
    return Math.round(performance.now() - this.#startedAt);
  }

  #setState(state: State): void {
    this.el.dataset["state"] = state;
    const running = state === "running";
    this.#start.disabled = running;
    this.#cancel.disabled = !running;
    if (!running && this.#send !== undefined) {
      this.#send.disabled = true;
      this.#end!.disabled = true;
    }
    if (running) {
      this.#status.textContent = "running…";
    }
  }

  #setStatus(state: State, text: string): void {
    this.#setState(state);
    this.#status.textContent = text;
  }

  /** #entry adds a line to the transcript: a label, a value shown as JSON (or a message), the time since the start. */
  #entry(kind: string, label: string, value: unknown): void {
    const body =
      value === undefined
        ? h("span", { class: "value" })
        : h("pre", { class: "value" }, typeof value === "string" && kind === "info" ? value : formatJSON(value));
    const li = h(
      "li",
      { class: `entry entry-${kind}`, "data-kind": kind },
      h("span", { class: "label" }, arrow(kind), label),
      body,
      h("span", { class: "time" }, `+${this.#elapsed()} ms`),
    );
    this.#log.append(li);
  }
}

function arrow(kind: string): string {
  switch (kind) {
    case "sent":
      return "→ ";
    case "error":
      return "✕ ";
    case "info":
      return "· ";
  }
  return "← ";
}

function side(streams: boolean, s: Schema): string {
  return streams ? `stream of ${typeString(s)}` : typeString(s);
}

function startLabel(kind: Method["kind"]): string {
  return kind === "unary" ? "Call" : "Start";
}

function button(text: string, cls: string, onClick: () => void, title?: string): HTMLButtonElement {
  const b = h("button", { type: "button", class: cls, title }, text);
  b.addEventListener("click", onClick);
  return b;
}

/**
 * typeDef shows one named type: an object's fields (name, type, whether
 * required, constraints), or the type another definition stands for.
 */
export function typeDef(name: string, s: Schema): HTMLElement {
  const head = h("h3", {}, h("code", {}, name));
  const doc = s.description === undefined || s.description === "" ? null : h("p", { class: "doc" }, s.description);
  const props = Object.entries(s.properties ?? {});
  if (s.type !== "object" || props.length === 0) {
    const notes = constraints(s);
    return h(
      "div",
      { class: "typedef", "data-type": name },
      head,
      doc,
      h("p", {}, h("code", {}, typeString(s)), notes.length > 0 ? ` (${notes.join("; ")})` : ""),
    );
  }
  const required = new Set(s.required ?? []);
  const rows = props.map(([field, fs]) => {
    const notes = constraints(fs);
    if (fs.description !== undefined && fs.description !== "") {
      notes.unshift(fs.description);
    }
    return h(
      "tr",
      { "data-field": field },
      h("td", {}, h("code", {}, field)),
      h("td", {}, h("code", {}, typeString(fs))),
      h("td", {}, required.has(field) ? "required" : "optional"),
      h("td", { class: "constraints" }, notes.join("; ")),
    );
  });
  return h(
    "div",
    { class: "typedef", "data-type": name },
    head,
    doc,
    h(
      "table",
      { class: "fields" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "Field"), h("th", {}, "Type"), h("th", {}, "Required"), h("th", {}, "Constraints")),
      ),
      h("tbody", {}, ...rows),
    ),
  );
}
