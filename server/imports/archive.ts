// Streaming reader of .tar.bz2 archives (EVE Ref killmail days): bytes come from a file or an HTTP
// body, go through a bzip2 decompressor and tar-stream, and come out one file entry at a time — the
// archive is never held whole, and a slow consumer slows the download (stream backpressure).
// Decompressor: the system's `bzip2 -dc` in a child process (faster than the JS unbzip2-stream and
// leaner in memory: server/imports/README.md, "Streaming"), else unbzip2-stream.
import { spawn } from "node:child_process";
import { pipeline, type Readable } from "node:stream";
import tarStream from "tar-stream";
import unbzip2 from "unbzip2-stream";

export type Decompressor = "auto" | "bzip2" | "js";

export interface ArchiveEntry {
  /** Path inside the archive, e.g. `killmails/123.json`. */
  name: string;
  body: Buffer;
}

export interface ReadArchiveOptions {
  decompressor?: Decompressor;
  /** Fail when no byte arrives for this long while an entry is awaited (default 120 s). */
  idleMs?: number;
  /** Largest entry read into memory (default 64 MiB); bigger ones fail the archive. */
  maxEntryBytes?: number;
}

/** The decompressor `auto` resolves to here. */
export function resolveDecompressor(choice: Decompressor = "auto"): "bzip2" | "js" {
  if (choice !== "auto") return choice;
  return Bun.which("bzip2") ? "bzip2" : "js";
}

/**
 * Regular-file entries of a .tar.bz2 stream, in archive order. Errors of the source, the decompressor
 * (a truncated or corrupt archive) or tar are thrown from the iteration; stopping early cleans up.
 */
export async function* readArchive(source: Readable, opts: ReadArchiveOptions = {}): AsyncGenerator<ArchiveEntry> {
  const mode = resolveDecompressor(opts.decompressor);
  const idleMs = opts.idleMs ?? 120_000;
  const maxEntryBytes = opts.maxEntryBytes ?? 64 * 1024 * 1024;
  const extract = tarStream.extract();
  const fail = (err: Error) => extract.destroy(err);
  let lastData = Date.now();
  let awaitingSince: number | undefined;
  source.on("data", () => (lastData = Date.now()));

  let child: ReturnType<typeof spawn> | undefined;
  let exited: Promise<void> = Promise.resolve();
  if (mode === "bzip2") {
    const proc = spawn("bzip2", ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    exited = new Promise<void>((resolve, reject) => {
      proc.on("error", (err) => reject(new Error(`cannot run bzip2: ${err.message}`)));
      proc.on("close", (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `bzip2 failed (${signal ?? `exit ${code}`}): ${
                stderr
                  .trim()
                  .split("\n")[0]
                  ?.replace(/^bzip2: /, "") || "corrupt archive"
              }`,
            ),
          );
      });
    });
    exited.catch(fail);
    // EPIPE on stdin after bzip2 gave up is reported by its exit status instead.
    pipeline(source, proc.stdin, (err) => err && (err as NodeJS.ErrnoException).code !== "EPIPE" && fail(err));
    pipeline(proc.stdout, extract, (err) => err && fail(err));
  } else {
    pipeline(source, unbzip2(), extract, (err) => err && fail(err));
  }

  const watchdog = setInterval(
    () => {
      if (awaitingSince !== undefined && Date.now() - Math.max(awaitingSince, lastData) > idleMs) {
        fail(new Error(`archive stalled: no data for ${Math.round(idleMs / 1000)} s`));
      }
    },
    Math.min(5_000, idleMs),
  );
  try {
    awaitingSince = Date.now();
    for await (const entry of extract) {
      awaitingSince = undefined;
      if (entry.header.type !== "file") {
        entry.resume();
      } else {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxEntryBytes) throw new Error(`archive entry ${entry.header.name} is larger than ${maxEntryBytes} bytes`);
          chunks.push(chunk);
        }
        yield { name: entry.header.name, body: Buffer.concat(chunks) };
      }
      awaitingSince = Date.now();
    }
    awaitingSince = undefined;
    await exited; // a truncated archive can end tar cleanly; bzip2's exit status tells
  } catch (err) {
    // tar usually notices a cut-off archive first; bzip2's own complaint, if any, says more.
    const bz = await Promise.race([
      exited.then(
        () => undefined,
        (e: Error) => e,
      ),
      new Promise<undefined>((r) => setTimeout(r, 500)),
    ]);
    const message = (err as Error).message;
    throw new Error(`cannot read the archive (truncated or corrupt?): ${message}${bz && bz.message !== message ? `; ${bz.message}` : ""}`, {
      cause: err,
    });
  } finally {
    clearInterval(watchdog);
    if (child && child.exitCode === null) child.kill("SIGKILL");
    if (!source.destroyed) source.destroy();
    if (!extract.destroyed) extract.destroy();
  }
}
