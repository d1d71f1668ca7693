// Waiting without leaving timers behind (a pending timer keeps a test file's process alive).

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
