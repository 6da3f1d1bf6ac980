import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";

import { SwillError } from "./errors.js";
import { createFrameDecoder, FrameError, type ResponseFrame } from "./frame.js";

// A property test of the response frame decoder, fed what a hostile server
// could send: random bytes, random well-formed frames, and those frames
// mutated. It runs a few thousand cases by default; SWILL_FUZZ_MS=600000
// runs it for ten minutes, and SWILL_FUZZ_SEED picks the random sequence
// (a failure names its seed and input, so that it can be replayed).

const seed = Number(process.env["SWILL_FUZZ_SEED"] ?? 1);
const budgetMs = Number(process.env["SWILL_FUZZ_MS"] ?? 0);
const defaultCases = 3000;

// mulberry32: a small seeded generator, so that every run is reproducible.
function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)] as T;

// Bytes that start MsgPack values, more often than chance would pick them.
const headers = [
  0x00, 0x01, 0x03, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0,
  0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3,
  0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff,
];

function randomBytes(r: Rand): Uint8Array {
  const b = new Uint8Array(int(r, 48));
  for (let i = 0; i < b.length; i++) {
    b[i] = r() < 0.5 ? pick(r, headers) : int(r, 256);
  }
  return b;
}

function randomValue(r: Rand, depth: number): unknown {
  switch (int(r, depth > 3 ? 8 : 11)) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return int(r, 1 << 20) - (1 << 19);
    case 3:
      return pick(r, [0, -1, 127, 128, 255, 65535, 2 ** 32, 2 ** 53 - 1, -(2 ** 31), 1.5, NaN, Infinity, -0]);
    case 4:
      return pick(r, ["", "x", "code", "message", "data", "__proto__", "constructor", "é", "swill-retry-after-ms"]);
    case 5:
      return new Uint8Array(int(r, 4));
    case 6:
      return new Date(int(r, 2 ** 31) * 1000);
    case 7:
      return 2n ** 63n - BigInt(int(r, 3));
    case 8:
      return Array.from({ length: int(r, 4) }, () => randomValue(r, depth + 1));
    case 9:
      return randomMap(r, depth + 1);
    default:
      return { code: randomValue(r, depth + 1), message: randomValue(r, depth + 1), data: randomValue(r, depth + 1) };
  }
}

function randomMap(r: Rand, depth: number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (let i = int(r, 4); i > 0; i--) {
    m[pick(r, ["k", "a", "swill-retry-after-ms", "x".repeat(int(r, 40))])] = randomValue(r, depth);
  }
  return m;
}

// A response frame, mostly well-formed: sometimes of the wrong length,
// with an odd seq, type or metadata.
function randomFrame(r: Rand): unknown[] {
  const f: unknown[] = [
    r() < 0.9 ? int(r, 1000) : randomValue(r, 3),
    randomValue(r, 0),
    r() < 0.9 ? int(r, 4) : randomValue(r, 3),
    r() < 0.5 ? null : r() < 0.9 ? randomMap(r, 1) : randomValue(r, 3),
    r() < 0.5 ? null : r() < 0.9 ? randomMap(r, 1) : randomValue(r, 3),
  ];
  f.length = r() < 0.8 ? 5 : int(r, 7);
  return f;
}

