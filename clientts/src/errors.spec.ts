import { describe, expect, it } from "vitest";

import { Code, ConnectionError, RETRY_AFTER_KEY, SwillError } from "./errors.js";

describe("SwillError", () => {
  it("fromWire keeps code, message and data", () => {
    const data = { age: [{ description: "less than 13" }] };
    const e = SwillError.fromWire({ code: 422, message: "Validation Error", data });
    expect(e).toBeInstanceOf(SwillError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: "SwillError", code: 422, message: "Validation Error", data, remote: true });
    expect(e.isValidation()).toBe(true);
    expect(String(e)).toBe("SwillError: Validation Error");
  });

  it("fromWire without data or message", () => {
    const e = SwillError.fromWire({ code: 418 });
    expect(e).toMatchObject({ code: 418, message: "", data: undefined });
    expect(e.isValidation()).toBe(false);
  });

  it("fromWire of a malformed payload is a 500 that keeps it", () => {
    for (const payload of [null, "x", [1], { code: "418" }, { code: 1.5 }]) {
      const e = SwillError.fromWire(payload);
      expect(e.code).toBe(Code.Internal);
      expect(e.data).toEqual(payload);
    }
  });

  it("fromWire keeps the frame's metadata and its retry hint", () => {
    const e = SwillError.fromWire({ code: 429, message: "slow down" }, { [RETRY_AFTER_KEY]: 250 });
    expect(e.metadata).toEqual({ "swill-retry-after-ms": 250 });
    expect(e.retryAfterMs()).toBe(250);
    expect(SwillError.fromWire({ code: 503 }).retryAfterMs()).toBeUndefined();
    expect(SwillError.fromWire({ code: 503 }, { [RETRY_AFTER_KEY]: "soon" }).retryAfterMs()).toBeUndefined();
  });

  it("a local error has remote false and keeps its cause", () => {
    const cause = new Error("x");
    const e = new SwillError(Code.Timeout, "deadline exceeded", { cause });
    expect(e.remote).toBe(false);
    expect(e.cause).toBe(cause);
  });
});

describe("ConnectionError", () => {
  it("is distinct from SwillError", () => {
    const e = new ConnectionError("lost", { closeCode: 1006 });
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(SwillError);
    expect(e).toMatchObject({ name: "ConnectionError", closeCode: 1006, reason: "" });
  });
});
