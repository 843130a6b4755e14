import type Database from "better-sqlite3";
import { StoreTooNewError } from "../../errors/start.js";

/**
 * Versioned schema migrations, applied in order at open; `PRAGMA user_version` records the last one.
 * Never edit a released migration: append a new one.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE TABLE dedup (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX dedup_expiry ON dedup (expires_at);
  -- state: 0 ready (due at due_at), 1 leased (lease ends at due_at), 2 dead-lettered.
  -- Keeping the lease end in due_at lets one index serve both "due" and "lease expired".
  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    fn TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    lease_token TEXT,
    created_at INTEGER NOT NULL,
    dead_at INTEGER,
    last_error TEXT
  );
  CREATE INDEX deliveries_due ON deliveries (fn, due_at, id) WHERE state < 2;
  CREATE INDEX deliveries_dead ON deliveries (fn, dead_at, id) WHERE state = 2;
  CREATE TABLE invocations (
    id TEXT PRIMARY KEY,
    fn TEXT NOT NULL,
    version TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    error TEXT,
    logs TEXT NOT NULL,
    logs_truncated INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX invocations_fn ON invocations (fn, started_at);
  CREATE INDEX invocations_delivery ON invocations (delivery_id);
  CREATE TABLE kv (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (ns, key)
  ) WITHOUT ROWID;
  `,
  // Redrive counts, flow-control keys and priority; skipped and batch invocations. Every index is
  // partial on its key, so functions that do not use a feature pay nothing for it on the hot path.
  `
  ALTER TABLE deliveries ADD COLUMN redrives INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE deliveries ADD COLUMN group_key TEXT;
  ALTER TABLE deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE deliveries ADD COLUMN cancel_key TEXT;
  ALTER TABLE deliveries ADD COLUMN batch_key TEXT;
  ALTER TABLE deliveries ADD COLUMN debounce_key TEXT;
  CREATE INDEX deliveries_group ON deliveries (fn, group_key, id) WHERE group_key IS NOT NULL AND state < 2;
  CREATE INDEX deliveries_cancel ON deliveries (fn, cancel_key) WHERE cancel_key IS NOT NULL AND state = 0;
  CREATE INDEX deliveries_debounce ON deliveries (fn, debounce_key) WHERE debounce_key IS NOT NULL AND state = 0;
  ALTER TABLE invocations ADD COLUMN skip_reason TEXT;
  ALTER TABLE invocations ADD COLUMN batch TEXT;
  `,
  // Tracing and metering.
  `
  ALTER TABLE events ADD COLUMN trace_id TEXT;
  ALTER TABLE events ADD COLUMN span_id TEXT;
  ALTER TABLE events ADD COLUMN parent_span_id TEXT;
  CREATE INDEX events_trace ON events (trace_id) WHERE trace_id IS NOT NULL;
  CREATE INDEX events_id ON events (id);
  ALTER TABLE invocations ADD COLUMN trace_id TEXT;
  ALTER TABLE invocations ADD COLUMN span_id TEXT;
  ALTER TABLE invocations ADD COLUMN parent_span_id TEXT;
  ALTER TABLE invocations ADD COLUMN cold_start INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE invocations ADD COLUMN memory_mb INTEGER;
  ALTER TABLE invocations ADD COLUMN billed_ms INTEGER;
  CREATE INDEX invocations_trace ON invocations (trace_id) WHERE trace_id IS NOT NULL;
  CREATE INDEX invocations_started ON invocations (started_at);
  `,
  // An index on event ids (random UUIDs, mostly) cost ~20% of ingest throughput in page writes;
  // an event's trace is found by source + id (the dedup key), or among recent events.
  `
  DROP INDEX events_id;
  `,
  // What a handler returned (an HTTP function's response), bounded by the engine.
  `
  ALTER TABLE invocations ADD COLUMN result TEXT;
  ALTER TABLE invocations ADD COLUMN result_truncated INTEGER NOT NULL DEFAULT 0;
  `,
  // An attempt that continues its event's span links to the event instead of repeating its trace
  // id and span (see EmbeddedRecords): smaller rows and a small integer index, where the trace
  // columns and their index were most of what tracing cost.
  `
  ALTER TABLE invocations ADD COLUMN event_seq INTEGER;
  CREATE INDEX invocations_event ON invocations (event_seq) WHERE event_seq IS NOT NULL;
  `,
  // Usage of requests that keep no record (successful sync HTTP requests), per function and minute.
  `
  CREATE TABLE metered_usage (
    fn TEXT NOT NULL,
    minute INTEGER NOT NULL,
    invocations INTEGER NOT NULL,
    billed_ms INTEGER NOT NULL,
    mb_ms INTEGER NOT NULL,
    PRIMARY KEY (fn, minute)
  ) WITHOUT ROWID;
  `,
  // Delivery ids are never reused. A plain INTEGER PRIMARY KEY takes max(id) + 1, so once the
  // newest deliveries were acked (deleted) the next ones got their ids again, and with them their
  // invocation history (a dead letter showed other events' attempts). AUTOINCREMENT keeps the
  // highest id ever given in sqlite_sequence: ids only grow, in the order deliveries were made,
  // which FIFO groups rely on. Seeded past every id the invocation records still name.
  `
  CREATE TABLE deliveries_v7 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fn TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    lease_token TEXT,
    created_at INTEGER NOT NULL,
    dead_at INTEGER,
    last_error TEXT,
    redrives INTEGER NOT NULL DEFAULT 0,
    group_key TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    cancel_key TEXT,
    batch_key TEXT,
    debounce_key TEXT
  );
  INSERT INTO deliveries_v7 (id, fn, event_seq, state, due_at, attempt, lease_token, created_at, dead_at,
    last_error, redrives, group_key, priority, cancel_key, batch_key, debounce_key)
  SELECT id, fn, event_seq, state, due_at, attempt, lease_token, created_at, dead_at,
    last_error, redrives, group_key, priority, cancel_key, batch_key, debounce_key FROM deliveries;
  DROP TABLE deliveries;
  ALTER TABLE deliveries_v7 RENAME TO deliveries;
  CREATE INDEX deliveries_due ON deliveries (fn, due_at, id) WHERE state < 2;
  CREATE INDEX deliveries_dead ON deliveries (fn, dead_at, id) WHERE state = 2;
  CREATE INDEX deliveries_group ON deliveries (fn, group_key, id) WHERE group_key IS NOT NULL AND state < 2;
  CREATE INDEX deliveries_cancel ON deliveries (fn, cancel_key) WHERE cancel_key IS NOT NULL AND state = 0;
  CREATE INDEX deliveries_debounce ON deliveries (fn, debounce_key) WHERE debounce_key IS NOT NULL AND state = 0;
  INSERT INTO sqlite_sequence (name, seq)
  SELECT 'deliveries', coalesce(max(CAST(delivery_id AS INTEGER)), 0) FROM invocations
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'deliveries');
  UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(CAST(delivery_id AS INTEGER)), 0) FROM invocations))
  WHERE name = 'deliveries';
  `,
  // What a succeeded attempt published (event types, queues), for the choreography map; the
  // partial index serves its window query without reading the records that published nothing.
  `
  ALTER TABLE invocations ADD COLUMN emits TEXT;
  ALTER TABLE invocations ADD COLUMN sends TEXT;
  CREATE INDEX invocations_emitted ON invocations (started_at, id) WHERE emits IS NOT NULL OR sends IS NOT NULL;
  `,
  // The workflow journal (backends/primitives/journal.ts). due_at: when a suspended run is due, or
  // the end of a leased run's lease; NULL for a run that only a wake resumes, and for finished runs.
  `
  CREATE TABLE runs (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    workflow TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    event TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER,
    output TEXT,
    error TEXT,
    due_at INTEGER,
    lease_token TEXT,
    woken INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_due ON runs (workflow, due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX runs_workflow ON runs (workflow, n);
  CREATE INDEX runs_status ON runs (status, n);
  CREATE TABLE run_steps (
    run_id TEXT NOT NULL,
    id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    body TEXT NOT NULL,
    wait_type TEXT,
    PRIMARY KEY (run_id, id)
  ) WITHOUT ROWID;
  CREATE INDEX run_steps_wait ON run_steps (wait_type) WHERE wait_type IS NOT NULL;
  `,
];

/**
 * Brings the database to the newest schema (or to version `upTo`, for tests of an upgrade) inside
 * one transaction.
 */
export function migrate(db: Database.Database, upTo = MIGRATIONS.length): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreTooNewError("[embedded] the data file", current, MIGRATIONS.length);
  }
  db.transaction(() => {
    for (let v = current; v < upTo; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  })();
}
