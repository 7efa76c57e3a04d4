// A real OpenID Connect provider (the certified `oidc-provider` package) on
// loopback for the tests: the national platform's unified identity
// authentication (clients of the APP/H5 pages and of the Alipay and WeChat
// mini-programs) and a provincial staff directory, each its own issuer.
//
//   node provider.mjs --state FILE [--platform-port N] [--staff-port N]
//
// Prints one JSON line {"platform": URL, "staff": URL} once both listen.
// Signing keys are kept in FILE so that a restart (the provider "down" and
// back) keeps them. Test hooks, on each issuer (loopback only, tests only):
//   POST /interaction/:uid/login  form login=<account>  signs the account in
//                                  (consent is granted automatically)
//   POST /admin/rotate             a new signing key signs from now on; the
//                                  old one stays published
//   POST /admin/next-id-token      JSON {"aud"?, "expired"?, "tamper"?}: the
//                                  next token response carries an ID token
//                                  changed so (re-signed with the provider's
//                                  own key, or its payload altered)
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import { importJWK, SignJWT, decodeProtectedHeader, decodeJwt } from 'jose';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    state: { type: 'string' },
    'platform-port': { type: 'string', default: '0' },
    'staff-port': { type: 'string', default: '0' },
  },
});
const here = new URL('.', import.meta.url);
const accounts = JSON.parse(readFileSync(new URL('accounts.json', here), 'utf8'));
const CLIENTS = JSON.parse(readFileSync(new URL('clients.json', here), 'utf8'));

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID().slice(0, 8), alg: 'RS256', use: 'sig' };
}

const statePath = args.state;
const saved = statePath && existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
const keys = { platform: saved.platform ?? [newKey()], staff: saved.staff ?? [newKey()] };
const save = () => statePath && writeFileSync(statePath, JSON.stringify(keys));
save();

const CLAIMS = {
  openid: ['sub'],
  profile: ['name'],
  platform: ['user_type', 'id_number', 'uscc', 'real_name_level', 'channel', 'account_source'],
  staff: ['preferred_username', 'province', 'roles'],
};

function configuration(kind, issuer) {
  const clients = kind === 'staff' ? CLIENTS.staff : CLIENTS.platform;
  return {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      ...(c.client_secret ? { client_secret: c.client_secret } : {}),
      redirect_uris: c.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.client_secret ? 'client_secret_basic' : 'none',
    })),
    jwks: { keys: keys[kind] },
    cookies: { keys: ['permit-test-cookie-key-0123456789abcdef'] },
    claims: CLAIMS,
    scopes: ['openid', 'profile', kind],
    // The platform hands out only `sub` in the ID token (the rest from
    // userinfo); the staff directory puts every claim in the ID token.
    conformIdTokenClaims: kind !== 'staff',
    features: { devInteractions: { enabled: false } },
    pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
    ttl: { AuthorizationCode: 600, IdToken: 3600, AccessToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const account = (kind === 'staff' ? accounts.staff : accounts.platform)[id];
      if (!account) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...account }; } };
    },
    async loadExistingGrant(ctx) {
      // First-party clients of the platform: consent is implied.
      const { Grant } = ctx.oidc.provider;
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const found = await Grant.find(grantId);
        if (found) return found;
      }
      const grant = new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(`openid profile ${kind}`);
      await grant.save();
      return grant;
    },
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function issuerServer(kind, port) {
  let issuer;
  let provider;
  let nextIdToken = null;
  const build = () => {
    provider = new Provider(issuer, configuration(kind, issuer));
    provider.proxy = false;
  };

  async function mutate(body) {
    const change = nextIdToken;
    nextIdToken = null;
    const json = JSON.parse(body);
    if (!json.id_token) return body;
    if (change.tamper) {
      const [h, p, s] = json.id_token.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
      claims.sub = `${claims.sub}-forged`;
      json.id_token = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
    } else {
      const header = decodeProtectedHeader(json.id_token);
      const claims = decodeJwt(json.id_token);
      if (change.aud) claims.aud = change.aud;
      if (change.expired) {
        claims.iat -= 7200;
        claims.exp = claims.iat + 600;
      }
      const jwk = keys[kind].find((k) => k.kid === header.kid);
      json.id_token = await new SignJWT(claims).setProtectedHeader(header).sign(await importJWK(jwk, 'RS256'));
    }
    return JSON.stringify(json);
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      if (req.method === 'POST' && url.pathname === '/admin/rotate') {
        keys[kind].unshift(newKey());
        save();
        build();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kid: keys[kind][0].kid }));
        return;
      }
      if (req.method === 'POST' && url.pathname === '/admin/next-id-token') {
        nextIdToken = JSON.parse(await readBody(req));
        res.writeHead(204);
        res.end();
        return;
      }
      const login = url.pathname.match(/^\/interaction\/([^/]+)\/login$/);
      if (req.method === 'POST' && login) {
        const form = new URLSearchParams(await readBody(req));
        const details = await provider.interactionDetails(req, res);
        const known = (kind === 'staff' ? accounts.staff : accounts.platform)[form.get('login')];
        const result = known
          ? { login: { accountId: form.get('login') } }
          : { error: 'access_denied', error_description: 'unknown account' };
        void details;
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
        return;
      }
      if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<form method="post" action="/interaction/${details.uid}/login">`
          + '<input name="login"><button>登录</button></form>');
        return;
      }
      if (req.method === 'POST' && url.pathname === '/token' && nextIdToken) {
        // Let the provider answer, then change the ID token as armed.
        const chunks = [];
        const { write, end, setHeader } = res;
        res.setHeader = (name, value) => (name.toLowerCase() === 'content-length' ? res : setHeader.call(res, name, value));
        res.write = (c) => { chunks.push(Buffer.from(c)); return true; };
        res.end = (c) => {
          if (c) chunks.push(Buffer.from(c));
          res.write = write; res.end = end; res.setHeader = setHeader;
          mutate(Buffer.concat(chunks).toString('utf8'))
            .then((b) => end.call(res, b))
            .catch((e) => end.call(res, String(e)));
          return res;
        };
      }
      provider.callback()(req, res);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e?.message ?? e));
    }
  });
  return new Promise((resolve) => {
    server.listen(Number(port), '127.0.0.1', () => {
      issuer = `http://127.0.0.1:${server.address().port}`;
      build();
      resolve(issuer);
    });
  });
}

const platform = await issuerServer('platform', args['platform-port']);
const staff = await issuerServer('staff', args['staff-port']);
process.stdout.write(`${JSON.stringify({ platform, staff })}\n`);
process.on('SIGTERM', () => process.exit(0));
