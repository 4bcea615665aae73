// A real OpenID Connect provider for the single sign-on tests (panva's oidc-provider, OpenID Certified), on
// loopback only. It is never part of the application: tests/oidc.py starts it, one process per test session (and
// one more per test-only mode), and reads the line "listening on <issuer>" from its standard output.
//
//   node server.mjs --port 0 --redirect-uri http://127.0.0.1:5000/sso/callback [--users users.json] [--mode M]
//
// One confidential client (client_secret_basic, authorization code flow, PKCE S256 required). People sign in on
// oidc-provider's own development login page (devInteractions: any password; the login names the account). Their
// claims come from the JSON file given by --users ({"login": {"email": ..., "email_verified": ..., ...}}), read
// again at each sign-in so that a test can add people while the provider runs. Consent is implied for our client.
//
// Test-only modes (--mode), each answering as a broken or hostile provider would, so the tests see it refused:
//   expired    the ID token from the token endpoint expired ten minutes ago (signed with the provider's real key)
//   wrong-key  the ID token is signed with a key other than the one the provider publishes at its jwks_uri
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import * as jose from "jose";
import Provider from "oidc-provider";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: process.env.OIDC_PORT || "0" },
    "redirect-uri": { type: "string", multiple: true, default: [] },
    users: { type: "string", default: process.env.OIDC_USERS || "" },
    mode: { type: "string", default: process.env.OIDC_MODE || "normal" },
    "client-id": { type: "string", default: process.env.OIDC_CLIENT_ID || "lms" },
    "client-secret": { type: "string", default: process.env.OIDC_CLIENT_SECRET || "lms-test-secret" },
  },
});

const MODES = new Set(["normal", "expired", "wrong-key"]);
if (!MODES.has(args.mode)) {
  console.error(`unknown --mode ${args.mode}: one of ${[...MODES].join(", ")}`);
  process.exit(2);
}
if (args["redirect-uri"].length === 0) {
  console.error("give at least one --redirect-uri");
  process.exit(2);
}

const BUILT_IN_USERS = {
  alice: { email: "alice@example.org", email_verified: true, name: "Alice Example", groups: ["staff"] },
};

function users() {
  if (!args.users) return BUILT_IN_USERS;
  return { ...BUILT_IN_USERS, ...JSON.parse(readFileSync(args.users, "utf8")) };
}

async function signingKey() {
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: "lms-test-key", alg: "RS256", use: "sig" };
}

const realKey = await signingKey();
const otherKey = await signingKey(); // same kid, another key: what the wrong-key mode signs with

const server = createServer();
await new Promise((resolve) => server.listen(Number(args.port), "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args["client-id"],
      client_secret: args["client-secret"],
      redirect_uris: args["redirect-uri"],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [realKey] },
  cookies: { keys: ["lms-test-cookie-key"] },
  pkce: { required: () => true },
  conformIdTokenClaims: false, // the requested scopes' claims go in the ID token, as most providers do
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "lms_role"],
    groups: ["groups"],
  },
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: 3600, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(ctx, sub) {
    const person = users()[sub];
    if (!person) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...person }) };
  },
  async loadExistingGrant(ctx) {
    // Our one client is first-party: consent is implied for the scopes it asks for.
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(" "));
    await grant.save();
    return grant;
  },
});

async function resign(idToken, key, change) {
  const claims = { ...jose.decodeJwt(idToken), ...change(Math.floor(Date.now() / 1000)) };
  const signing = await jose.importJWK(key, "RS256");
  return new jose.SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" }).sign(signing);
}

if (args.mode !== "normal") {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== "/token" || ctx.status !== 200 || !ctx.body?.id_token) return;
    if (args.mode === "expired") {
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, realKey, (now) => ({ iat: now - 1200, exp: now - 600 })) };
    } else if (args.mode === "wrong-key") {
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, otherKey, () => ({})) };
    }
  });
}

server.on("request", provider.callback());
console.log(`listening on ${issuer}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
