// One Ctrl-C is one stop request. A terminal delivers SIGINT to the whole process group, and a package
// script's runner (`bun run queue`) forwards it too, so one key press can arrive twice within
// milliseconds: signals closer than this to the first one are the same request, not a second one.
export const SAME_SIGNAL_MS = 1_500;

/**
 * Calls `first` on the first SIGINT/SIGTERM and `again` on a later one (one that comes at least
 * SAME_SIGNAL_MS after the first); returns a function that removes the handlers.
 */
export function onStopSignals(first: (signal: NodeJS.Signals) => void, again: (signal: NodeJS.Signals) => void): () => void {
  let firstAt: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      first(signal);
    } else if (now - firstAt >= SAME_SIGNAL_MS) again(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
