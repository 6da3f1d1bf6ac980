/**
 * A client for swill/1 RPC servers over one WebSocket with MsgPack frames,
 * for browsers and Node 20+.
 *
 * Start with {@link connect} or {@link SwillClient}; calls are
 * {@link SwillClient.call}, {@link SwillClient.serverStream},
 * {@link SwillClient.clientStream} and {@link SwillClient.bidiStream}
 * (with `open...` variants fed by `send`/`end`). Failures are
 * {@link SwillError} (the call failed with a code) or
 * {@link ConnectionError} (the connection did). The reference client's
 * API is in the `./compat` entry point.
 *
 * @packageDocumentation
 */

// The client: connect, call, stream.
export { connect, SwillClient, SUBPROTOCOL } from "./client.js";
export type { ClientOptions, ConnectionState, StateChange } from "./client.js";
export type { CallOptions } from "./call.js";
export { TIMEOUT_KEY } from "./call.js";
export type { BidiStream, ClientStream, RequestStream, ResponseStream } from "./stream.js";
export type { ReconnectOptions } from "./backoff.js";

// Publish/subscribe, against a server that mounts swill-go's pubsub hub.
export { POSITION_EPOCH_KEY, POSITION_OFFSET_KEY, PubSubRPC, RECOVERED_KEY } from "./pubsub.js";
export type {
  ClientInfo,
  HistoryResult,
  PresenceEvent,
  Publication,
  StreamPosition,
  SubscribeOptions,
  Subscription,
  SubscriptionEvent,
  Unrecovered,
} from "./pubsub.js";

// Errors.
export { Code, ConnectionError, RETRY_AFTER_KEY, SwillError } from "./errors.js";
export type {
  ConnectionErrorOptions,
  FieldError,
  IndexedFieldErrors,
  SwillErrorOptions,
  ValidationErrorData,
} from "./errors.js";

// Typed schemas.
export type {
  BidiStreaming,
  ClientStreaming,
  MethodKind,
  MethodSpec,
  MethodsOf,
  RequestOf,
  ResponseOf,
  Schema,
  ServerStreaming,
  Unary,
  Untyped,
} from "./schema.js";

// The wire, for tools and tests that speak frames.
export { encodeRequest, RequestType, ResponseType } from "./frame.js";
export type { Metadata, ResponseFrame } from "./frame.js";
export type { WebSocketConstructor, WebSocketLike } from "./websocket.js";
