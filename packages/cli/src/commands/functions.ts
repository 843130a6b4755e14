import type { FunctionDetail } from "eddy";
import { EddyRequestError } from "eddy";
import { getApi } from "../options.js";

/** The deployed function named `name`, or undefined when none is (404). */
export async function deployedFunction(
  url: string,
  key: string | undefined,
  name: string,
): Promise<FunctionDetail | undefined> {
  try {
    return await getApi<FunctionDetail>(url, key, `/v1/functions/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof EddyRequestError && err.status === 404) return undefined;
    throw err;
  }
}
