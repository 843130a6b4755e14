/** Messages of one turn of the event loop, sent together. Runs on both sides of a thread sandbox. */
import type { Many } from "../protocol.js";

/**
 * A sender that gathers the messages of one turn of the event loop into one {@link Many}: under
 * load, one wake-up of the other thread carries many attempts (or results) instead of one each.
 * `now(msg)`: send this one (and what is queued) at once, without waiting for the turn to end.
 */
export function batched<T>(
  post: (msg: T | Many<T>) => void,
  now: (msg: T) => boolean = () => false,
): (msg: T) => void {
  let queue: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (queue.length === 0) return;
    const msgs = queue;
    queue = [];
    post(msgs.length === 1 ? msgs[0]! : { t: "many", msgs });
  };
  return (msg) => {
    queue.push(msg);
    if (now(msg)) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
