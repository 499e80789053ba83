// Waiting for work another process (or a worker in this one) does: poll a condition until it holds,
// failing with what was awaited once the deadline passes.
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = "the condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
