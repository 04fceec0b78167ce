/**
 * A real OpenID Provider for tests: the `oidc-provider` package (a certified implementation of
 * OpenID Connect) on loopback, with one confidential client (the portal: code flow, PKCE,
 * RP-initiated logout) and users with passwords and groups kept in memory, so that a test
 * can change a user's groups between two sign-ins. Its sign-in page checks the password like
 * a real identity provider would. Nothing here imports lib/.
 *
 *   const idp = await startOidcProvider({ port: 3371, portal: "http://127.0.0.1:3372", users: [...] });
 *   // idp.issuer, idp.clientId, idp.clientSecret; idp.users.get("ada")!.groups = ["physics"];
 *   await idp.stop();
 */
import { generateKeyPairSync } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import Provider, { type Configuration } from "oidc-provider";

export type IdpUser = { username: string; password: string; email: string; name: string; groups: string[] };

export type RunningOidcProvider = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** By user name; change a user's groups here and the next sign-in gets them. */
  users: Map<string, IdpUser>;
  stop(): Promise<void>;
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function loginPage(uid: string, error?: string): string {
  return page(
    "Test identity provider: sign in",
    `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
    <form method="post" action="/interaction/${escapeHtml(uid)}/login">
      <label>User name <input name="username" autocomplete="username"></label>
      <label>Password <input name="password" type="password" autocomplete="current-password"></label>
      <button type="submit">Sign in to the identity provider</button>
    </form>`,
  );
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startOidcProvider(opts: { port: number; portal: string; users: IdpUser[] }): Promise<RunningOidcProvider> {
  const issuer = `http://127.0.0.1:${opts.port}`;
  const clientId = "environment-portal";
  const clientSecret = `test-secret-${opts.port}-not-for-production`;
  const users = new Map(opts.users.map((u) => [u.username, { ...u }]));
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${opts.portal}/api/auth/callback/oidc`],
        post_logout_redirect_uris: [`${opts.portal}/login`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    // The portal is a confidential client: PKCE is still required of it here.
    pkce: { required: () => true },
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "test-key", use: "sig", alg: "RS256" }] as never },
    cookies: { keys: [`cookie-key-${opts.port}-${Date.now()}`] },
    scopes: ["openid", "email", "profile", "groups"],
    claims: { email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    findAccount: async (_ctx, id) => {
      const user = users.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: user.email, email_verified: true, name: user.name, groups: [...user.groups] }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page("Sign out of the test identity provider?", `${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page("Signed out of the test identity provider", "");
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = page("Test identity provider: error", `<pre>${escapeHtml(JSON.stringify(out))}</pre>`);
    },
    ttl: { Session: 3600, Grant: 3600, Interaction: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error("interaction mismatch");
    if (details.prompt.name === "login") {
      if (req.method === "POST" && action === "login") {
        const form = await formOf(req);
        const user = users.get(form.get("username") ?? "");
        if (!user || user.password !== form.get("password")) {
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(loginPage(uid, user ? "Wrong password" : "Unknown user"));
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(loginPage(uid));
      return;
    }
    // Consent: a first-party client, granted what it asked for without asking the user.
    const { missingOIDCScope, missingOIDCClaims } = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(" "));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  const server = http.createServer((req, res) => {
    const m = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(req.url ?? "");
    if (!m) return void callback(req, res);
    interaction(req, res, m[1], m[2]).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(400, { "content-type": "text/html; charset=utf-8" });
      res.end(page("Test identity provider: error", `<pre>${escapeHtml(err instanceof Error ? err.message : String(err))}</pre>`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  return {
    issuer,
    clientId,
    clientSecret,
    users,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
