import { encode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";

import { frames, loadVector } from "../test/fixtures/vectors.js";
import { createFrameDecoder, encodeRequest, FrameError, parseResponse, RequestType, ResponseType } from "./frame.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));

describe("encodeRequest", () => {
  // Each case names the recorded frame it must equal, byte for byte.
  const cases: { vector: string; index: number; frame: () => Uint8Array }[] = [
    { vector: "add", index: 0, frame: () => encodeRequest(1, [1, 2], "add") },
    {
      vector: "add_with_metadata",
      index: 0,
      frame: () => encodeRequest(3, [3, 4], "add", RequestType.Message, { x: 1 }),
    },
    { vector: "boom", index: 0, frame: () => encodeRequest(1, null, "boom") },
    { vector: "boom", index: 0, frame: () => encodeRequest(1, undefined, "boom") },
    { vector: "countdown_3", index: 0, frame: () => encodeRequest(1, 3, "countdown") },
    {
      vector: "metadata_client",
      index: 0,
      frame: () => encodeRequest(1, null, "metadata", RequestType.Message, { a: 1 }),
    },
    { vector: "metadata_none", index: 0, frame: () => encodeRequest(1, null, "metadata") },
    {
      vector: "sum_metadata_first",
      index: 0,
      frame: () => encodeRequest(1, null, "sum", RequestType.Metadata, { m: 1 }),
    },
    { vector: "sum_metadata_first", index: 4, frame: () => encodeRequest(1, null, "sum", RequestType.EndOfStream) },
    { vector: "sum_stream", index: 2, frame: () => encodeRequest(1, 3, "sum") },
    {
      vector: "signup_valid",
      index: 0,
      frame: () => encodeRequest(1, { name: "Alice", email: "alice@example.com", age: 30 }, "signup"),
    },
    {
      vector: "echo_untyped_burst",
      index: 0,
      frame: () => encodeRequest(1, null, "echo_untyped", RequestType.Metadata, { trace: "t1" }),
    },
    { vector: "echo_untyped_bidi", index: 1, frame: () => encodeRequest(1, { k: [1, 2] }, "echo_untyped") },
  ];
  for (const c of cases) {
    it(`${c.vector} frame ${c.index}`, () => {
      expect(hex(c.frame())).toBe(frames(loadVector(c.vector), "send")[c.index]);
    });
  }

  it("the liveness probe's add, seq 9999", () => {
    const probe = loadVector("add").events.find((e) => e.phase === "liveness" && e.dir === "send");
    expect(hex(encodeRequest(9999, [20, 22], "add"))).toBe(probe?.hex);
  });

  it("CANCEL is [seq, nil, rpc, 3]", () => {
    expect(hex(encodeRequest(1, null, "sleep", RequestType.Cancel))).toBe("9401c0a5736c65657003");
  });

  it("an empty metadata map is sent, as the reference does", () => {
    expect(hex(encodeRequest(1, null, "sum", RequestType.Metadata, {}))).toBe("9501c0a373756d0280");
  });

  // Integers take their smallest MsgPack form, at every boundary.
  const ints: [number, string][] = [
    [0, "00"],
    [127, "7f"],
    [128, "cc80"],
    [255, "ccff"],
    [256, "cd0100"],
    [65_535, "cdffff"],
    [65_536, "ce00010000"],
    [4_294_967_295, "ceffffffff"],
    [4_294_967_296, "cf0000000100000000"],
    [-1, "ff"],
    [-32, "e0"],
    [-33, "d0df"],
    [-128, "d080"],
    [-129, "d1ff7f"],
    [-32_768, "d18000"],
    [-32_769, "d2ffff7fff"],
    [-2_147_483_648, "d280000000"],
    [-2_147_483_649, "d3ffffffff7fffffff"],
  ];
  for (const [n, want] of ints) {
    it(`integer ${n} encodes as ${want}, as seq and as data`, () => {
      expect(hex(encodeRequest(n, null, "x"))).toBe(`93${want}c0a178`);
      expect(hex(encodeRequest(1, n, "x"))).toBe(`9301${want}a178`);
    });
  }

  it("a fraction is a float64", () => {
    expect(hex(encodeRequest(1, 1.5, "x"))).toBe("9301cb3ff8000000000000a178");
  });
});

describe("parseResponse", () => {
  it("reads every recorded server frame", () => {
    for (const name of [
      "add",
      "boom",
      "countdown_3",
      "lead_2",
      "metadata_client",
      "signup_both",
      "echo_untyped_bidi",
    ]) {
      const decodeFrame = createFrameDecoder(1 << 20);
      for (const f of frames(loadVector(name), "recv")) {
        const r = decodeFrame(unhex(f));
        expect(r.seq).toBe(1);
      }
    }
  });

  it("splits a frame into its fields", () => {
    const decodeFrame = createFrameDecoder(1 << 20);
    expect(decodeFrame(unhex(frames(loadVector("metadata_client"), "recv")[0]!))).toEqual({
      seq: 1,
      data: { a: 1 },
      type: ResponseType.Message,
      leading: { hello: "world" },
      trailing: { bye: "world" },
    });
    expect(decodeFrame(unhex(frames(loadVector("countdown_3"), "recv")[3]!))).toEqual({
      seq: 1,
      data: null,
      type: ResponseType.EndOfStream,
      leading: undefined,
      trailing: { total: 3 },
    });
  });

  it("accepts 2 to 5 elements and ignores more", () => {
    expect(parseResponse([7, "x"])).toEqual({ seq: 7, data: "x", type: 0, leading: undefined, trailing: undefined });
    expect(parseResponse([7, "x", null])).toMatchObject({ type: 0 });
    expect(parseResponse([7, null, 2, { a: 1 }])).toMatchObject({ type: 2, leading: { a: 1 } });
    expect(parseResponse([7, null, 1, null, { t: 1 }, "extra"])).toMatchObject({ type: 1, trailing: { t: 1 } });
  });

  const bad: [string, unknown, number | undefined][] = [
    ["not an array", { seq: 1 }, undefined],
    ["one element", [1], undefined],
    ["a string seq", ["1", 2], undefined],
    ["a fractional seq", [1.5, 2], undefined],
    ["an unknown type", [1, 2, 4], 1],
    ["a string type", [1, 2, "0"], 1],
    ["leading metadata that is a list", [1, 2, 0, [1]], 1],
    ["trailing metadata that is a string", [1, 2, 0, null, "t"], 1],
    ["trailing metadata that is bytes", [1, 2, 0, null, new Uint8Array([1])], 1],
  ];
  for (const [what, frame, seq] of bad) {
    it(`rejects ${what}`, () => {
      let err: unknown;
      try {
        parseResponse(frame);
      } catch (e: unknown) {
        err = e;
      }
      expect(err).toBeInstanceOf(FrameError);
      expect((err as FrameError).seq).toBe(seq);
    });
  }
});

describe("createFrameDecoder", () => {
  it("refuses __proto__ keys and leaves Object.prototype alone", () => {
    const decodeFrame = createFrameDecoder(1 << 20);
    // [1, {"__proto__": {"polluted": true}}, 0, nil, nil]
    const frame = unhex("95 01 81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 c3 00 c0 c0");
    expect(() => decodeFrame(frame)).toThrow(FrameError);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    // The decoder still works afterwards.
    expect(decodeFrame(unhex("95010300c0c0")).data).toBe(3);
  });

  it("refuses frames above its limit and length prefixes beyond the frame", () => {
    const decodeFrame = createFrameDecoder(64);
    expect(() => decodeFrame(encode([1, "x".repeat(100), 0]))).toThrow(/larger than the limit/);
    // An array claiming 2^32-1 elements in a 9-byte frame.
    expect(() => decodeFrame(unhex("95 01 dd ffffffff 00 c0 c0"))).toThrow(FrameError);
    // A string claiming 1000 bytes.
    expect(() => decodeFrame(unhex("95 01 da 03e8 00 c0 c0"))).toThrow(FrameError);
  });

  it("refuses bytes that are not MsgPack", () => {
    const decodeFrame = createFrameDecoder(64);
    expect(() => decodeFrame(unhex("c1"))).toThrow(FrameError);
    expect(() => decodeFrame(unhex(""))).toThrow(FrameError);
    expect(() => decodeFrame(unhex("95 01 03 00 c0 c0 ff"))).toThrow(FrameError); // trailing bytes
  });
});
