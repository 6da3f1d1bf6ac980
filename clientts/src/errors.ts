/**
 * Codes that swill servers use in ERROR frames. The protocol borrows HTTP
 * status numbers; a handler may send any other integer (418, for instance).
 */
export const Code = {
  /** Malformed frame, undecodable payload, protocol misuse. */
  BadRequest: 400,
  /** The caller is not authenticated. */
  Unauthorized: 401,
  /** The caller may not make this call. */
  Forbidden: 403,
  /** No handler has the requested name. */
  NotFound: 404,
  /** The call's deadline passed (on the server, or in this client). */
  Timeout: 408,
  /** The request failed validation; `data` holds the errors per field. */
  Validation: 422,
  /** A limit was reached (server: concurrent calls or queued items; client: buffered items). */
  TooManyRequests: 429,
  /** The handler failed unexpectedly. */
  Internal: 500,
  /** The handler exists but cannot serve this call. */
  InvalidRPC: 501,
  /** The server is shutting down. */
  Unavailable: 503,
} as const;

/** The error detail of one validation check: `{"description": "less than 13"}`. */
export interface FieldError {
  readonly description: string;
}

/** The errors of one element of a list field: `{"index": 2, "errors": [...]}`. */
export interface IndexedFieldErrors {
  readonly index: number;
  readonly errors: readonly (FieldError | IndexedFieldErrors)[];
}

/**
 * The `data` of a validation error (code 422): for each field, by its wire
 * name, the checks it failed, in order.
 */
export type ValidationErrorData = Readonly<Record<string, readonly (FieldError | IndexedFieldErrors)[]>>;

/** Options of {@link SwillError}'s constructor. */
export interface SwillErrorOptions {
  /** Extra detail; for a validation error, {@link ValidationErrorData}. */
  data?: unknown | undefined;
  /** The error that caused this one. */
  cause?: unknown | undefined;
  /** True when the error arrived in an ERROR frame from the server. Defaults to false. */
  remote?: boolean | undefined;
}

/**
 * SwillError is a call that failed with a code: either the server answered
 * with an ERROR frame (`remote` is true) or this client ended the call
 * itself (its deadline passed, its buffer overflowed, the server broke the
 * protocol).
 *
 * `message` is the server's message, unchanged. For a validation error
 * (code 422) `data` is a {@link ValidationErrorData}.
 */
export class SwillError extends Error {
  override readonly name: string = "SwillError";
  /** The HTTP-like code; see {@link Code}. */
  readonly code: number;
  /** The error's data, or undefined when it has none. */
  readonly data: unknown;
  /** True when the server sent this error, false when the client raised it. */
  readonly remote: boolean;

  constructor(code: number, message: string, options: SwillErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Keeps instanceof working when this class is compiled to ES5 by a bundler.
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
    this.data = options.data;
    this.remote = options.remote ?? false;
  }

  /**
   * isValidation reports whether this is a validation error (422); its
   * `data` is then the errors per field.
   */
  isValidation(): this is SwillError & { readonly data: ValidationErrorData } {
    return this.code === Code.Validation && isRecord(this.data);
  }

  /**
   * fromWire builds the error carried by an ERROR frame, whose data is
   * `{"code": int, "message": str, "data"?: any}`. A payload of another
   * shape gives a 500 naming the problem.
   */
  static fromWire(payload: unknown): SwillError {
    if (isRecord(payload) && Number.isInteger(payload["code"])) {
      const message = typeof payload["message"] === "string" ? payload["message"] : "";
      return new SwillError(payload["code"] as number, message, { data: payload["data"], remote: true });
    }
    return new SwillError(Code.Internal, "malformed ERROR frame from the server", { data: payload, remote: true });
  }
}

/** Options of {@link ConnectionError}'s constructor. */
export interface ConnectionErrorOptions {
  /** The WebSocket close code, when the socket was closed. */
  closeCode?: number | undefined;
  /** The WebSocket close reason, when one was given. */
  reason?: string | undefined;
  /** The error that caused this one. */
  cause?: unknown | undefined;
}

/**
 * ConnectionError is a call that could not complete because the
 * connection failed: it could not be opened, it was lost while the call
 * was open, or the client was closed. Whether the server ran the call is
 * unknown.
 */
export class ConnectionError extends Error {
  override readonly name: string = "ConnectionError";
  /** The WebSocket close code (1006 for an abnormal closure), if the socket closed. */
  readonly closeCode: number | undefined;
  /** The WebSocket close reason; empty when none was given. */
  readonly reason: string;

  constructor(message: string, options: ConnectionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Object.setPrototypeOf(this, new.target.prototype);
    this.closeCode = options.closeCode;
    this.reason = options.reason ?? "";
  }
}

/** @private Internal code, does not follow semantic versioning. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}
