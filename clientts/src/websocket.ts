/**
 * WebSocketLike is the part of the standard WebSocket that the client
 * uses. Browsers' `WebSocket`, Node 22's global `WebSocket` and the `ws`
 * package's `WebSocket` all have it.
 */
export interface WebSocketLike {
  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readonly readyState: number;
  /** The subprotocol the server chose. */
  readonly protocol: string;
  /** Set to "arraybuffer" by the client. */
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // Method syntax on purpose: implementations type their listeners with
  // their own event classes, and method parameters compare bivariantly.
  addEventListener(type: "open" | "error", listener: (event: unknown) => void): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void,
  ): void;
}

/**
 * WebSocketConstructor is a WebSocket class: `globalThis.WebSocket` in
 * browsers and Node 22+, `WebSocket` from the `ws` package in Node 20.
 * To set headers or other options of `ws`, pass a subclass:
 *
 * ```ts
 * class AuthWebSocket extends WebSocket {
 *   constructor(url: string, protocols?: string | string[]) {
 *     super(url, protocols, { headers: { authorization: `Bearer ${token}` } });
 *   }
 * }
 * ```
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The readyState of an open WebSocket. */
export const OPEN = 1;
