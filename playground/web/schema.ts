// The swill.describe document and what the page reads in its JSON
// Schemas: references, a short notation of types, and example values.

/** A JSON Schema as swill.describe writes it (the keywords the page reads). */
export interface Schema {
  $ref?: string;
  title?: string;
  description?: string;
  type?: string;
  format?: string;
  contentEncoding?: string;
  "x-msgpack"?: string;
  "x-msgpack-key"?: Schema;
  enum?: unknown[];
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  items?: Schema;
  prefixItems?: Schema[];
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema;
  anyOf?: Schema[];
  allOf?: Schema[];
  pattern?: string;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  not?: Schema;
  multipleOf?: number;
}

/** One side of a call. */
export interface Payload {
  streams: boolean;
  schema: Schema;
}

/** An error code a call declares. */
export interface ErrorCode {
  code: number;
  name?: string;
}

/** One call of the service. */
export interface Method {
  name: string;
  kind: Kind;
  doc: string;
  request: Payload;
  response: Payload;
  errors: ErrorCode[];
}

/** The kinds of call. */
export type Kind = "unary" | "server_stream" | "client_stream" | "bidi_stream";

/** A declared pub/sub channel: a name, or a glob of names, and its message type. */
export interface Channel {
  pattern: string;
  glob: boolean;
  doc: string;
  message: Schema;
  history: { size: number; ttl_ms: number } | null;
  presence: boolean;
  join_leave: boolean;
  publish: boolean;
}

/** The service's description, as swill.describe returns it. */
export interface Document {
  format: string;
  format_version: number;
  protocol: string;
  version: string;
  handlers: Method[];
  channels?: Channel[];
  $defs?: Record<string, Schema>;
}

const DEF_PREFIX = "#/$defs/";

/** refName returns the name of the definition s refers to, or "". */
export function refName(s: Schema | undefined): string {
  return s?.$ref?.startsWith(DEF_PREFIX) === true ? s.$ref.slice(DEF_PREFIX.length) : "";
}

/** resolve follows references; one that leads nowhere gives the empty schema. */
export function resolve(s: Schema | undefined, defs: Record<string, Schema>): Schema {
  const seen = new Set<string>();
  let cur = s ?? {};
  for (;;) {
    const name = refName(cur);
    if (name === "") {
      return cur;
    }
    const next = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (next === undefined || seen.has(name)) {
      return {};
    }
    seen.add(name);
    cur = next;
  }
}

/**
 * referencedDefs returns the names of the definitions the schemas use,
 * directly or through other definitions, in the order they are first met
 * (depth first); each once, however often or recursively it is used.
 */
export function referencedDefs(schemas: (Schema | undefined)[], defs: Record<string, Schema>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const walk = (s: Schema | undefined): void => {
    if (s === undefined || typeof s !== "object") {
      return;
    }
    const name = refName(s);
    if (name !== "") {
      if (!seen.has(name) && Object.hasOwn(defs, name)) {
        seen.add(name);
        out.push(name);
        walk(defs[name]);
      }
      return;
    }
    walk(s.items);
    walk(s.additionalProperties);
    walk(s["x-msgpack-key"]);
    walk(s.not);
    for (const list of [s.prefixItems, s.anyOf, s.allOf]) {
      list?.forEach(walk);
    }
    for (const p of Object.values(s.properties ?? {})) {
      walk(p);
    }
  };
  schemas.forEach(walk);
  return out;
}

/**
 * constraints lists the validation keywords of s as "keyword: value"
 * (minLength: 2, minimum: 13, format: email, enum: "a", "b"...), looking
 * inside a nullable type (T | null) and through allOf.
 */
