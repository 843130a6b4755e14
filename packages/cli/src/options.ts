import { InvalidArgumentError } from "commander";

/** Parses an integer option, with a message naming the option. */
export function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be an integer >= 0, got ${value}`);
    return n;
  };
}

/** The server the client commands talk to: --url, then EDDY_URL, then the local default. */
export const DEFAULT_URL = process.env.EDDY_URL ?? "http://127.0.0.1:8080";
