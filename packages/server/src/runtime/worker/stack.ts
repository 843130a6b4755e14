/**
 * Source-mapped stack traces for bundles imported from their code (process sandboxes): Node maps
 * stacks of files it imported, not of data: URLs, so the host maps the frames of the bundle itself
 * with the bundle's inline source map, on demand (only when an error is reported).
 */
import { SourceMap } from "node:module";

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** Returns a function that rewrites `(<file>:line:col)` frames of a stack to the original sources. */
export function stackMapper(source: string, file: string): (stack: string) => string {
  let map: SourceMap | null | undefined;
  const frame = new RegExp(`${escape(file)}:(\\d+):(\\d+)`, "g");
  return (stack) => {
    if (map === undefined) {
      const m = INLINE_MAP.exec(source.slice(-Math.min(source.length, 4_000_000)));
      try {
        map = m ? new SourceMap(JSON.parse(Buffer.from(m[1]!, "base64").toString()) as never) : null;
      } catch {
        map = null;
      }
    }
    if (!map) return stack;
    const sm = map;
    return stack.replace(frame, (whole, line: string, col: string) => {
      const e = sm.findEntry(Number(line) - 1, Number(col) - 1) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (e.originalSource === undefined || e.originalLine === undefined) return whole;
      return `${appRelative(e.originalSource)}:${e.originalLine + 1}:${(e.originalColumn ?? 0) + 1}`;
    });
  };
}

/**
 * Source map paths are relative to where the bundler placed the output, `<app>/.eddy-out/functions/`
 * (see bundler.ts): shown relative to the app folder, as `functions/x.ts`.
 */
function appRelative(source: string): string {
  if (!source.startsWith("../")) return source;
  const path = new URL(source, "file:///app/.eddy-out/functions/").pathname;
  return path.startsWith("/app/") ? path.slice("/app/".length) : source;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
