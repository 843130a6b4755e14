import type { NatsConnection } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { NatsUnreachableError, PostgresUnreachableError } from "./errors.js";
import type { ResolvedClusterOptions } from "./options.js";

/**
 * Connects to NATS (reconnecting for ever once connected: a restarted server is picked up again)
 * and checks that JetStream is enabled.
 */
export async function connectNats(
  o: ResolvedClusterOptions,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const servers = o.nats.split(",").map((s) => s.trim());
  const where = servers.map(hostPort).join(", ");
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: `eddy ${o.nodeId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5_000,
    });
  } catch (err) {
    throw new NatsUnreachableError(
      `[cluster] cannot reach NATS at ${where}: ${reason(err)} — is nats-server -js running?`,
      err,
    );
  }
  try {
    const jsm = await jetstreamManager(nc);
    return { nc, jsm };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new NatsUnreachableError(
      `[cluster] NATS at ${where} does not offer JetStream (${reason(err)}): start nats-server with -js`,
      err,
    );
  }
}

/**
 * Opens a PostgreSQL pool whose connections use `schema` as their search path, and checks that
 * the server answers. A restarted server is picked up again: broken connections are replaced.
 */
export async function connectPostgres(o: ResolvedClusterOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: o.postgres,
    max: o.poolSize,
    options: `-c search_path=${o.prefix}`,
    connectionTimeoutMillis: 5_000,
    application_name: `eddy ${o.nodeId}`,
    // Times are epoch ms in bigint columns: read them as numbers (exact below 2^53).
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === pg.types.builtins.INT8
          ? Number
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that the server closed (restart) must not crash the process.
  pool.on("error", (err) => o.log?.warn({ err }, "[cluster] PostgreSQL connection lost; reconnecting"));
  try {
    await pool.query("SELECT 1");
    return pool;
  } catch (err) {
    await pool.end().catch(() => undefined);
    const where = postgresAddress(o.postgres);
    const code = (err as { code?: string }).code;
    const hint =
      code === "3D000"
        ? "create the database (createdb) or fix the URL"
        : code === "28P01" || code === "28000"
          ? "check the user and password in the URL"
          : "is PostgreSQL running? (pg_ctlcluster <version> main start)";
    throw new PostgresUnreachableError(
      `[cluster] cannot reach PostgreSQL at ${where}: ${reason(err)} — ${hint}`,
      err,
    );
  }
}

function hostPort(server: string): string {
  return server.replace(/^[a-z]+:\/\//, "").replace(/^[^@]*@/, "");
}

/** `host:port/db` of a PostgreSQL URL, without the credentials. */
export function postgresAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ETIMEDOUT" || code === "TIMEOUT") return "timed out";
  if (code === "ENOTFOUND") return "unknown host";
  return e.message || String(code ?? err);
}