export function constraints(s: Schema | undefined): string[] {
  if (s === undefined) {
    return [];
  }
  const alts = s.anyOf?.filter((a) => a.type !== "null");
  if (alts !== undefined && alts.length === 1 && alts.length < (s.anyOf?.length ?? 0)) {
    return constraints(alts[0]);
  }
  const out: string[] = [];
  const keys = [
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
  ] as const;
  if (s.format !== undefined && !isTimestamp(s)) {
    out.push(`format: ${s.format}`);
  }
  for (const k of keys) {
    const v = s[k];
    if (v !== undefined && v !== false) {
      out.push(`${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    }
  }
  if (s.enum !== undefined && s.enum.length > 1) {
    out.push(`enum: ${s.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  if (s.not?.enum !== undefined && s.not.enum.length === 1) {
    out.push(`not: ${JSON.stringify(s.not.enum[0])}`);
  }
  for (const a of s.allOf ?? []) {
    out.push(...constraints(a));
  }
  return out;
}

/** isBytes reports whether s describes binary data (MsgPack bin, base64 in JSON). */
export function isBytes(s: Schema): boolean {
  return s.type === "string" && s["x-msgpack"] === "bin";
}

/** isTimestamp reports whether s describes a time (the MsgPack timestamp, RFC 3339 in JSON). */
export function isTimestamp(s: Schema): boolean {
  return s.type === "string" && s["x-msgpack"] === "timestamp";
}

/**
 * typeString writes s in the short notation of `swill list`: integer,
 * string, bytes, datetime, any, T[], [A, B], {a: A}, map<K, V>, A | B,
 * a definition's name.
 */
export function typeString(s: Schema | undefined, inner = false): string {
  if (s === undefined) {
    return "any";
  }
  const wrap = (t: string): string => (inner ? `(${t})` : t);
  const name = refName(s);
  if (name !== "") {
    return name;
  }
  if (s.enum !== undefined && s.enum.length > 0) {
    const parts = s.enum.map((v) => JSON.stringify(v));
    return parts.length === 1 ? (parts[0] ?? "") : wrap(parts.join(" | "));
  }
  if (s.anyOf !== undefined && s.anyOf.length > 0) {
    const parts = s.anyOf.map((a) => typeString(a, true));
    return parts.length === 1 ? (parts[0] ?? "") : wrap(parts.join(" | "));
  }
  if (isBytes(s)) {
    return "bytes";
  }
  if (isTimestamp(s)) {
    return "datetime";
  }
  switch (s.type) {
    case "array":
      if (s.prefixItems !== undefined && s.prefixItems.length > 0) {
        return `[${s.prefixItems.map((p) => typeString(p)).join(", ")}]`;
      }
      return `${typeString(s.items, true)}[]`;
    case "object": {
      const props = Object.entries(s.properties ?? {});
      if (props.length === 0) {
        const key = s["x-msgpack-key"] === undefined ? "string" : typeString(s["x-msgpack-key"]);
        return `map<${key}, ${typeString(s.additionalProperties)}>`;
      }
      return `{${props.map(([k, v]) => `${k}: ${typeString(v)}`).join(", ")}}`;
    }
    case undefined:
      return "any";
    default:
      return s.type;
  }
}

const FORMAT_EXAMPLES: Record<string, string> = {
  "date-time": "2024-01-02T15:04:05Z",
  date: "2024-01-02",
  time: "15:04:05",
  email: "user@example.com",
  uri: "https://example.com/",
  uuid: "123e4567-e89b-12d3-a456-426614174000",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
  hostname: "example.com",
};

const MAX_DEPTH = 12;

/**
 * example returns a JSON value that fits s, the same one `swill docs`
 * shows: the first value of an enum, the lowest integer a minimum allows
 * (1 without bounds), strings of the requested format or "example"
 * fitted to the length bounds, one element per array, every property of
 * an object, the first alternative that is not null. A type met again
 * inside itself is null (or, as an array's element, left out).
 */
export function example(s: Schema | undefined, defs: Record<string, Schema>): unknown {
  const open = new Set<string>();
  const value = (s: Schema | undefined, depth: number): unknown => {
    if (s === undefined || depth > MAX_DEPTH) {
      return null;
    }
    const name = refName(s);
    if (name !== "") {
      if (open.has(name) || !Object.hasOwn(defs, name)) {
        return null;
      }
      open.add(name);
      try {
        return value(defs[name], depth + 1);
      } finally {
        open.delete(name);
      }
    }
    if (s.enum !== undefined && s.enum.length > 0) {
      return s.enum[0];
    }
    if (s.anyOf !== undefined && s.anyOf.length > 0) {
      const alt = s.anyOf.find((a) => a.type !== "null");
      return alt === undefined ? null : value(alt, depth + 1);
    }
    if (s.allOf !== undefined && s.allOf.length > 0 && s.type === undefined) {
      return value(s.allOf[0], depth + 1);
    }
    if (isBytes(s)) {
      return "";
    }
    switch (s.type) {
      case "boolean":
        return false;
      case "integer":
        return integerExample(s);
      case "number":
        return numberExample(s);
      case "string":
        return stringExample(s);
      case "array": {
        if (s.prefixItems !== undefined && s.prefixItems.length > 0) {
          return s.prefixItems.map((p) => value(p, depth + 1));
        }
        if (open.has(refName(s.items))) {
          return [];
        }
        let n = Math.min(Math.max(1, s.minItems ?? 1), 16);
        if (s.maxItems !== undefined && s.maxItems < n) {
          n = s.maxItems;
        }
        return Array.from({ length: n }, () => value(s.items, depth + 1));
      }
      case "object": {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(s.properties ?? {})) {
          out[k] = value(v, depth + 1);
        }
        return out;
      }
    }
    return null;
  };
  return value(s, 0);
}

function integerExample(s: Schema): number {
  let lo = -Infinity;
  let hi = Infinity;
  if (s.minimum !== undefined) lo = Math.ceil(s.minimum);
  if (s.exclusiveMinimum !== undefined) lo = Math.max(lo, Math.floor(s.exclusiveMinimum) + 1);
  if (s.maximum !== undefined) hi = Math.floor(s.maximum);
  if (s.exclusiveMaximum !== undefined) hi = Math.min(hi, Math.ceil(s.exclusiveMaximum) - 1);
  return Math.max(Math.min(1, hi), lo);
}

function numberExample(s: Schema): number {
  if (s.minimum !== undefined && s.minimum > 1.5) return s.minimum;
  if (s.exclusiveMinimum !== undefined && s.exclusiveMinimum >= 1.5) return s.exclusiveMinimum + 1;
  if (s.maximum !== undefined && s.maximum < 1.5) return s.maximum;
  if (s.exclusiveMaximum !== undefined && s.exclusiveMaximum <= 1.5) return s.exclusiveMaximum - 1;
  return 1.5;
}

function stringExample(s: Schema): string {
  const byFormat = s.format === undefined ? undefined : FORMAT_EXAMPLES[s.format];
  if (byFormat !== undefined) {
    return byFormat;
  }
  let v = "example";
  if (s.minLength !== undefined && s.minLength > v.length) {
    v += "x".repeat(Math.min(s.minLength, 1024) - v.length);
  }
  if (s.maxLength !== undefined && s.maxLength < v.length) {
    v = v.slice(0, s.maxLength);
  }
  return v;
}

/** exampleName makes a channel name a glob covers: * becomes "example", ? "x", a set its first byte. */
export function exampleName(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      out += "example";
    } else if (c === "?") {
      out += "x";
    } else if (c === "\\" && i + 1 < pattern.length) {
      out += pattern[++i];
    } else if (c === "[") {
      let j = i + 1;
      const negate = pattern[j] === "^";
      if (negate) j++;
      const first = pattern[j] === "\\" ? pattern[j + 1] : pattern[j];
      while (j < pattern.length && pattern[j] !== "]") j++;
      out += negate || first === undefined || first === "]" ? "x" : first;
      i = j;
    } else {
      out += c;
    }
  }
  return out;
}
