// Conversions between the JSON the user edits and reads and the values
// the TypeScript client sends and receives as MsgPack.

import { isBytes, isTimestamp, resolve, type Schema } from "./schema.js";

/**
 * toWire turns a parsed JSON value into what is sent, guided by the
 * call's schema: base64 strings where the schema says bytes become
 * Uint8Array (MsgPack bin), RFC 3339 strings where it says timestamp
 * become Date (the MsgPack timestamp), and the keys of maps whose keys
 * are numbers become numbers (a Map). It throws an Error naming the
 * place of a value it cannot convert.
 */
export function toWire(v: unknown, s: Schema | undefined, defs: Record<string, Schema>, path = "$"): unknown {
  let r = resolve(s, defs);
  if (r.anyOf !== undefined) {
    r = r.anyOf.map((a) => resolve(a, defs)).find((a) => fits(v, a)) ?? {};
  }
  if (typeof v === "string") {
    if (isBytes(r)) {
      try {
        return Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
      } catch {
        throw new Error(`${path}: bytes must be written in base64`);
      }
    }
    if (isTimestamp(r)) {
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) {
        throw new Error(`${path}: a time must be written in RFC 3339`);
      }
      return d;
    }
    return v;
  }
  if (Array.isArray(v)) {
    return v.map((e, i) => toWire(e, r.prefixItems?.[i] ?? r.items, defs, `${path}[${i}]`));
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).map(
      ([k, e]) => [k, toWire(e, r.properties?.[k] ?? r.additionalProperties, defs, `${path}.${k}`)] as const,
    );
    const keyType = resolve(r["x-msgpack-key"], defs).type;
    if (keyType === "integer" || keyType === "number") {
      return new Map(
        entries.map(([k, e]) => {
          const n = Number(k);
          if (k.trim() === "" || Number.isNaN(n)) {
            throw new Error(`${path}: key ${JSON.stringify(k)} is not a number`);
          }
          return [n, e];
        }),
      );
    }
    return Object.fromEntries(entries);
  }
  return v;
}

function fits(v: unknown, s: Schema): boolean {
  switch (s.type) {
    case "null":
      return v === null;
    case "boolean":
      return typeof v === "boolean";
    case "integer":
    case "number":
      return typeof v === "number";
    case "string":
      return typeof v === "string";
    case "array":
      return Array.isArray(v);
    case "object":
      return v !== null && typeof v === "object" && !Array.isArray(v);
  }
  return false;
}

/**
 * fromWire turns a received value into plain JSON: binary data becomes a
 * base64 string, a Date its RFC 3339 form, a Map an object with string
 * keys, a bigint its decimal string.
 */
export function fromWire(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    let s = "";
    for (const b of v) {
      s += String.fromCharCode(b);
    }
    return btoa(s);
  }
  if (v instanceof Date) {
    return v.toISOString();
  }
  if (typeof v === "bigint") {
    return v.toString();
  }
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, e] of v) {
      out[typeof k === "string" ? k : JSON.stringify(fromWire(k))] = fromWire(e);
    }
    return out;
  }
  if (Array.isArray(v)) {
    return v.map(fromWire);
  }
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fromWire(e)]));
  }
  return v;
}

/**
 * formatJSON writes a value for people: on one line when it fits in
 * width, otherwise one member per line, nested values again on one line
 * when they fit.
 */
export function formatJSON(v: unknown, width = 60, indent = ""): string {
  const flat = flatJSON(v);
  if (indent.length + flat.length <= width || v === null || typeof v !== "object") {
    return flat;
  }
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (v.length === 0) return flat;
    return `[\n${v.map((e) => inner + formatJSON(e, width, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return flat;
  return `{\n${entries.map(([k, e]) => `${inner}${JSON.stringify(k)}: ${formatJSON(e, width, inner)}`).join(",\n")}\n${indent}}`;
}

function flatJSON(v: unknown): string {
  if (Array.isArray(v)) {
    return `[${v.map(flatJSON).join(", ")}]`;
  }
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v)
      .map(([k, e]) => `${JSON.stringify(k)}: ${flatJSON(e)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** parseValue reads a metadata value: JSON when it parses, the text itself otherwise (as `swill call -H`). */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
