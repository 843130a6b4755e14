import type pg from "pg";
import { inTransaction } from "./transaction.js";
import { StoreTooNewError } from "@eddy/server";

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
  // The table lane (see table-lane.ts): deliveries that carry flow-control keys, and every queue's.
  // Leasing, settling and cancelling are fenced by the row's lease token; `done` rows stay as
  // tombstones for the work stream's duplicate window, so that a repeated append does not run a
  // finished delivery again. Bundles of deployed versions, shared by the nodes.
  `
  CREATE SEQUENCE deliveries_n;
  CREATE TABLE deliveries (
    id text PRIMARY KEY,
    -- Insertion order: FIFO groups and batches follow it.
    n bigint NOT NULL DEFAULT nextval('deliveries_n'),
    fn text NOT NULL,
    -- 0 ready (due at due_at), 1 leased (the lease ends at due_at), 2 done (a tombstone).
    -- Keeping the lease end in due_at lets one index answer both "due" and "lease expired".
    state smallint NOT NULL DEFAULT 0,
    due_at bigint NOT NULL,
    attempt integer NOT NULL DEFAULT 0,
    lease_token text,
    event_seq bigint NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    event text NOT NULL,
    created_at bigint NOT NULL,
    redrives integer NOT NULL DEFAULT 0,
    group_key text,
    priority integer NOT NULL DEFAULT 0,
    cancel_key text,
    batch_key text,
    debounce_key text,
    -- debounce: due no later than this, however many events arrive (first event + maxWait)
    max_due bigint,
    done_at bigint
  );
  CREATE INDEX deliveries_due ON deliveries (fn, due_at, n) WHERE state < 2;
  CREATE INDEX deliveries_group ON deliveries (fn, group_key, n) WHERE group_key IS NOT NULL AND state < 2;
  CREATE INDEX deliveries_cancel ON deliveries (fn, cancel_key) WHERE cancel_key IS NOT NULL AND state = 0;
  CREATE INDEX deliveries_debounce ON deliveries (fn, debounce_key) WHERE debounce_key IS NOT NULL AND state = 0;
  CREATE INDEX deliveries_leased ON deliveries (due_at) WHERE state = 1;
  CREATE INDEX deliveries_done ON deliveries (done_at) WHERE state = 2;
  -- The flow-control keys of a dead letter from the table lane (JSON), so that a redrive puts it
  -- back there; NULL for deliveries of the work stream.
  ALTER TABLE dead_letters ADD COLUMN lane text;
  CREATE TABLE bundles (
    name text PRIMARY KEY,
    code bytea NOT NULL,
    created_at bigint NOT NULL DEFAULT now_ms()
  );
  -- What the lease functions hand back: the leased rows, in the order they were picked.
  CREATE TYPE leased_row AS (
    id text, ord bigint, attempt integer, event_seq bigint, event text, created_at bigint,
    group_key text, redrives integer, due_at bigint
  );
  -- Leases with groups (per-group limits, FIFO heads) and priority, as the embedded store does.
  -- One such lease of a function at a time, cluster-wide (an advisory lock): counting a group's
  -- leases and taking more must not interleave with another node doing the same. The function is
  -- VOLATILE, so the statement after the lock takes a new snapshot and sees what the previous
  -- holder of the lock committed.
  CREATE FUNCTION lease_flow(p_fn text, p_max integer, p_lease_ms bigint, p_token text,
      p_per_group integer, p_ordered boolean, p_by_priority boolean)
    RETURNS SETOF leased_row LANGUAGE plpgsql VOLATILE AS $$
  DECLARE t bigint;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || ':lease:' || p_fn));
    t := now_ms();
    RETURN QUERY
    WITH live AS (
      SELECT d.group_key, count(*)::int AS held FROM deliveries d
      WHERE d.fn = p_fn AND d.state = 1 AND d.due_at > t AND d.group_key IS NOT NULL
      GROUP BY d.group_key
    ), heads AS (
      SELECT DISTINCT ON (d.group_key) d.id FROM deliveries d
      WHERE p_ordered AND d.fn = p_fn AND d.state < 2 AND d.group_key IS NOT NULL
      ORDER BY d.group_key, d.n
    ), cand AS (
      -- FIFO: only group heads (and, with priority, ungrouped deliveries) can run.
      SELECT d.id, d.group_key, d.priority, d.due_at, d.n FROM deliveries d
      WHERE d.fn = p_fn AND d.state < 2 AND d.due_at <= t
        AND (NOT p_ordered OR (d.group_key IS NULL AND p_by_priority) OR d.id IN (SELECT h.id FROM heads h))
      ORDER BY CASE WHEN p_by_priority THEN d.priority END DESC, d.due_at, d.n
      LIMIT 5000
    ), ranked AS (
      SELECT c.id, c.group_key, c.priority, c.due_at, c.n,
        row_number() OVER (PARTITION BY c.group_key
          ORDER BY CASE WHEN p_by_priority THEN c.priority END DESC, c.due_at, c.n) AS k
      FROM cand c
    ), picked AS (
      SELECT r.id, row_number() OVER (
          ORDER BY CASE WHEN p_by_priority THEN r.priority END DESC, r.due_at, r.n) AS ord
      FROM ranked r LEFT JOIN live l ON l.group_key = r.group_key
      WHERE r.group_key IS NULL OR r.k + coalesce(l.held, 0) <= p_per_group
      ORDER BY 2 LIMIT p_max
    )
    UPDATE deliveries d SET state = 1, attempt = d.attempt + 1, lease_token = p_token, due_at = t + p_lease_ms
    FROM picked p WHERE d.id = p.id
    RETURNING d.id, p.ord, d.attempt, d.event_seq, d.event, d.created_at, d.group_key, d.redrives, d.due_at;
  END $$;
  -- One batch: the batch key (NULL counts as '') whose due deliveries fill a batch, or whose oldest
  -- has waited the window, oldest first; up to p_max of its deliveries in insertion order.
  CREATE FUNCTION lease_batch(p_fn text, p_max integer, p_lease_ms bigint, p_window_ms bigint, p_token text)
    RETURNS SETOF leased_row LANGUAGE plpgsql VOLATILE AS $$
  DECLARE t bigint; k text;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || ':lease:' || p_fn));
    t := now_ms();
    SELECT coalesce(d.batch_key, '') INTO k FROM deliveries d
    WHERE d.fn = p_fn AND d.state < 2 AND d.due_at <= t
    GROUP BY coalesce(d.batch_key, '')
    HAVING count(*) >= p_max OR min(d.due_at) <= t - p_window_ms
    ORDER BY min(d.due_at) LIMIT 1;
    IF NOT FOUND THEN RETURN; END IF;
    RETURN QUERY
    WITH picked AS (
      SELECT d.id, row_number() OVER (ORDER BY d.n) AS ord FROM deliveries d
      WHERE d.fn = p_fn AND coalesce(d.batch_key, '') = k AND d.state < 2 AND d.due_at <= t
      ORDER BY d.n LIMIT p_max
    )
    UPDATE deliveries d SET state = 1, attempt = d.attempt + 1, lease_token = p_token, due_at = t + p_lease_ms
    FROM picked p WHERE d.id = p.id
    RETURNING d.id, p.ord, d.attempt, d.event_seq, d.event, d.created_at, d.group_key, d.redrives, d.due_at;
  END $$;
  `,
  // What a handler returned (an HTTP function's response), bounded by the engine.
  `
  ALTER TABLE invocations ADD COLUMN result text, ADD COLUMN result_truncated boolean NOT NULL DEFAULT false;
  `,
  // Usage of requests that keep no record (successful sync HTTP requests), per function and minute.
  `
  CREATE TABLE metered_usage (
    fn text NOT NULL,
    minute bigint NOT NULL,
    invocations bigint NOT NULL,
    billed_ms bigint NOT NULL,
    mb_ms bigint NOT NULL,
    PRIMARY KEY (fn, minute)
  );
  `,
  // Node heartbeats (heartbeat.ts): one row per running node, with the stream-lane leases it holds.
  `
  CREATE TABLE nodes (
    instance text PRIMARY KEY,
    node text NOT NULL,
    seen_at bigint NOT NULL,
    leases jsonb NOT NULL DEFAULT '[]'
  );
  `,
  // Key-value reads by prefix, in byte order (KeyValue.list): the same order as the embedded store's.
  `
  CREATE INDEX kv_bytes ON kv (ns, key COLLATE "C");
  `,
  // What a succeeded attempt published (event types, queues, JSON arrays), for the choreography
  // map; the partial index serves its window query without reading the records that published nothing.
  `
  ALTER TABLE invocations ADD COLUMN emits text, ADD COLUMN sends text;
  CREATE INDEX invocations_emitted ON invocations (started_at DESC, id DESC) WHERE emits IS NOT NULL OR sends IS NOT NULL;
  `,
  // The workflow journal (journal.ts), as the embedded store's: due_at is a suspended run's due time
  // or a leased run's lease end; NULL for a run only a wake resumes and for finished runs.
  `
  CREATE TABLE runs (
    n bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    workflow text NOT NULL,
    version text NOT NULL,
    status text NOT NULL,
    event text NOT NULL,
    event_seq bigint NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    ended_at bigint,
    output text,
    error text,
    due_at bigint,
    lease_token text,
    woken boolean NOT NULL DEFAULT false,
    failures integer NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_due ON runs (workflow, due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX runs_workflow ON runs (workflow, n);
  CREATE INDEX runs_status ON runs (status, n);
  CREATE TABLE run_steps (
    run_id text NOT NULL,
    id text NOT NULL,
    idx integer NOT NULL,
    body text NOT NULL,
    wait_type text,
    PRIMARY KEY (run_id, id)
  );
  CREATE INDEX run_steps_wait ON run_steps (wait_type) WHERE wait_type IS NOT NULL;
  `,
  // The outbox (outbox.ts): JetStream messages committed with the PostgreSQL write they belong to,
  // published after the commit with their id as Nats-Msg-Id, and deleted once published.
  `
  CREATE TABLE outbox (
    id text PRIMARY KEY,
    subject text NOT NULL,
    body text NOT NULL,
    created_at bigint NOT NULL DEFAULT now_ms()
  );
  CREATE INDEX outbox_created ON outbox (created_at);
  `,
];

/** Brings the schema to the newest version; safe when several nodes start at once. */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  await inTransaction(pool, async (client) => {
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
      throw new StoreTooNewError(`[cluster] PostgreSQL schema ${schema}`, current, MIGRATIONS.length);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v]!);
      await client.query(`INSERT INTO ${schema}.schema_migrations (version) VALUES ($1)`, [v + 1]);
    }
  });
}
