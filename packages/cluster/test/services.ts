// The real NATS and PostgreSQL the cluster tests run against, and per-run isolation on them.
import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";

/** NATS of the tests: EDDY_TEST_NATS_URL, else the machine's (see .ci/services.sh). */
export const NATS_URL = process.env.EDDY_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
/** PostgreSQL of the tests: EDDY_TEST_POSTGRES_URL, else the machine's database `test`. */
export const POSTGRES_URL = process.env.EDDY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Fails (never skips) when NATS or PostgreSQL does not answer, saying what to run: CI starts both
 * in .ci/services.sh, so a failure here is a broken machine, not a reason to pass quietly.
 */
export async function requireServices(): Promise<void> {
  const problems: string[] = [];
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 3_000 });
    await jetstreamManager(nc).catch((err: unknown) => {
      problems.push(`NATS at ${NATS_URL} has no JetStream (${(err as Error).message})`);
    });
    await nc.close();
  } catch (err) {
    problems.push(`NATS at ${NATS_URL} does not answer (${(err as Error).message})`);
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (err) {
    problems.push(`PostgreSQL at ${POSTGRES_URL} does not answer (${(err as Error).message})`);
  } finally {
    await client.end().catch(() => undefined);
  }
  if (problems.length > 0) {
    throw new Error(
      `the cluster tests need NATS (JetStream) and PostgreSQL: ${problems.join("; ")}. Run \`bash .ci/services.sh\` to start them.`,
    );
  }
}

/** A prefix no other run uses: streams `<PREFIX>_*`, subjects `<prefix>.*`, schema `<prefix>`. */
export function uniquePrefix(tag = "t"): string {
  return `${tag}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Removes everything a prefix created on the servers (streams, consumers, schema). */
export async function dropPrefix(
  prefix: string,
  natsUrl = NATS_URL,
  postgresUrl = POSTGRES_URL,
): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 3_000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const s of ["LOG", "WORK"])
      await jsm.streams.delete(`${prefix.toUpperCase()}_${s}`).catch(() => false);
  } finally {
    await nc.close();
  }
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${prefix} CASCADE`);
  } finally {
    await client.end();
  }
}
