/**
 * Pattern keys that match nothing by mistake. A top-level pattern key names an attribute of the
 * CloudEvent; a key that is neither a CloudEvents attribute nor an extension the app's events
 * carry (`typ`, `sorce`, `detail-type`, a payload field outside `data`) is valid syntax, loads,
 * and silently never matches. Deploys warn about them; they do not refuse them, since an event
 * with a new extension may simply not have arrived yet.
 */
import { closest, distance } from "fastest-levenshtein";
import type { EventPattern } from "eddy";

/** The CloudEvents 1.0 context attributes, `data`, and the extensions Eddy itself reads or sets. */
export const KNOWN_ATTRIBUTES: readonly string[] = [
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
  "traceparent",
  "tracestate",
  "partitionkey",
];

/** EventBridge's envelope names, as Lambda users write them out of habit. */
const EVENTBRIDGE: Record<string, string> = { "detail-type": "type", detail: "data" };

/** Most extension names remembered (CloudEvents names are at most 20 characters). */
const MAX_EXTENSIONS = 512;

/**
 * The extension attributes seen on the app's events. Noting an event costs one look-up per
 * attribute; a name is remembered once (bounded), and `onNew` hears of new names to persist them.
 */
export class ExtensionNames {
  readonly #names = new Set<string>(KNOWN_ATTRIBUTES);
  onNew: ((names: string[]) => void) | undefined;

  /** Remembers the extensions of `event`. */
  note(event: Record<string, unknown>): void {
    let fresh: string[] | undefined;
    for (const name in event) {
      if (this.#names.has(name) || this.#names.size >= MAX_EXTENSIONS + KNOWN_ATTRIBUTES.length) continue;
      this.#names.add(name);
      (fresh ??= []).push(name);
    }
    if (fresh) this.onNew?.(fresh);
  }

  /** Names remembered elsewhere (the store), as note() would have. */
  add(names: unknown): void {
    if (!Array.isArray(names)) return;
    for (const n of names) {
      if (typeof n === "string" && this.#names.size < MAX_EXTENSIONS + KNOWN_ATTRIBUTES.length)
        this.#names.add(n);
    }
  }

  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** The extensions seen, without the known attributes. */
  extensions(): string[] {
    return [...this.#names].filter((n) => !KNOWN_ATTRIBUTES.includes(n));
  }
}

/**
 * What is suspicious about the top-level keys of `pattern` (and of each top-level `$or` branch):
 * one sentence per key that no CloudEvents attribute and no seen extension has, with the nearest
 * known name when it is close.
 *
 * @example
 * unknownPatternKeys({ typ: ["a"] }, names); // ['"typ" is neither a CloudEvents attribute … (did you mean "type"?) …']
 */
export function unknownPatternKeys(pattern: EventPattern, names: ExtensionNames): string[] {
  const out: string[] = [];
  const visit = (p: unknown) => {
    if (typeof p !== "object" || p === null || Array.isArray(p)) return;
    for (const [key, value] of Object.entries(p)) {
      if (key === "$or") {
        if (Array.isArray(value)) value.forEach(visit);
        continue;
      }
      if (names.has(key)) continue;
      const near = EVENTBRIDGE[key] ?? closest(key, [...KNOWN_ATTRIBUTES, ...names.extensions()]);
      const close =
        EVENTBRIDGE[key] !== undefined || distance(key, near) <= Math.max(1, Math.floor(key.length / 3));
      const hint = close ? ` (did you mean "${near}"?)` : "";
      out.push(
        `pattern key "${key}" is neither a CloudEvents attribute nor an extension seen on this app's events, so the trigger matches only events that carry it${hint}; fields of the payload go under "data"`,
      );
    }
  };
  visit(pattern);
  return out;
}
