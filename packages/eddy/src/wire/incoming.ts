/**
 * A request's parameters as the server receives them: every one a string of the query, to be
 * parsed and checked before use (the client sends `T`'s values as strings).
 *
 * @example
 * app.get<{ Querystring: Query<DeadLettersParams> }>("/v1/dlq/functions/:name", ...)
 */
export type Query<T> = { [K in keyof T]?: string };

/**
 * A JSON body as the server receives it: the members of `T`, each of any value until checked
 * (every input is hostile), or no body at all.
 *
 * @example
 * app.post<{ Body: Unchecked<DeadLetterSelection> }>("/v1/dlq/functions/:name/redrive", ...)
 */
export type Unchecked<T> = { [K in keyof T]?: unknown } | undefined;
