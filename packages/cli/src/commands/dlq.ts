import type { Command } from "commander";
import { EddyClient } from "eddy";
import type { DeadLetterCounts, DeadLetterSelection } from "eddy";
import { DEFAULT_KEY, DEFAULT_URL, explainRequestError, getApi } from "../options.js";
import { deployedFunction } from "./functions.js";
import { FunctionNotDeployedError, UsageError } from "../errors.js";

interface Common {
  key?: string;
  url: string;
  queue?: boolean;
}

interface SelectOptions extends Common {
  id?: string[];
  eventType?: string;
  error?: string;
  all?: boolean;
}

/** `eddy dlq ls|show|redrive|purge`: a function's (or queue's) dead-letter queue. */
export function registerDlqCommand(program: Command): void {
  const dlq = program.command("dlq").description("inspect, redrive and purge dead-letter queues");
  const common = (c: Command) =>
    c
      .option("--queue", "NAME is a queue, not a function")
      .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
      .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY);
  const selection = (c: Command) =>
    common(c)
      .option("--id <id...>", "these dead letters")
      .option("--event-type <type>", "dead letters of this event type")
      .option("--error <name>", "dead letters whose last error has this name (e.g. TypeError)")
      .option("--all", "every dead letter of NAME");

  common(dlq.command("ls [name]").description("dead-letter counts, or the dead letters of NAME"))
    .option("--limit <n>", "at most this many", "50")
    .action(async (name: string | undefined, o: Common & { limit: string }) => {
      const client = new EddyClient({ url: o.url, apiKey: o.key });
      await explainRequestError(o.url, async () => {
        if (name === undefined) {
          const counts = await deadCounts(o);
          const rows = [
            ...Object.entries(counts.functions).map(([n, c]) => `${c}\tfunction ${n}`),
            ...Object.entries(counts.queues).map(([n, c]) => `${c}\tqueue ${n}`),
          ];
          process.stdout.write(rows.length ? rows.join("\n") + "\n" : "no dead letters\n");
          return;
        }
        const { deadLetters } = await client.deadLetters(name, { queue: o.queue, limit: Number(o.limit) });
        for (const d of deadLetters) {
          const when = new Date(d.deadAt).toISOString();
          process.stdout.write(
            `${d.id}\t${when}\t${d.event.type}\t${d.event.id}\t${d.error.name}: ${d.error.message}\n`,
          );
        }
        if (deadLetters.length === 0) process.stdout.write(await noDeadLetters(name, o));
      });
    });

  common(
    dlq.command("show <name> <id>").description("one dead letter: event, error and every attempt"),
  ).action(async (name: string, id: string, o: Common) => {
    await explainRequestError(o.url, async () => {
      const d = await new EddyClient({ url: o.url, apiKey: o.key }).deadLetter(name, id, { queue: o.queue });
      process.stdout.write(JSON.stringify(d, null, 2) + "\n");
    });
  });

  for (const action of ["redrive", "purge"] as const) {
    selection(
      dlq
        .command(`${action} <name>`)
        .description(
          action === "redrive" ? "put dead letters back in the queue" : "delete dead letters for good",
        ),
    ).action(async (name: string, o: SelectOptions) => {
      const sel: DeadLetterSelection = {};
      if (o.id) sel.ids = o.id;
      if (o.eventType) sel.eventType = o.eventType;
      if (o.error) sel.errorName = o.error;
      if (o.all) sel.all = true;
      if (Object.keys(sel).length === 0)
        throw new UsageError("say which dead letters: --id, --event-type, --error, or --all");
      await explainRequestError(o.url, async () => {
        const client = new EddyClient({ url: o.url, apiKey: o.key });
        const n =
          action === "redrive"
            ? await client.redrive(name, sel, { queue: o.queue })
            : await client.purge(name, sel, { queue: o.queue });
        process.stdout.write(`${action === "redrive" ? "redriven" : "purged"}: ${n}\n`);
      });
    });
  }
}

function deadCounts(o: Common): Promise<DeadLetterCounts> {
  return getApi<DeadLetterCounts>(o.url, o.key, "/v1/dlq");
}

/**
 * What to say when NAME has no dead letters. A queue message that fails is dead-lettered in its
 * queue's DLQ, not its consumer's: point there when the function's queues hold some.
 */
async function noDeadLetters(name: string, o: Common): Promise<string> {
  if (o.queue) return `no dead letters for queue ${name}\n`;
  const [counts, fn] = await Promise.all([deadCounts(o), deployedFunction(o.url, o.key, name)]);
  const queues = new Set(
    (fn?.triggers ?? []).flatMap((t) => (t.kind === "queue" && t.queue ? [t.queue] : [])),
  );
  if (counts.queues[name] !== undefined) queues.add(name);
  const held = [...queues].filter((q) => (counts.queues[q] ?? 0) > 0);
  if (held.length > 0) {
    return (
      `no dead letters for function ${name}; failed queue messages stay in their queue's dead-letter queue:\n` +
      held.map((q) => `  ${counts.queues[q]} in queue ${q}: eddy dlq ls ${q} --queue\n`).join("")
    );
  }
  if (!fn && counts.functions[name] === undefined) {
    throw new FunctionNotDeployedError(
      `no function named "${name}" is deployed (eddy dlq ls lists the dead-letter queues; --queue for a queue's)`,
    );
  }
  return `no dead letters for ${name}\n`;
}
