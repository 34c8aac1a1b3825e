// A real OpenID provider for integration.sso: npm's oidc-provider (pinned in package-lock.json)
// with its own login page, so that nothing the browser loads comes from outside this machine.
//
//   node provider.mjs LISTEN_HOST PORT ISSUER
//
// One public native client, "calnet-desktop": authorization code with PKCE (loopback redirect
// on any port, RFC 8252 §7.3), refresh tokens with offline_access, and the device grant
// (RFC 8628). People sign in with an email of the accounts below (no password: a test).
// Prints "listening" when ready; stops on SIGTERM.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const [host, portText, issuer] = process.argv.slice(2);
const accounts = new Map([
  ['ada@example.com', { sub: 'ada-1', name: 'Ada Lovelace' }],
  ['bob@example.com', { sub: 'bob-2', name: 'Bob Builder' }],
  ['eve@evil.org', { sub: 'eve-3', name: 'Eve Outsider' }],
]);
const bySub = new Map([...accounts].map(([email, a]) => [a.sub, { email, ...a }]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'calnet-test-1', alg: 'RS256', use: 'sig' };

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif;margin:3em}input,button{font-size:1.1em;margin:.3em 0}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'calnet-desktop',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomUUID()] },
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // the ID token carries email and name: the server reads them there
  ttl: { IdToken: 3600, AccessToken: 3600, RefreshToken: 86400, DeviceCode: 600, Interaction: 600, Session: 3600, Grant: 86400 },
  issueRefreshToken: async (ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  findAccount: async (ctx, sub) => {
    const a = bySub.get(sub);
    if (!a) return undefined;
    return { accountId: sub, claims: async () => ({ sub, email: a.email, email_verified: true, name: a.name }) };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: async (ctx, form, out, err) => {
        ctx.body = page('Enter the code', `${err ? '<p id="error">That code is not right.</p>' : ''}${form}
<button id="continue" type="submit" form="op.deviceInputForm">Continue</button>`);
      },
      userCodeConfirmSource: async (ctx, form, client, deviceInfo, userCode) => {
        ctx.body = page('Confirm the code', `<p>Is <b id="code">${userCode}</b> the code on your device?</p>${form}
<button id="confirm" type="submit" form="op.deviceConfirmForm">Yes, continue</button>
<button id="abort" type="submit" form="op.deviceConfirmForm" value="yes" name="abort">No</button>`);
      },
      successSource: async (ctx) => {
        ctx.body = page('Signed in', '<p id="done">You are signed in on your device.</p>');
      },
    },
    rpInitiatedLogout: { enabled: false },
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre id="error">${JSON.stringify(out)}</pre>`);
  },
});
provider.proxy = false;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const parts = url.pathname.split('/'); // ['', 'interaction', uid, action?]
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (req.method === 'GET' && prompt.name === 'login') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Sign in to the test provider', `<form method="post" action="/interaction/${parts[2]}/login">
<label>Email <input id="email" name="email" autofocus></label><br>
<button id="signin" type="submit">Sign in</button>
<button id="deny" type="submit" name="deny" value="1">Cancel</button></form>`));
    return;
  }
  if (req.method === 'POST' && parts[3] === 'login') {
    const form = await readForm(req);
    if (form.get('deny')) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person cancelled.' });
      return;
    }
    const account = accounts.get((form.get('email') || '').trim().toLowerCase());
    if (!account) {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(page('Sign in to the test provider', '<p id="error">No such account.</p>'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') { // consent is given at once: a test provider
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    if (prompt.details.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end('unexpected interaction');
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((e) => {
      console.error('interaction failed:', e);
      res.statusCode = 500;
      res.end(String(e));
    });
    return;
  }
  callback(req, res);
});
server.listen(Number(portText), host, () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
