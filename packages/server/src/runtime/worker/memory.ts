/**
 * Off-heap memory of a sandbox, bounded. A sandbox's `memoryMb` is its V8 heap limit, and V8 does not
 * count the backing stores of ArrayBuffers and Buffers against it: without this, a thread sandbox of
 * `memoryMb: 64` could fill the server's RSS with `Buffer.alloc`. So the host measures them itself,
 * as V8's external memory of this isolate (~1 µs a read; `process.memoryUsage()` costs ~30 µs), and
 * reports a sandbox past its limit, which the engine then stops with FunctionOutOfMemoryError:
 * - at each allocation through `Buffer.alloc`, `allocUnsafe` and `allocUnsafeSlow` (checked every
 *   MiB allocated), before the memory is taken, so that even a synchronous loop stops at the limit;
 * - every {@link SAMPLE_MS} while attempts run (and for up to two samples after the last one ends),
 *   for everything else (typed arrays, `ArrayBuffer`, streams), which a loop that never yields can
 *   outrun until it does.
 * Garbage counts only after a full collection: V8 lets freed buffers pile up well past 64 MiB first.
 */
import { runInNewContext } from "node:vm";
import { getHeapStatistics, setFlagsFromString } from "node:v8";

/** How often memory is sampled while attempts run. */
export const SAMPLE_MS = 20;
/** Bytes allocated through `Buffer` between two checks. */
const CHECK_EVERY = 1 << 20;

/** What the host does with a sandbox's memory: the limit is set when a function is loaded. */
export interface MemoryGuard {
  /** Starts guarding `limitMb` of off-heap memory. */
  limit(limitMb: number): void;
  /** Attempts are running (sample) or not (sampling stops soon after). */
  running(busy: boolean): void;
}

/**
 * Installs the guard; `exceeded` is called once, with the off-heap MiB in use, when the limit is
 * passed. An allocation through `Buffer` past it throws a RangeError, as a failed allocation does.
 */
export function guardMemory(exceeded: (usedMb: number) => void): MemoryGuard {
  const gc = collector();
  let limit = Infinity;
  let reported = false;
  let sinceCheck = 0;
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  // An attempt ran since the last sample: the timer stays for the next one.
  let ranSinceSample = false;
  // One timer for a run of attempts, not one per attempt: arming and clearing a timer for every
  // attempt of a sub-millisecond function cost ~30 µs of CPU per event end to end (bench/ab.js). It
  // stops at the first sample that finds no attempt running and none run since the one before.
  const sample = () => {
    over(0);
    if (busy || ranSinceSample) ranSinceSample = false;
    else {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const over = (extra: number): boolean => {
    if (external() + extra <= limit) return false;
    gc?.();
    const used = external();
    if (used + extra <= limit) return false;
    if (!reported) {
      reported = true;
      exceeded(Math.round((used + extra) / 2 ** 20));
    }
    return true;
  };
  for (const name of ["alloc", "allocUnsafe", "allocUnsafeSlow"] as const) {
    const original = Buffer[name] as (size: number, ...rest: unknown[]) => Buffer;
    Buffer[name] = function (this: unknown, size: number, ...rest: unknown[]) {
      if (typeof size === "number" && limit !== Infinity) {
        sinceCheck += size;
        if (sinceCheck >= CHECK_EVERY) {
          sinceCheck = 0;
          if (over(size))
            throw new RangeError(`Buffer.${name}(${size}): the function's memory limit is exceeded`);
        }
      }
      return original.call(this, size, ...rest);
    } as never;
  }
  return {
    limit: (limitMb) => void (limit = limitMb * 2 ** 20),
    running: (now) => {
      busy = now;
      if (!now) return;
      ranSinceSample = true;
      if (!timer && limit !== Infinity) {
        over(0);
        timer = setInterval(sample, SAMPLE_MS);
        timer.unref();
      }
    },
  };
}

function external(): number {
  return getHeapStatistics().external_memory;
}

/**
 * A full garbage collection, if V8 gives one: `--expose-gc` is on only while the context that
 * takes `gc` is made (V8's flags are the process's), so the function's own realm never has it.
 */
function collector(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
