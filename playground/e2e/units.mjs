// Unit checks of the page's logic that needs no browser: the example
// built from a schema, the short type notation, and the conversions
// between JSON and what the client sends and receives. Bundled with
// esbuild (which reads the TypeScript) and run by node.
import assert from "node:assert/strict";

import { constraints, example, exampleName, referencedDefs, resolve, typeString } from "../web/schema.ts";
import { formatJSON, fromWire, parseValue, toWire } from "../web/values.ts";

const defs = {
  Node: {
    type: "object",
    properties: {
      name: { type: "string", minLength: 10 },
      email: { type: "string", format: "email" },
      age: { type: "integer", minimum: 13 },
      children: { anyOf: [{ type: "array", items: { $ref: "#/$defs/Node" } }, { type: "null" }] },
      parent: { anyOf: [{ $ref: "#/$defs/Node" }, { type: "null" }] },
      data: { type: "string", contentEncoding: "base64", "x-msgpack": "bin" },
      at: { type: "string", format: "date-time", "x-msgpack": "timestamp" },
      byID: { type: "object", additionalProperties: { type: "string" }, "x-msgpack-key": { type: "integer" } },
      pair: { type: "array", prefixItems: [{ type: "number" }, { type: "boolean" }], minItems: 2, maxItems: 2 },
      color: { type: "string", enum: ["red", "green"] },
    },
  },
  Loop: { $ref: "#/$defs/Loop" },
};
const node = { $ref: "#/$defs/Node" };

// Examples: bounds, formats, order of members, recursion stops.
assert.deepEqual(example(node, defs), {
  name: "examplexxx",
  email: "user@example.com",
  age: 13,
  children: [],
  parent: null,
  data: "",
  at: "2024-01-02T15:04:05Z",
  byID: {},
  pair: [1.5, false],
  color: "red",
});
assert.deepEqual(Object.keys(example(node, defs)), Object.keys(defs.Node.properties));
assert.equal(example({ type: "integer", exclusiveMaximum: 0 }, {}), -1);
assert.equal(example({ type: "string", maxLength: 3 }, {}), "exa");
assert.equal(example({}, {}), null);
assert.deepEqual(resolve({ $ref: "#/$defs/Loop" }, defs), {});

// The short notation, as swill list writes it.
assert.equal(typeString(node), "Node");
assert.equal(typeString(defs.Node.properties.children), "Node[] | null");
assert.equal(typeString(defs.Node.properties.byID), "map<integer, string>");
assert.equal(typeString(defs.Node.properties.pair), "[number, boolean]");
assert.equal(typeString(defs.Node.properties.data), "bytes");
assert.equal(typeString(defs.Node.properties.at), "datetime");
assert.equal(typeString(defs.Node.properties.color), '"red" | "green"');
assert.equal(
  typeString({ type: "array", items: { anyOf: [{ type: "integer" }, { type: "null" }] } }),
  "(integer | null)[]",
);

// JSON to the wire: bytes, times and integer keys follow the schema.
const wire = toWire(
  { data: "aGk=", at: "2024-01-02T03:04:05Z", byID: { 7: "seven" }, children: [{ data: "AAE=" }], parent: null },
  node,
  defs,
);
assert.deepEqual(wire.data, new Uint8Array([104, 105]));
assert.equal(wire.at.toISOString(), "2024-01-02T03:04:05.000Z");
assert.deepEqual(wire.byID, new Map([[7, "seven"]]));
assert.deepEqual(wire.children[0].data, new Uint8Array([0, 1]));
assert.equal(wire.parent, null);
assert.throws(() => toWire({ data: "not base64!" }, node, defs), /\$\.data: bytes must be written in base64/);
assert.throws(() => toWire({ at: "yesterday" }, node, defs), /\$\.at: a time must be written in RFC 3339/);
assert.throws(() => toWire({ byID: { x: "y" } }, node, defs), /\$\.byID: key "x" is not a number/);
// Without a schema, values go as they are.
assert.deepEqual(toWire({ a: ["aGk=", 1] }, undefined, {}), { a: ["aGk=", 1] });

// The wire to JSON.
assert.deepEqual(
  fromWire({ b: new Uint8Array([0, 1, 2, 250]), t: new Date(Date.UTC(2024, 0, 2)), m: new Map([[1, "one"]]), n: 10n }),
  { b: "AAEC+g==", t: "2024-01-02T00:00:00.000Z", m: { 1: "one" }, n: "10" },
);

// Formatting: one line when it fits, one member per line otherwise.
assert.equal(formatJSON([1, 1]), "[1, 1]");
assert.equal(formatJSON({ a: "x".repeat(70) }), `{\n  "a": "${"x".repeat(70)}"\n}`);

// Metadata values: JSON when they parse, text otherwise.
assert.equal(parseValue("7"), 7);
assert.deepEqual(parseValue('{"k": [true]}'), { k: [true] });
assert.equal(parseValue("browser"), "browser");

// The named types a call uses: through fields, arrays, unions and other
// definitions, each once, recursion included; unknown names left out.
assert.deepEqual(referencedDefs([node, { type: "integer" }], defs), ["Node"]);
assert.deepEqual(
  referencedDefs(
    [
      { type: "array", items: { $ref: "#/$defs/A" } },
      { anyOf: [{ $ref: "#/$defs/C" }, { type: "null" }] },
    ],
    {
      A: { type: "object", properties: { b: { $ref: "#/$defs/B" }, a: { $ref: "#/$defs/A" } } },
      B: { type: "object", properties: { m: { type: "object", additionalProperties: { $ref: "#/$defs/Missing" } } } },
      C: { type: "string" },
    },
  ),
  ["A", "B", "C"],
);
assert.deepEqual(referencedDefs([{ type: "string" }], defs), []);

// Constraints as JSON Schema keywords, through nullable types.
assert.deepEqual(constraints(defs.Node.properties.name), ["minLength: 10"]);
assert.deepEqual(constraints(defs.Node.properties.email), ["format: email"]);
assert.deepEqual(constraints(defs.Node.properties.age), ["minimum: 13"]);
assert.deepEqual(constraints(defs.Node.properties.at), []);
assert.deepEqual(constraints(defs.Node.properties.color), ['enum: "red", "green"']);
assert.deepEqual(constraints({ anyOf: [{ type: "string", maxLength: 3, pattern: "^a" }, { type: "null" }] }), [
  "maxLength: 3",
  "pattern: ^a",
]);
assert.deepEqual(constraints({ type: "array", minItems: 1, uniqueItems: true }), ["minItems: 1", "uniqueItems: true"]);

// A channel name a glob covers, to prefill a channel panel.
assert.equal(exampleName("chat.*"), "chat.example");
assert.equal(exampleName("user.[0-9]*"), "user.0example");
assert.equal(exampleName("room?"), "roomx");
assert.equal(exampleName("[^ab]z"), "xz");
assert.equal(exampleName("news\\*"), "news*");
assert.equal(exampleName("plain"), "plain");

console.log("ok");
