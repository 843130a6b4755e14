import FindMyWay from "find-my-way";
import type { HttpMethod, HttpTrigger } from "eddy";
import type { Validator } from "./validate.js";
import { compileValidator } from "./validate.js";
import { InvalidFunctionConfigError } from "eddy";

/** One route of the gateway, compiled. */
export interface GatewayRoute {
  /** The function it runs. */
  fn: string;
  trigger: HttpTrigger;
  /** `METHOD /path` as declared. */
  name: string;
  validateBody?: Validator;
  validateQuery?: Validator;
}

/** A route that matched a request, with its path parameters. */
export interface RouteMatch {
  route: GatewayRoute;
  params: Record<string, string>;
}

/** The functions a table is built from (what the engine deploys). */
export interface RoutedFunction {
  name: string;
  file: string;
  config: { triggers: readonly { kind: string }[] };
}

/** Methods "ANY" stands for. OPTIONS is left to CORS preflights unless a route names it. */
const ANY: readonly HttpMethod[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const ALL: readonly HttpMethod[] = [...ANY, "OPTIONS"];

/**
 * The routes of the deployed functions, under a prefix ("" by default, so `/orders/:id`). Built
 * whole at every deploy and swapped in one step, like the event router. A function whose route
 * clashes with a route of a function placed earlier is refused, with a message naming both; so is
 * one with an invalid schema. Static segments win over parameters (`/orders/new` before
 * `/orders/:id`), parameters over a final `*`.
 */
export class RouteTable {
  readonly prefix: string;
  readonly #router = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 1_000 });
  readonly #routes: GatewayRoute[] = [];

  private constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** An empty table. */
  static empty(prefix = ""): RouteTable {
    return new RouteTable(prefix);
  }

  /**
   * Builds the table; functions are placed in the given order (the engine puts those already
   * running first, so a newcomer cannot take a route away from them).
   */
  static build<F extends RoutedFunction>(
    functions: F[],
    prefix = "",
  ): { table: RouteTable; refused: { fn: F; message: string }[] } {
    const table = new RouteTable(prefix);
    const owners = new Map<string, { fn: string; name: string }>();
    const refused: { fn: F; message: string }[] = [];
    for (const fn of functions) {
      const triggers = fn.config.triggers.filter((t): t is HttpTrigger => t.kind === "http");
      if (triggers.length === 0) continue;
      try {
        const routes = triggers.map((t, i) => compile(fn.name, t, i));
        const claims = new Map<string, string>();
        for (const r of routes) {
          for (const m of methodsOf(r.trigger)) {
            const key = `${m} ${shape(r.trigger.path)}`;
            const owner = owners.get(key);
            if (owner) {
              throw new InvalidFunctionConfigError(
                "",
                `route ${r.name} conflicts with ${owner.name} of function "${owner.fn}": a request could match both; change one path or method`,
              );
            }
            if (claims.has(key))
              throw new InvalidFunctionConfigError(
                "",
                `routes ${claims.get(key)} and ${r.name} of this function overlap`,
              );
            claims.set(key, r.name);
          }
        }
        for (const [key, name] of claims) owners.set(key, { fn: fn.name, name });
        for (const r of routes) table.#add(r);
      } catch (err) {
        refused.push({ fn, message: `function ${fn.name}: ${(err as Error).message}` });
      }
    }
    return { table, refused };
  }

  /** Every route, in the order placed. */
  routes(): readonly GatewayRoute[] {
    return this.#routes;
  }

  /** The route for a method and a path (without query); HEAD falls back to GET. */
  find(method: string, path: string): RouteMatch | undefined {
    const found =
      this.#router.find(method as "GET", path) ?? (method === "HEAD" ? this.#router.find("GET", path) : null);
    if (!found) return undefined;
    return { route: found.store as GatewayRoute, params: found.params as Record<string, string> };
  }

  /** The methods some route serves at `path` (for 405's `Allow` and CORS preflights). */
  methodsAt(path: string): { method: HttpMethod; match: RouteMatch }[] {
    const out: { method: HttpMethod; match: RouteMatch }[] = [];
    for (const method of ALL) {
      const match = this.find(method, path);
      if (match) out.push({ method, match });
    }
    return out;
  }

  #add(route: GatewayRoute): void {
    const path = this.prefix + route.trigger.path;
    for (const m of methodsOf(route.trigger))
      this.#router.on(m as "GET", path || "/", () => undefined, route);
    this.#routes.push(route);
  }
}

function compile(fn: string, trigger: HttpTrigger, index: number): GatewayRoute {
  const route: GatewayRoute = { fn, trigger, name: `${trigger.method} ${trigger.path}` };
  const schema = trigger.schema;
  for (const part of ["body", "query"] as const) {
    const s = schema?.[part];
    if (s === undefined) continue;
    try {
      const v = compileValidator(s, part);
      if (part === "body") route.validateBody = v;
      else route.validateQuery = v;
    } catch (err) {
      throw new InvalidFunctionConfigError(
        "",
        `triggers[${index}].schema.${part} is not a valid JSON Schema: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return route;
}

function methodsOf(t: HttpTrigger): readonly HttpMethod[] {
  return t.method === "ANY" ? ANY : [t.method];
}

/** The path with parameter names erased: two routes of the same shape match the same requests. */
function shape(path: string): string {
  return path.replace(/\/:[^/]+/g, "/:").replace(/\/+$/, "") || "/";
}
