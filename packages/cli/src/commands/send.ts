import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { EddyClient } from "eddy";
import type { EventInput } from "eddy";
import { DEFAULT_KEY, DEFAULT_URL, explainRequestError } from "../options.js";
import { UsageError } from "../errors.js";

interface SendOptions {
  key?: string;
  source: string;
  data?: string;
  file?: string;
  id?: string;
  subject?: string;
  url: string;
}

/** `eddy send TYPE --source S --data JSON`: publish one event. */
export function registerSendCommand(program: Command): void {
  program
    .command("send <type>")
    .description("publish an event to a running Eddy server")
    .option("-s, --source <source>", "event source", "eddy-cli")
    .option("-d, --data <json>", "event data, as JSON")
    .option("-f, --file <path>", "read the event data (JSON) from a file")
    .option("--id <id>", "event id (default: a random UUID)")
    .option("--subject <subject>", "event subject")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY)
    .action(async (type: string, opts: SendOptions) => {
      const event: EventInput = { type, source: opts.source };
      if (opts.data !== undefined && opts.file !== undefined)
        throw new UsageError("give --data or --file, not both");
      const raw = opts.data ?? (opts.file !== undefined ? readFileSync(opts.file, "utf8") : undefined);
      if (raw !== undefined) {
        try {
          event.data = JSON.parse(raw) as unknown;
        } catch (err) {
          throw new UsageError(
            `${opts.file ? opts.file : "--data"} is not valid JSON: ${(err as Error).message}`,
          );
        }
      }
      if (opts.id !== undefined) event.id = opts.id;
      if (opts.subject !== undefined) event.subject = opts.subject;
      await explainRequestError(opts.url, async () => {
        const [result] = await new EddyClient({ url: opts.url, apiKey: opts.key }).send(event);
        const routed = result?.routed;
        const to = routed === undefined ? "" : ` (routed to ${routed} function${routed === 1 ? "" : "s"})`;
        process.stdout.write(`${result?.status ?? "sent"} ${result?.id ?? ""}${to}\n`);
        if (result?.status === "accepted" && routed === 0) {
          process.stderr.write(
            `eddy send: ⚠ no function's trigger matches ${JSON.stringify(type)} from ${JSON.stringify(opts.source)}: nothing will run it. Check the patterns (GET ${opts.url.replace(/\/+$/, "")}/v1/functions; POST /v1/patterns/test tries one)\n`,
          );
        }
      });
    });
}
