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
  /** The ERROR frame's trailing metadata. */
  metadata?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The ERROR metadata key of a retry hint: the milliseconds to wait before
 * trying the call again, on this server after a 429 (too many requests),
 * or on another one after a 503 from a server shutting down (the client
 * reconnects by itself). See {@link SwillError.retryAfterMs}.
 */
export const RETRY_AFTER_KEY = "swill-retry-after-ms";

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
  /** The ERROR frame's trailing metadata, or undefined when it had none. */
  readonly metadata: Readonly<Record<string, unknown>> | undefined;

  constructor(code: number, message: string, options: SwillErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Keeps instanceof working when this class is compiled to ES5 by a bundler.
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
    this.data = options.data;
    this.remote = options.remote ?? false;
    this.metadata = options.metadata;
  }

  /**
   * retryAfterMs returns the server's retry hint ({@link RETRY_AFTER_KEY}
   * in the metadata, sent with 429 and 503), or undefined when there is
   * none.
   */
  retryAfterMs(): number | undefined {
    const v = this.metadata?.[RETRY_AFTER_KEY];
    if (typeof v === "number" && Number.isFinite(v) && v >= 0) {
      return v;
    }
    if (typeof v === "bigint" && v >= 0n) {
      return Number(v);
    }
    return undefined;
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
   * `{"code": int, "message": str, "data"?: any}`, with the frame's
   * trailing metadata. A payload of another
   * shape gives a 500 naming the problem.
   */
  static fromWire(payload: unknown, metadata?: Readonly<Record<string, unknown>>): SwillError {
    if (isRecord(payload) && Number.isInteger(payload["code"])) {
      const message = typeof payload["message"] === "string" ? payload["message"] : "";
      return new SwillError(payload["code"] as number, message, { data: payload["data"], remote: true, metadata });
    }
    return new SwillError(Code.Internal, "malformed ERROR frame from the server", {
      data: payload,
      remote: true,
      metadata,
    });
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