function mutate(r: Rand, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  for (let n = 1 + int(r, 3); n > 0; n--) {
    const i = int(r, out.length + 1);
    switch (int(r, 4)) {
      case 0:
        out[i] = int(r, 256);
        break;
      case 1:
        out.splice(i, 0, pick(r, headers));
        break;
      case 2:
        out.splice(i, 1 + int(r, 4));
        break;
      default:
        out.length = i;
    }
  }
  return new Uint8Array(out);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const good = new Uint8Array(encode([7, [1, 2], 0, { k: "v" }, null]));

// check decodes b and holds the decoder to its contract.
function check(decode: (b: Uint8Array) => ResponseFrame, b: Uint8Array): "ok" | "refused" {
  let f: ResponseFrame;
  try {
    f = decode(b);
  } catch (err: unknown) {
    if (!(err instanceof FrameError)) {
      throw new Error(`input ${hex(b)} threw ${String(err)}, not a FrameError`, { cause: err });
    }
    return "refused";
  } finally {
    // The decoder keeps working after whatever it was given.
    const after = decode(good);
    if (after.seq !== 7 || after.leading?.["k"] !== "v") {
      throw new Error(`decoder broken after input ${hex(b)}`);
    }
  }
  if (!Number.isSafeInteger(f.seq) || ![0, 1, 2, 3].includes(f.type)) {
    throw new Error(`input ${hex(b)} accepted with seq ${String(f.seq)} and type ${String(f.type)}`);
  }
  for (const md of [f.leading, f.trailing]) {
    if (md !== undefined && (typeof md !== "object" || md === null || Array.isArray(md))) {
      throw new Error(`input ${hex(b)} accepted with metadata ${String(md)}`);
    }
  }
  // What the client does with an ERROR frame must not throw either.
  const e = SwillError.fromWire(f.data, f.trailing);
  e.retryAfterMs();
  e.isValidation();
  return "ok";
}

// With SWILL_FUZZ_MS, the budget is shared out among the four properties.
const share = budgetMs > 0 ? Math.ceil(budgetMs / 4) : 0;
const timeout = share > 0 ? share + 60_000 : 20_000;

// run checks the cases gen makes: defaultCases of them, or as many as fit
// in this property's share of SWILL_FUZZ_MS.
async function run(
  name: string,
  gen: (r: Rand) => Uint8Array,
  maxBytes: number,
): Promise<{ cases: number; ok: number }> {
  const r = rng(seed);
  const decode = createFrameDecoder(maxBytes);
  const end = share > 0 ? Date.now() + share : 0;
  let cases = 0;
  let ok = 0;
  let pause = Date.now() + 200;
  while (end > 0 ? Date.now() < end : cases < defaultCases) {
    if (Date.now() > pause) {
      // A long run lets the test runner's own messages through.
      await new Promise((resolve) => setImmediate(resolve));
      pause = Date.now() + 200;
    }
    const b = gen(r);
    try {
      if (check(decode, b) === "ok") {
        ok++;
      }
    } catch (err: unknown) {
      throw new Error(`${name}, seed ${seed}, case ${cases}: ${(err as Error).message}`, { cause: err });
    }
    cases++;
  }
  if (share > 0) {
    console.log(`${name}: ${cases} cases in ${share} ms (seed ${seed}), ${ok} accepted`);
  }
  return { cases, ok };
}

describe("response frame decoder under hostile input", () => {
  const budget = async (gen: (r: Rand) => Uint8Array, maxBytes: number, name: string) => run(name, gen, maxBytes);

  it("random bytes: a frame or a FrameError, never anything else", { timeout }, async () => {
    const { cases } = await budget(randomBytes, 1 << 20, "random bytes");
    expect(cases).toBeGreaterThan(0);
  });

  it("random frames: mostly accepted, otherwise a FrameError", { timeout }, async () => {
    const { cases, ok } = await budget(
      (r) => new Uint8Array(encode(randomFrame(r), { useBigInt64: true })),
      1 << 20,
      "random frames",
    );
    // Most random frames follow the protocol; every case held the contract.
    expect(ok).toBeGreaterThan(cases / 3);
  });

  it("valid frames decode to their seq, type and metadata", () => {
    const r = rng(seed);
    const decode = createFrameDecoder(1 << 20);
    for (let i = 0; i < defaultCases; i++) {
      const seq = int(r, 2 ** 31);
      const type = int(r, 4);
      const leading = r() < 0.5 ? null : randomMap(r, 1);
      const trailing = r() < 0.5 ? null : randomMap(r, 1);
      const b = new Uint8Array(encode([seq, randomValue(r, 0), type, leading, trailing], { useBigInt64: true }));
      const f = decode(b);
      expect([f.seq, f.type], hex(b)).toEqual([seq, type]);
      expect(Object.keys(f.leading ?? {}).sort(), hex(b)).toEqual(Object.keys(leading ?? {}).sort());
      expect(Object.keys(f.trailing ?? {}).sort(), hex(b)).toEqual(Object.keys(trailing ?? {}).sort());
    }
  });

  it("mutated frames: a frame or a FrameError", { timeout }, async () => {
    const { cases } = await budget(
      (r) => mutate(r, new Uint8Array(encode(randomFrame(r), { useBigInt64: true }))),
      1 << 20,
      "mutated frames",
    );
    expect(cases).toBeGreaterThan(0);
  });

  it("frames near a small size limit", { timeout }, async () => {
    const { cases } = await budget(
      (r) => mutate(r, new Uint8Array(encode(randomFrame(r), { useBigInt64: true }))),
      24,
      "small limit",
    );
    expect(cases).toBeGreaterThan(0);
  });

  it("known hostile frames are refused", () => {
    const decode = createFrameDecoder(1 << 20);
    for (const h of [
      "dd ffffffff", // an array claiming 4 billion elements
      "95 01 db ffffffff", // a string claiming 4 GiB
      "95 01 c6 ffffffff", // binary claiming 4 GiB
      "95 01 c0 00 df ffffffff", // metadata claiming 4 billion keys
      "95 01 c0 00 81 a9 5f5f70726f746f5f5f 01", // __proto__ as a metadata key
      "95 01 c0 00 91 01", // metadata that is an array
      "95 cb 3ff8000000000000 c0 00", // a seq that is not an integer
      "95 01 c0 09", // an unknown type
      "95 01 d6 ff", // a truncated timestamp
    ]) {
      const b = new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
      expect(() => decode(b), h).toThrow(FrameError);
    }
  });
});
