// node-oidc-provider, the classic server peer, started the way its README shows: a Provider
// with one confidential client, mounted on node's http server. Grants it serves here:
// client_credentials and introspection (the code flow needs its interactive login).
// Usage: node peers/oidc-provider.mjs PORT
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
export const CLIENT = { client_id: 'bench', client_secret: 'bench-secret-bench-secret-bench-secret' };

const provider = new Provider(issuer, {
  clients: [
    {
      ...CLIENT,
      grant_types: ['client_credentials', 'authorization_code'],
      redirect_uris: ['https://client.example/cb'],
      response_types: ['code'],
      scope: 'api:read',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://api.example',
      getResourceServerInfo: () => ({
        scope: 'api:read',
        audience: 'https://api.example',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
      useGrantedResource: () => true,
    },
  },
  scopes: ['openid', 'api:read'],
  jwks: { keys: [JSON.parse(process.env.PEER_JWK)] },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
});
provider.proxy = false;
const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => console.log(`oidc-provider ready on ${issuer}`));
