// @openauthjs/openauth as a benchmark peer: its issuer on Cloudflare KV, set up the way its README
// shows (`issuer({ providers, storage: CloudflareStorage, subjects, success })`) with its password
// provider and PasswordUI. Grants it serves: authorization_code, refresh_token, and
// client_credentials through a provider's `client` hook.
//
// Two changes for the harness, both outside the library:
//  - KV refuses expirationTtl < 60 s, and the library's KV adapter computes 59 s for its 60 s code
//    and refresh-reuse TTLs; the adapter below clamps the expiry to >= 61 s.
//  - A `bench` provider approves /bench/authorize at once for a fixed user (as the
//    workers-oauth-provider peer's /authorize does), so the harness can mint thousands of codes
//    without a scrypt check each; it also serves client_credentials for one static client.
//    The password flow is exercised once per run as a check that the real login works.
import { issuer } from '@openauthjs/openauth';
import { CloudflareStorage } from '@openauthjs/openauth/storage/cloudflare';
import { PasswordProvider, ScryptHasher } from '@openauthjs/openauth/provider/password';
import { PasswordUI } from '@openauthjs/openauth/ui/password';
import { createSubjects } from '@openauthjs/openauth/subject';
import { object, string } from 'valibot';

const subjects = createSubjects({ user: object({ id: string() }) });
const BENCH_CLIENT = { id: 'bench', secret: 'bench-secret-bench-secret-bench-secret' };

function clampedStorage(namespace) {
  const inner = CloudflareStorage({ namespace });
  return {
    ...inner,
    set(key, value, expiry) {
      const min = new Date(Date.now() + 61_000);
      return inner.set(key, value, expiry && expiry < min ? min : expiry);
    },
  };
}

const benchProvider = {
  type: 'bench',
  init(routes, ctx) {
    routes.get('/authorize', (c) => ctx.success(c, { email: 'bench@example.com' }));
  },
  async client({ clientID, clientSecret }) {
    if (clientID !== BENCH_CLIENT.id || clientSecret !== BENCH_CLIENT.secret) throw new Error('invalid client');
    return { email: `client:${clientID}` };
  },
};

let app;
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === '/health') return new Response('ok');
    if (url.pathname === '/bench/user' && request.method === 'POST') {
      // Harness only: stores a password the way the password provider's /register does, without
      // its e-mail verification step.
      const { email, password } = await request.json();
      const storage = clampedStorage(env.AUTH_STORAGE);
      await storage.set(['email', email, 'password'], await ScryptHasher().hash(password));
      return Response.json({ ok: true });
    }
    app ??= issuer({
      subjects,
      storage: clampedStorage(env.AUTH_STORAGE),
      providers: {
        password: PasswordProvider(PasswordUI({ sendCode: async () => {} })),
        bench: benchProvider,
      },
      // Every redirect URI is allowed (the default allows only the issuer's own domain).
      allow: async () => true,
      async success(ctx, value) {
        return ctx.subject('user', { id: value.email });
      },
    });
    return app.fetch(request, env, ctx);
  },
};
