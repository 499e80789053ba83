// One HTTP exchange with an upstream (ESI, zKillboard, R2Z2) over undici's request(): the whole
// exchange (connect, headers, body) under one timeout, gzip asked for, the body read as text.
// Transport failures (timeout, refused, reset, broken gzip) become RetryableError.
import { request } from "undici";
import { RetryableError, type Upstream } from "./errors.ts";

export interface HttpCall {
  upstream: Upstream;
  route: string;
  url: string;
  method?: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  ms: number;
}

export async function httpRequest(call: HttpCall): Promise<HttpResponse> {
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timeout after ${call.timeoutMs} ms`)), call.timeoutMs);
  try {
    const res = await request(call.url, {
      method: call.method ?? "GET",
      headers: { "accept-encoding": "gzip", accept: "application/json", ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
      signal: controller.signal,
    });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
    }
    return { status: res.statusCode, headers, text, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const reason = controller.signal.aborted ? `timeout after ${call.timeoutMs} ms` : describe(err);
    throw new RetryableError(
      `${call.upstream} ${call.route}: ${reason}`,
      { upstream: call.upstream, route: call.route, url: call.url, status: 0 },
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Epoch ms of an HTTP date header, or undefined. */
export function httpDate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A non-negative integer header, or undefined. */
export function intHeader(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
