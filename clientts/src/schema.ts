/**
 * The shape of a call: whether each side sends one message or a stream.
 * The names are those of swill-go's `rpc.Kind` and of introspection.
 */
export type MethodKind = "unary" | "server_stream" | "client_stream" | "bidi_stream";

/**
 * MethodSpec describes one method for the type checker: its kind, its
 * request (one message, or each item of the client's stream) and its
 * response (the result, or each item of the server's stream). It exists
 * only in types.
 */
export interface MethodSpec<K extends MethodKind = MethodKind, Req = unknown, Res = unknown> {
  readonly kind: K;
  readonly request: Req;
  readonly response: Res;
}

/** A method with one request and one response. */
export type Unary<Req, Res> = MethodSpec<"unary", Req, Res>;
/** A method with one request and a stream of responses. */
export type ServerStreaming<Req, Res> = MethodSpec<"server_stream", Req, Res>;
/** A method with a stream of requests and one response. */
export type ClientStreaming<Req, Res> = MethodSpec<"client_stream", Req, Res>;
/** A method with streams both ways. */
export type BidiStreaming<Req, Res> = MethodSpec<"bidi_stream", Req, Res>;

/**
 * Schema is what a service type must look like: every key a method name,
 * every value a {@link MethodSpec}. Interfaces work as well as type
 * aliases:
 *
 * ```ts
 * interface Demo {
 *   add: Unary<[number, number], number>;
 *   countdown: ServerStreaming<number, number>;
 * }
 * const client = new SwillClient<Demo>(url);
 * const three = await client.call("add", [1, 2]); // number
 * ```
 */
export type Schema<S> = { readonly [M in keyof S]: MethodSpec };

/**
 * Untyped is the schema of a client created without one: any method name,
 * any kind, `unknown` requests and responses.
 */
export type Untyped = Record<string, MethodSpec>;

/** The names of the methods of S that can be called as kind K. */
export type MethodsOf<S, K extends MethodKind> = {
  [M in keyof S]: S[M] extends MethodSpec<infer X, unknown, unknown> ? (K extends X ? M : never) : never;
}[keyof S] &
  string;

/** The request type of method M of S. */
export type RequestOf<S, M extends keyof S> = S[M] extends MethodSpec<MethodKind, infer Req, unknown> ? Req : never;

/** The response type of method M of S. */
export type ResponseOf<S, M extends keyof S> = S[M] extends MethodSpec<MethodKind, unknown, infer Res> ? Res : never;
