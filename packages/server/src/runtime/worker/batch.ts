/** Messages of one turn of the event loop, sent together. Runs on both sides of a thread sandbox. */
import type { Many } from "../protocol.js";

/** Options of {@link batched}. */
export interface BatchOptions<T> {
  /** Send this one (and what is queued) at once, without waiting for the turn to end. */
  now?: (msg: T) => boolean;
  /** A message that could not be posted (it does not serialize), sent without a `failed` of its own. */
  failed: (msg: T, err: Error) => void;
}

/**
 * A sender that gathers the messages of one turn of the event loop into one {@link Many}: under
 * load, one wake-up of the other thread carries many attempts (or results) instead of one each.
 * A message that does not serialize fails alone: its `failed` (or the options') is called and the
 * others still go. Posting never throws out of the turn's end, where nobody could catch it.
 */
export function batched<T>(
  post: (msg: T | Many<T>) => void,
  options: BatchOptions<T>,
): (msg: T, failed?: (err: Error) => void) => void {
  let queue: { msg: T; failed: ((err: Error) => void) | undefined }[] = [];
  let scheduled = false;
  const fail = (item: (typeof queue)[number], err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    if (item.failed) item.failed(e);
    else options.failed(item.msg, e);
  };
  const flush = () => {
    scheduled = false;
    if (queue.length === 0) return;
    const items = queue;
    queue = [];
    try {
      post(items.length === 1 ? items[0]!.msg : { t: "many", msgs: items.map((i) => i.msg) });
      return;
    } catch (err) {
      if (items.length === 1) return fail(items[0]!, err);
    }
    // One of them does not serialize: send them one by one, so that only that one fails.
    for (const item of items) {
      try {
        post(item.msg);
      } catch (err) {
        fail(item, err);
      }
    }
  };
  return (msg, failed) => {
    queue.push({ msg, failed });
    if (options.now?.(msg)) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
