// EVE SSO login: GET /auth/login[?scopes=character,corporation] sends the browser to the SSO (a
// single-use, 10-minute `state`, bound to this browser by a cookie, and a PKCE challenge);
// GET /auth/callback takes the code back, validates the SSO's token and stores the character (server/sso/
// login.ts). Answers never carry a token; the access log never sees the query string (code, state).
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ConfigError } from "../helpers/config.ts";
import { log } from "../helpers/logger.ts";
import { ssoSettings } from "../sso/client.ts";
import { finishLogin, LoginError, parseScopes, STATE_TTL_SECONDS, startLogin } from "../sso/login.ts";

const COOKIE = "kb_sso_login";

export function authRoutes(): Hono {
  const app = new Hono();
  app.use("/auth/*", async (c, next) => {
    try {
      ssoSettings();
    } catch (err) {
      if (err instanceof ConfigError) return c.json({ error: err.message }, 503);
      throw err;
    }
    await next();
  });

  app.get("/auth/login", async (c) => {
    try {
      const { url, browser } = await startLogin(parseScopes(c.req.query("scopes")));
      setCookie(c, COOKIE, browser, {
        path: "/auth",
        httpOnly: true,
        sameSite: "Lax",
        secure: ssoSettings().callbackUrl.startsWith("https:"),
        maxAge: STATE_TTL_SECONDS,
      });
      return c.redirect(url, 302);
    } catch (err) {
      if (err instanceof LoginError) return c.json({ error: err.message }, err.status);
      log("sso").error({ err: (err as Error).message }, "login could not start");
      return c.json({ error: `the EVE SSO could not be reached: ${(err as Error).message}` }, 502);
    }
  });

  app.get("/auth/callback", async (c) => {
    const failed = c.req.query("error");
    if (failed) return c.json({ error: `the EVE SSO did not log you in: ${failed.slice(0, 100)}` }, 400);
    const code = c.req.query("code");
    const state = c.req.query("state");
    if (!code || !state) return c.json({ error: "code and state are required: start at /auth/login" }, 400);
    const browser = getCookie(c, COOKIE);
    deleteCookie(c, COOKIE, { path: "/auth" });
    try {
      const result = await finishLogin(state, code, browser);
      return c.json({
        status: "logged-in",
        character: { id: result.characterId, name: result.name, corporationId: result.corporationId ?? null },
        scopes: result.scopes,
        syncs: result.syncs,
        message:
          result.syncs.length > 0
            ? "your recent kills are being read now, then about every 15 minutes"
            : "logged in, but no killmail scope was granted: nothing to read",
      });
    } catch (err) {
      if (err instanceof LoginError) {
        log("sso").warn({ status: err.status, reason: err.message }, "login refused");
        return c.json({ error: err.message }, err.status);
      }
      throw err;
    }
  });
  return app;
}
