import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { DeployChange } from "eddy";
import { EddyClient } from "eddy";
import { bundleFunctions, listFunctionFiles } from "@eddy/server";
import { DEFAULT_URL, explainRequestError } from "../options.js";
import { NothingDeployedError, UsageError } from "../errors.js";

interface RemoteOptions {
  url: string;
  adminKey?: string;
}

/** `eddy deploy [dir]` and `eddy rollback FUNCTION [--to VERSION]`, against a running server. */
export function registerDeployCommands(program: Command): void {
  program
    .command("deploy [dir]")
    .description("bundle the app's functions here and deploy them to a running server, all or nothing")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--admin-key <key>", "the server's admin key (or EDDY_ADMIN_KEY)", process.env.EDDY_ADMIN_KEY)
    .action(async (dir: string | undefined, opts: RemoteOptions) => {
      const app = resolve(dir ?? ".");
      const files = listFunctionFiles(app);
      if (files.length === 0)
        throw new NothingDeployedError(`no functions under ${join(app, "functions")}: nothing to deploy`);
      // Bundled here, where the app's dependencies are installed; the server only gets the bundles.
      const out = mkdtempSync(join(tmpdir(), "eddy-deploy-"));
      try {
        const { bundles, failures } = await bundleFunctions(app, files, out);
        if (failures.length > 0) {
          const list = failures.map((f) => `  ✗ ${f.file}: ${f.message}`).join("\n");
          throw new NothingDeployedError(
            `nothing deployed: ${failures.length} file(s) failed to bundle\n${list}`,
          );
        }
        const upload = bundles.map((b) => ({ file: b.file, code: readFileSync(b.path, "utf8") }));
        const changes = await remote(opts, (c) => c.deploy(upload));
        for (const c of changes) process.stdout.write(line(c));
        process.stdout.write(
          `deployed ${changes.filter((c) => c.change !== "removed").length} function(s) to ${opts.url}\n`,
        );
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });

  program
    .command("rollback <function>")
    .description("run the version of a function deployed before the current one (or --to VERSION)")
    .option("--to <version>", "a version from GET /v1/functions/NAME instead of the previous one")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--admin-key <key>", "the server's admin key (or EDDY_ADMIN_KEY)", process.env.EDDY_ADMIN_KEY)
    .action(async (name: string, opts: RemoteOptions & { to?: string }) => {
      const change = await remote(opts, (c) => c.rollback(name, opts.to));
      process.stdout.write(`rolled back ${change.name} to ${change.version} (was ${change.previous})\n`);
    });
}

async function remote<T>(opts: RemoteOptions, call: (client: EddyClient) => Promise<T>): Promise<T> {
  if (!opts.adminKey) {
    throw new UsageError(
      "give the server's admin key with --admin-key or EDDY_ADMIN_KEY (the one it was started with)",
    );
  }
  const client = new EddyClient({ url: opts.url, apiKey: opts.adminKey });
  return explainRequestError(opts.url, () => call(client));
}

function line(c: DeployChange): string {
  const detail =
    c.change === "updated"
      ? `${c.version} (was ${c.previous})`
      : c.change === "removed"
        ? `(was ${c.previous})`
        : c.version;
  return `  ${c.change.padEnd(9)} ${c.name.padEnd(24)} ${detail}\n`;
}
