/**
 * A compiled routing index over EventBridge patterns. Each rule is filed under one top-level field
 * (normally `type`) by the exact strings and prefixes it requires there (see index-key.ts); an
 * event only runs the compiled matchers of the rules filed under its own values, plus the rules
 * that constrain no indexable field (the scan list). So the cost per event follows the number of
 * candidate rules, not the number of rules, as long as most rules name a `type` or `source`.
 */

import { compilePattern, type EventPattern, type PatternMatcher } from "eddy";
import { indexKeyOf, type IndexKey } from "./index-key.js";

interface Rule<T> {
  id: string;
  /** Insertion order: results are returned in it. */
  seq: number;
  target: T;
  /** The whole pattern, for scan rules; the pattern without its index field, for filed rules. */
  matches: PatternMatcher;
  key: IndexKey | undefined;
  /** The match() call that last collected this rule, so a rule reached twice is evaluated once. */
  stamp: number;
}

interface FieldIndex<T> {
  /** The field is also a property of Object.prototype ("constructor"): read it only if own. */
  guarded: boolean;
  exact: Map<string, Rule<T>[]>;
  prefixes: Map<string, Rule<T>[]>;
  /** Distinct prefix lengths, ascending: an event value is probed once per length. */
  lengths: number[];
  /** How many prefixes have each length, to drop a length when its last prefix goes. */
  lengthCounts: Map<number, number>;
}

/**
 * Finds the rules whose pattern matches an event without evaluating every rule.
 *
 * Results hold each matching rule's target once, in the order the rules were added; two rules
 * with the same target both contribute it (EventBridge also delivers once per matching rule), so
 * callers that want each target once deduplicate (see Router). Matching marks rules with a
 * per-call counter instead of allocating a Set, which is sound because matchers are synchronous
 * and pure: nothing can call back into the index during a match.
 *
 * @example
 * const index = new PatternIndex<string>();
 * index.add("big-orders", { type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } }, "notify");
 * index.match({ type: "order.paid", data: { total: 250 } }); // ["notify"]
 */
export class PatternIndex<T> {
  #rules = new Map<string, Rule<T>>();
  #fields = new Map<string, FieldIndex<T>>();
  #scan: Rule<T>[] = [];
  #seq = 0;
  #epoch = 0;

  /** Number of rules. */
  get size(): number {
    return this.#rules.size;
  }

