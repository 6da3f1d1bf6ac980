import { Decoder, Encoder } from "@msgpack/msgpack";

import { isRecord } from "./errors.js";

/**
 * Metadata is a set of key/value pairs that travels beside a call's
 * messages: request metadata from the client, leading and trailing
 * metadata from the server. Values are any MsgPack-encodable value.
 */
export type Metadata = Record<string, unknown>;

/** The type of a request frame (element 3 of `[seq, data, rpc, type, metadata]`). */
export const RequestType = {
  Message: 0,
  EndOfStream: 1,
  Metadata: 2,
  Cancel: 3,
} as const;
/** One of {@link RequestType}'s values. */
export type RequestType = (typeof RequestType)[keyof typeof RequestType];

/** The type of a response frame (element 2 of `[seq, data, type, leading, trailing]`). */
export const ResponseType = {
  Message: 0,
  EndOfStream: 1,
  Metadata: 2,
  Error: 3,
} as const;
/** One of {@link ResponseType}'s values. */
export type ResponseType = (typeof ResponseType)[keyof typeof ResponseType];

/** A decoded response frame. */
export interface ResponseFrame {
  readonly seq: number;
  readonly data: unknown;
  readonly type: ResponseType;
  readonly leading: Metadata | undefined;
  readonly trailing: Metadata | undefined;
}

// msgpack's defaults are what the protocol wants: integers in their
// smallest form, maps with string keys, undefined written as nil.
const encoder = new Encoder();

/**
 * encodeRequest writes one request frame exactly as the reference client
 * does: `[seq, data, rpc]` for a plain message, with `type` appended only
 * when it is not MESSAGE or metadata follows, and `metadata` appended only
 * when given (an empty map included).
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function encodeRequest(
  seq: number,
  data: unknown,
  rpc: string,
  type: RequestType = RequestType.Message,
  metadata?: Metadata,
): Uint8Array {
  const frame: unknown[] = [seq, data === undefined ? null : data, rpc];
  if (type !== RequestType.Message || metadata !== undefined) {
    frame.push(type);
  }
  if (metadata !== undefined) {
    frame.push(metadata);
  }
  return encoder.encode(frame);
}

/** FrameError is a response frame that does not follow the protocol. */
export class FrameError extends Error {
  override readonly name: string = "FrameError";
  /** The frame's sequence number, when it could be read. */
  readonly seq: number | undefined;

  constructor(message: string, seq?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    Object.setPrototypeOf(this, new.target.prototype);
    this.seq = seq;
  }
}

/**
 * createFrameDecoder returns a function that decodes response frames of at
 * most maxBytes bytes. No string, binary, array or map inside a frame can
 * be longer than the frame itself, so that also bounds what a hostile
 * length prefix can make the decoder allocate. Map keys `__proto__` are
 * refused by the decoder.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function createFrameDecoder(maxBytes: number): (bytes: Uint8Array) => ResponseFrame {
  const decoder = new Decoder({
    maxStrLength: maxBytes,
    maxBinLength: maxBytes,
    maxArrayLength: maxBytes,
    maxMapLength: maxBytes,
    maxExtLength: maxBytes,
  });
  return (bytes) => {
    if (bytes.byteLength > maxBytes) {
      throw new FrameError(`frame of ${bytes.byteLength} bytes is larger than the limit of ${maxBytes}`);
    }
    let v: unknown;
    try {
      v = decoder.decode(bytes);
    } catch (err: unknown) {
      throw new FrameError("frame is not valid MsgPack", undefined, err);
    }
    return parseResponse(v);
  };
}

/**
 * parseResponse checks a decoded response: an array of 2 to 5 elements
 * (elements after the 5th are ignored), an integer seq, a known type
 * (missing or nil means MESSAGE), metadata that is a map or nil.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function parseResponse(v: unknown): ResponseFrame {
  if (!Array.isArray(v)) {
    throw new FrameError("frame is not an array");
  }
  if (v.length < 2) {
    throw new FrameError(`frame has ${v.length} elements, want 2 to 5`);
  }
  const seq: unknown = v[0];
  if (typeof seq !== "number" || !Number.isSafeInteger(seq)) {
    throw new FrameError("frame seq is not an integer");
  }
  const type: unknown = v[2] ?? ResponseType.Message;
  if (type !== 0 && type !== 1 && type !== 2 && type !== 3) {
    throw new FrameError(`frame type ${String(type)} is unknown`, seq);
  }
  return {
    seq,
    data: v[1],
    type,
    leading: metadataAt(v, 3, seq),
    trailing: metadataAt(v, 4, seq),
  };
}

function metadataAt(v: unknown[], i: number, seq: number): Metadata | undefined {
  const md: unknown = v[i];
  if (md === undefined || md === null) {
    return undefined;
  }
  if (!isRecord(md)) {
    throw new FrameError(`frame element ${i} (metadata) is not a map`, seq);
  }
  return md;
}
