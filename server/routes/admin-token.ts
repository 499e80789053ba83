// Whether a request presents the admin token (ADMIN_TOKEN): `Authorization: Bearer <token>`, or Basic
// with any user and the token as password (so a browser can open the dashboard). Shared by the admin
// surface (admin.ts), which refuses without it, and the public intake (intake-guard.ts), which does not
// rate-limit an operator who presents it. Compared in constant time.
import { timingSafeEqual } from "node:crypto";
import type { Context } from "hono";

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when the request carries `token` (false when no token is configured). */
export function presentsAdminToken(c: Context, token: string | undefined): boolean {
  return authorizationCarries(c.req.header("authorization"), token);
}

/** True when an Authorization header value carries `token` (also for servers outside hono: metrics endpoints). */
export function authorizationCarries(header: string | null | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  let given = "";
  if (header.startsWith("Bearer ")) given = header.slice(7);
  else if (header.startsWith("Basic ")) given = Buffer.from(header.slice(6), "base64").toString().split(":").slice(1).join(":");
  return given !== "" && sameSecret(given, token);
}
