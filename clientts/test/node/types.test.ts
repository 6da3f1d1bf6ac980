import { WebSocket as WsWebSocket } from "ws";
import { describe, expectTypeOf, it } from "vitest";

import type {
  BidiStream,
  ClientStream,
  Metadata,
  ResponseStream,
  SwillClient,
  Untyped,
  WebSocketConstructor,
} from "../../src/index.js";
import type { Demo } from "./helpers.js";

// Compile-time checks: `npm run typecheck` fails if these types drift.
// Each function below is only type-checked, never called.

describe("types", () => {
  it("a schema types requests and responses, per kind", () => {
    expectTypeOf<SwillClient<Demo>["call"]>().toBeFunction();
    const typed = (c: SwillClient<Demo>) => {
      expectTypeOf(c.call("add", [1, 2])).toEqualTypeOf<Promise<number>>();
      expectTypeOf(c.call("signup", { name: "a", email: "b", age: 1 })).toEqualTypeOf<
        Promise<{ id: string; name: string }>
      >();
      expectTypeOf(c.serverStream("countdown", 3)).toEqualTypeOf<ResponseStream<number>>();
      expectTypeOf(c.clientStream("sum", [1, 2])).toEqualTypeOf<Promise<number>>();
      expectTypeOf(c.openClientStream("sum")).toEqualTypeOf<ClientStream<number, number>>();
      expectTypeOf(c.openBidiStream("echo")).toEqualTypeOf<BidiStream<unknown, unknown>>();
      expectTypeOf(c.call("metadata", null)).toEqualTypeOf<Promise<Metadata>>();
      // Options accept explicit undefined, for callers with exactOptionalPropertyTypes.
      const signal: AbortSignal | undefined = undefined;
      void c.call("add", [1, 2], { signal, timeoutMs: undefined, metadata: undefined });
      // @ts-expect-error countdown is a server stream, not unary
      void c.call("countdown", 3);
      // @ts-expect-error add takes two numbers
      void c.call("add", ["1", 2]);
      // @ts-expect-error no such method
      void c.call("nope", 1);
      // @ts-expect-error sum streams numbers
      void c.clientStream("sum", ["x"]);
    };
    void typed;
  });

  it("without a schema anything goes and responses are unknown", () => {
    const untyped = (c: SwillClient<Untyped>) => {
      expectTypeOf(c.call("anything", { x: 1 })).toEqualTypeOf<Promise<unknown>>();
      expectTypeOf(c.serverStream("s", 1)).toEqualTypeOf<ResponseStream<unknown>>();
    };
    void untyped;
  });

  it("the browser's and the ws package's WebSocket fit WebSocketConstructor", () => {
    expectTypeOf<typeof globalThis.WebSocket>().toMatchTypeOf<WebSocketConstructor>();
    expectTypeOf(WsWebSocket).toMatchTypeOf<WebSocketConstructor>();
  });
});
