// The client: connect, call, stream.
export { connect, SwillClient, SUBPROTOCOL } from "./client.js";
export type { ClientOptions, ConnectionState, StateChange } from "./client.js";
export type { CallOptions } from "./call.js";
export { TIMEOUT_KEY } from "./call.js";
export type { BidiStream, ClientStream, RequestStream, ResponseStream } from "./stream.js";
export type { ReconnectOptions } from "./backoff.js";

// Errors.
export { Code, ConnectionError, SwillError } from "./errors.js";
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
