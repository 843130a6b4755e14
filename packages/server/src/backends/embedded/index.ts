import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Clock } from "../../clock/clock.js";
import { realClock } from "../../clock/clock.js";
import type { Backend } from "../types.js";
import { GroupCommit } from "./group-commit.js";
import { EmbeddedDeadLetters } from "./dead-letters.js";
import { EmbeddedJournal, releaseRunLeases } from "./journal.js";
import { EmbeddedKeyValue } from "./kv.js";
import { EmbeddedLog } from "./log.js";
import { EmbeddedQueue } from "./queue.js";
import { EmbeddedRecords } from "./records.js";
import { EmbeddedTraces } from "./traces.js";
import { migrate } from "./schema.js";
import { StoreInUseError } from "../../errors/start.js";

/** Options of the embedded (SQLite) backend. */
export interface EmbeddedOptions {
  /** Path of the SQLite file, e.g. `<app>/.eddy/eddy.db`. */
  path: string;
  /**
   * "full" (default): every commit is fsynced (WAL + synchronous=FULL), so an acknowledged event
   * survives power loss as well as a killed process. "process": commits reach the OS but are not
   * fsynced (synchronous=NORMAL): they survive `kill -9` of Eddy, not a power cut; faster on slow disks.
   */
  durability?: "full" | "process";
  /** Largest number of writes in one group commit. */
  maxBatch?: number;
  /**
   * Under load, hold a commit back until this long (ms) after the previous one so that more writes
   * share it: more throughput, more latency. Default 0 (commit on the next turn of the event loop).
   */
  commitWindowMs?: number;
  /** Where lease ends, due times, expiry and dedup windows are read from. Default: the real clock. */
  clock?: Clock;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Opens the embedded backend: one SQLite file, WAL, one writer with group commit.
 *
 * The file is opened in exclusive locking mode, so a second Eddy process on the same folder fails
 * fast instead of corrupting leases; and because nobody else can hold a lease, every lease left
 * by a previous (crashed) process is released at open, which makes recovery immediate.
 *
 * @example
 * const backend = openEmbeddedBackend({ path: ".eddy/eddy.db" });
 */
export function openEmbeddedBackend(options: EmbeddedOptions): Backend {
  const clock = options.clock ?? realClock;
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.durability === "process" ? "NORMAL" : "FULL"}`);
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("busy_timeout = 0");
    migrate(db); // the first write takes the exclusive lock
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") {
      throw new StoreInUseError(options.path, { cause: err });
    }
    throw err;
  }
  db.prepare("UPDATE deliveries SET state = 0, due_at = ?, lease_token = NULL WHERE state = 1").run(
    clock.now(),
  );
  releaseRunLeases(db, clock.now());

  const wq = new GroupCommit(db, { maxBatch: options.maxBatch, windowMs: options.commitWindowMs });
  const log = new EmbeddedLog(db, wq, clock);
  const records = new EmbeddedRecords(db, wq);
  const kv = new EmbeddedKeyValue(db, wq, clock);
  const queue = new EmbeddedQueue(db, wq, { log, records, kv }, clock);

  const sweepDedup = db.prepare(
    "DELETE FROM dedup WHERE key IN (SELECT key FROM dedup WHERE expires_at <= ? LIMIT 10000)",
  );
  const sweepKv = db.prepare("DELETE FROM kv WHERE expires_at <= ?");
  const sweeper = clock.setInterval(() => {
    // Expired kv rows are kept a day so their versions outlive short TTLs (see EmbeddedKeyValue).
    void wq
      .run(() => {
        const now = clock.now();
        sweepDedup.run(now);
        sweepKv.run(now - 86_400_000);
      })
      .catch(() => undefined); // closed meanwhile: the next open sweeps
  }, SWEEP_INTERVAL_MS);

  return {
    name: "embedded",
    clock,
    log,
    queue,
    deadLetters: new EmbeddedDeadLetters(db, wq, log, clock),
    kv,
    records,
    traces: new EmbeddedTraces(db),
    journal: new EmbeddedJournal(db, wq, clock),
    capabilities: { joinsWrites: true },
    close() {
      clock.clearInterval(sweeper);
      wq.close();
      db.close();
      return Promise.resolve();
    },
  };
}
