import type { Command } from "commander";
import type { CreatedKey, KeysResponse } from "eddy";
import { authHeaders, DEFAULT_URL, explainRequestError } from "../options.js";
import { RequestRefusedError, UsageError } from "../errors.js";

interface KeyOptions {
  url: string;
  adminKey?: string;
}

/** `eddy keys create NAME --scope S…`, `eddy keys ls`, `eddy keys revoke ID`: API keys of a running server. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command("keys").description("API keys of a running server (needs its admin key)");
  const common = (c: Command) =>
    c
      .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
      .option("--admin-key <key>", "the server's admin key (or EDDY_ADMIN_KEY)", process.env.EDDY_ADMIN_KEY);

  common(keys.command("create <name>").description("make a key; its token is printed once, keep it"))
    .requiredOption(
      "--scope <scope...>",
      "events:publish, queues:consume, functions:invoke, admin, or a route's own scope",
    )
    .option("--expires-in <duration>", 'e.g. "90d"; default: never')
    .action(async (name: string, o: KeyOptions & { scope: string[]; expiresIn?: string }) => {
      const made = await call<CreatedKey>(o, "POST", "/v1/keys", {
        name,
        scopes: o.scope,
        ...(o.expiresIn ? { expiresIn: o.expiresIn } : {}),
      });
      process.stdout.write(`${made.token}\n`);
      process.stderr.write(
        `key ${made.key.id} (${made.key.scopes.join(" ")}): the token above is shown only once\n`,
      );
    });

  common(keys.command("ls").description("list keys (never their secrets)")).action(async (o: KeyOptions) => {
    const { keys: list } = await call<KeysResponse>(o, "GET", "/v1/keys");
    if (list.length === 0) process.stdout.write("no keys\n");
    for (const k of list) {
      const expires = k.expiresAt ? ` expires ${new Date(k.expiresAt).toISOString()}` : "";
      process.stdout.write(
        `${k.id}\t${k.name}\t${k.scopes.join(" ")}\t${new Date(k.createdAt).toISOString()}${expires}\n`,
      );
    }
  });

  common(
    keys.command("revoke <id>").description("revoke a key (at once on its node, within 5 s on a cluster)"),
  ).action(async (id: string, o: KeyOptions) => {
    await call(o, "DELETE", `/v1/keys/${encodeURIComponent(id)}`);
    process.stdout.write(`revoked ${id}\n`);
  });
}

async function call<T>(o: KeyOptions, method: string, path: string, body?: unknown): Promise<T> {
  if (!o.adminKey) throw new UsageError("give the server's admin key with --admin-key or EDDY_ADMIN_KEY");
  return explainRequestError(o.url, async () => {
    const res = await fetch(`${o.url.replace(/\/+$/, "")}${path}`, {
      method,
      headers: { ...authHeaders(o.adminKey), ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok)
      throw new RequestRefusedError(
        `refused (${res.status}): ${String(parsed.detail ?? parsed.title ?? "")}`,
      );
    return parsed as T;
  });
}