  /**
   * How the rules are filed: the fields used as keys and how many rules every event evaluates
   * because they constrain none of them. A growing `scanRules` is what makes routing slow.
   */
  stats(): { rules: number; scanRules: number; fields: string[] } {
    return { rules: this.#rules.size, scanRules: this.#scan.length, fields: [...this.#fields.keys()] };
  }

  /** True when a rule with this id is present. */
  has(ruleId: string): boolean {
    return this.#rules.has(ruleId);
  }

  /**
   * Adds a rule, replacing any rule with the same id (which then counts as added last). Throws
   * InvalidPatternError, with the path of the problem, when the pattern is not valid.
   */
  add(ruleId: string, pattern: EventPattern, target: T): void {
    const whole = compilePattern(pattern); // validates before anything changes
    this.remove(ruleId);
    const key = indexKeyOf(pattern, this.#fields);
    const matches = key === undefined ? whole : withoutField(pattern, key.field);
    const rule: Rule<T> = { id: ruleId, seq: this.#seq++, target, matches, key, stamp: 0 };
    this.#rules.set(ruleId, rule);
    if (key === undefined) {
      this.#scan.push(rule);
      return;
    }
    let fi = this.#fields.get(key.field);
    if (fi === undefined) {
      fi = {
        guarded: key.field in Object.prototype,
        exact: new Map(),
        prefixes: new Map(),
        lengths: [],
        lengthCounts: new Map(),
      };
      this.#fields.set(key.field, fi);
    }
    for (const value of key.exact) append(fi.exact, value, rule);
    for (const prefix of key.prefixes) {
      append(fi.prefixes, prefix, rule);
      const count = fi.lengthCounts.get(prefix.length) ?? 0;
      fi.lengthCounts.set(prefix.length, count + 1);
      if (count === 0) fi.lengths = [...fi.lengthCounts.keys()].sort((a, b) => a - b);
    }
  }

  /** Removes a rule; false when there was none with this id. */
  remove(ruleId: string): boolean {
    const rule = this.#rules.get(ruleId);
    if (rule === undefined) return false;
    this.#rules.delete(ruleId);
    const key = rule.key;
    if (key === undefined) {
      this.#scan.splice(this.#scan.indexOf(rule), 1);
      return true;
    }
    const fi = this.#fields.get(key.field)!;
    for (const value of key.exact) detach(fi.exact, value, rule);
    for (const prefix of key.prefixes) {
      detach(fi.prefixes, prefix, rule);
      const count = fi.lengthCounts.get(prefix.length)! - 1;
      if (count > 0) {
        fi.lengthCounts.set(prefix.length, count);
      } else {
        fi.lengthCounts.delete(prefix.length);
        fi.lengths = fi.lengths.filter((n) => n !== prefix.length);
      }
    }
    if (fi.exact.size === 0 && fi.prefixes.size === 0) this.#fields.delete(key.field);
    return true;
  }

  /** Targets of the rules matching `event`, one per matching rule, in the order rules were added. */
  match(event: Record<string, unknown>): T[] {
    const rules = this.#matchRules(event);
    const targets: T[] = new Array<T>(rules.length);
    for (let i = 0; i < rules.length; i++) targets[i] = rules[i]!.target;
    return targets;
  }

  /** Ids of the rules matching `event`, in the order they were added. */
  matchRuleIds(event: Record<string, unknown>): string[] {
    return this.#matchRules(event).map((r) => r.id);
  }

  #matchRules(event: Record<string, unknown>): Rule<T>[] {
    const epoch = ++this.#epoch;
    const matched: Rule<T>[] = [];
    let sources = 0;
    for (const [field, fi] of this.#fields) {
      const value = fi.guarded && !Object.hasOwn(event, field) ? undefined : event[field];
      if (typeof value === "string") {
        sources += this.#probe(fi, value, event, epoch, matched);
      } else if (Array.isArray(value)) {
        sources += this.#probeAll(fi, value, event, epoch, matched);
      }
    }
    const scan = this.#scan;
    if (scan.length > 0) {
      sources++;
      for (let i = 0; i < scan.length; i++) {
        const rule = scan[i]!;
        if (rule.matches(event)) matched.push(rule);
      }
    }
    // Each bucket is in insertion order; only results merged from several need sorting.
    if (sources > 1 && matched.length > 1) matched.sort(bySeq);
    return matched;
  }

  #probeAll(fi: FieldIndex<T>, values: unknown[], event: object, epoch: number, out: Rule<T>[]): number {
    let sources = 0;
    for (const value of values) {
      if (typeof value === "string") sources += this.#probe(fi, value, event, epoch, out);
      else if (Array.isArray(value)) sources += this.#probeAll(fi, value, event, epoch, out);
    }
    return sources;
  }

  /** Evaluates the rules filed under `value`; returns how many buckets contributed. */
  #probe(fi: FieldIndex<T>, value: string, event: object, epoch: number, out: Rule<T>[]): number {
    let sources = evaluate(fi.exact.get(value), event, epoch, out);
    const lengths = fi.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]!;
      if (n > value.length) break;
      sources += evaluate(fi.prefixes.get(n === value.length ? value : value.slice(0, n)), event, epoch, out);
    }
    return sources;
  }
}

const ALWAYS: PatternMatcher = () => true;

/**
 * A rule is only evaluated when the event reached one of its buckets, which proves its index
 * field matches (the field is a top-level leaf of exact strings and prefixes, AND-ed with the
 * rest). Matching the rest alone skips that check and, for the many rules that only name a
 * `type`, all work.
 */
function withoutField(pattern: EventPattern, field: string): PatternMatcher {
  const rest: EventPattern = { ...pattern };
  delete rest[field];
  return Object.keys(rest).length === 0 ? ALWAYS : compilePattern(rest);
}

function evaluate<T>(bucket: Rule<T>[] | undefined, event: object, epoch: number, out: Rule<T>[]): number {
  if (bucket === undefined) return 0;
  for (let i = 0; i < bucket.length; i++) {
    const rule = bucket[i]!;
    if (rule.stamp === epoch) continue;
    rule.stamp = epoch;
    if (rule.matches(event)) out.push(rule);
  }
  return 1;
}

function bySeq(a: { seq: number }, b: { seq: number }): number {
  return a.seq - b.seq;
}

function append<T>(map: Map<string, Rule<T>[]>, key: string, rule: Rule<T>): void {
  const bucket = map.get(key);
  if (bucket === undefined) map.set(key, [rule]);
  else bucket.push(rule);
}

function detach<T>(map: Map<string, Rule<T>[]>, key: string, rule: Rule<T>): void {
  const bucket = map.get(key)!;
  bucket.splice(bucket.indexOf(rule), 1);
  if (bucket.length === 0) map.delete(key);
}
