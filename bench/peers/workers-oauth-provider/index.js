// @cloudflare/workers-oauth-provider as a benchmark peer, set up the way its README shows for one
// Worker (`OAuthProvider` with a default handler that owns /authorize). The default handler
// approves every request for a fixed user (the benchmark measures token issuance, not a login
// page) and, for the harness only, creates a client at /bench/client. Grants it serves:
// authorization_code and refresh_token.
import { OAuthProvider } from '@cloudflare/workers-oauth-provider';

const defaultHandler = {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/authorize') {
      const authRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request);
      const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
        request: authRequest,
        userId: 'bench',
        metadata: {},
        scope: authRequest.scope,
        props: { userId: 'bench' },
        // The library revokes earlier grants on re-authorization by default.
        revokeExistingGrants: false,
      });
      return Response.redirect(redirectTo, 302);
    }
    if (url.pathname === '/bench/client' && request.method === 'POST') {
      const client = await env.OAUTH_PROVIDER.createClient({
        redirectUris: ['https://client.example/cb'],
        clientName: 'bench',
        tokenEndpointAuthMethod: 'client_secret_basic',
        grantTypes: ['authorization_code', 'refresh_token'],
        responseTypes: ['code'],
      });
      return Response.json(client);
    }
    if (url.pathname === '/health') return new Response('ok');
    return new Response('not found', { status: 404 });
  },
};

const apiHandler = {
  async fetch(_request, _env, ctx) {
    return Response.json({ props: ctx.props });
  },
};

export default new OAuthProvider({
  apiRoute: '/api/',
  apiHandler,
  defaultHandler,
  authorizeEndpoint: '/authorize',
  tokenEndpoint: '/oauth/token',
  scopesSupported: ['read'],
  // Required by the library; the benchmark never calls the API route.
  resourceMetadata: { resource: 'http://127.0.0.1/api/', authorization_servers: ['http://127.0.0.1/'] },
  requiredScopes: ['read'],
});
