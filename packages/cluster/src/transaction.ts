import type pg from "pg";

/**
 * Runs `work` in a transaction on one connection of `pool`: committed if it resolves, rolled back
 * if it throws (the error is rethrown), and the connection is given back either way.
 *
 * @example
 * await inTransaction(pool, async (client) => {
 *   await client.query("SELECT pg_advisory_xact_lock(1)");
 *   await client.query("UPDATE deliveries SET state = 0 WHERE id = $1", [id]);
 * });
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const out = await work(client);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
