import type pg from "pg";

/**
 * Versioned schema migrations of the PostgreSQL side, applied in order at start; the
 * `schema_migrations` table records the applied ones. Never edit a released migration: append one.
 *
 * Times are epoch milliseconds in `bigint` columns, like the embedded store, and expiry is judged
 * by PostgreSQL's clock (`now_ms()`), the one clock every node shares.
 */
const MIGRATIONS: string[] = [
  `
  CREATE FUNCTION now_ms() RETURNS bigint LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
  -- source+id of accepted events -> their log sequence, for the dedup window.
  CREATE TABLE dedup (
    key text PRIMARY KEY,
    seq bigint NOT NULL,
    expires_at bigint NOT NULL
  );
  CREATE INDEX dedup_expiry ON dedup (expires_at);
  CREATE TABLE invocations (
    id text PRIMARY KEY,
    fn text NOT NULL,
    version text NOT NULL,
    delivery_id text NOT NULL,
    event_id text NOT NULL,
    event_source text NOT NULL,
    event_type text NOT NULL,
    attempt integer NOT NULL,
    status text NOT NULL,
    outcome text NOT NULL,
    started_at bigint NOT NULL,
    duration_ms double precision NOT NULL,
    error text,
    logs text NOT NULL,
    logs_truncated boolean NOT NULL DEFAULT false,
    skip_reason text,
    batch text,
    trace_id text,
    span_id text,
    parent_span_id text,
    cold_start boolean NOT NULL DEFAULT false,
    memory_mb integer,
    billed_ms integer
  );
  CREATE INDEX invocations_trace ON invocations (trace_id) WHERE trace_id IS NOT NULL;
  CREATE INDEX invocations_fn ON invocations (fn, started_at DESC, id DESC);
  CREATE INDEX invocations_started ON invocations (started_at DESC, id DESC);
  CREATE INDEX invocations_delivery ON invocations (delivery_id);
  -- Deliveries parked in a function's dead-letter queue (JetStream has acked them).
  CREATE TABLE dead_letters (
    id text PRIMARY KEY,
    fn text NOT NULL,
    event_seq bigint NOT NULL,
    event_type text NOT NULL,
    event text NOT NULL,
    attempts integer NOT NULL,
    redrives integer NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    dead_at bigint NOT NULL,
    error text NOT NULL
  );
  CREATE INDEX dead_letters_fn ON dead_letters (fn, event_seq);
  -- Deliveries not due yet (delayed, released to a later time, debounced): JetStream 2.9 cannot
  -- hold a message back, so they wait here and any node publishes them to the work stream when due.
  CREATE TABLE scheduled (
    id text PRIMARY KEY,
    fn text NOT NULL,
    due_at bigint NOT NULL,
    -- debounce: due no later than this, however many events arrive (first event + maxWait)
    max_due bigint,
    debounce_key text,
    body text NOT NULL
  );
  CREATE INDEX scheduled_due ON scheduled (due_at);
  CREATE INDEX scheduled_fn ON scheduled (fn, due_at);
  CREATE UNIQUE INDEX scheduled_debounce ON scheduled (fn, debounce_key) WHERE debounce_key IS NOT NULL;
  -- The spans of traced events (their bodies stay in the JetStream log), for log.byTrace/traceOf.
  CREATE TABLE event_traces (
    seq bigint PRIMARY KEY,
    event_id text NOT NULL,
    trace_id text NOT NULL,
    span_id text NOT NULL,
    parent_span_id text
  );
  CREATE INDEX event_traces_trace ON event_traces (trace_id, seq);
  CREATE INDEX event_traces_event ON event_traces (event_id, seq);
  CREATE TABLE kv (
    ns text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    version bigint NOT NULL,
    expires_at bigint,
    PRIMARY KEY (ns, key)
  );
  `,
  // What a handler returned (an HTTP function's response), bounded by the engine.
  `
  ALTER TABLE invocations ADD COLUMN result text, ADD COLUMN result_truncated boolean NOT NULL DEFAULT false;
  `,
];

/** Brings the schema to the newest version; safe when several nodes start at once. */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // One node migrates at a time; the others wait, then find nothing left to do.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`eddy-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${schema}.schema_migrations`,
    );
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `[cluster] PostgreSQL schema ${schema} has version ${current}, newer than this Eddy (${MIGRATIONS.length}); upgrade Eddy`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v]!);
      await client.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [v + 1]);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
