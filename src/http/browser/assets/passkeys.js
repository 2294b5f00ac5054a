// Passkeys on the sign-in and account pages (WebAuthn Level 3). Progressive enhancement: the
// pages work without it; with it, "Sign in with a passkey" (and passkey autofill in the username
// field, where the browser offers conditional mediation) and "Add a passkey" run the ceremonies
// and post their answers with the page's own forms. Served from this origin (CSP script-src
// 'self'); no dependencies.
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  const enc = (buf) =>
    btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

  /** The credential as JSON (the shape of PublicKeyCredential.toJSON(), §5.1.10). */
  function toJSON(cred) {
    const r = cred.response;
    const response = { clientDataJSON: enc(r.clientDataJSON) };
    if (r.attestationObject) response.attestationObject = enc(r.attestationObject);
    if (r.authenticatorData) response.authenticatorData = enc(r.authenticatorData);
    if (r.signature) response.signature = enc(r.signature);
    if (r.userHandle) response.userHandle = enc(r.userHandle);
    return JSON.stringify({ id: cred.id, rawId: enc(cred.rawId), type: cred.type, response });
  }

  async function options(purpose) {
    const body = new URLSearchParams({ purpose, csrf: document.querySelector('input[name="csrf"]').value });
    const res = await fetch('/passkeys/options', { method: 'POST', body, credentials: 'same-origin' });
    const json = await res.json();
    if (!res.ok) throw new Error(json.error_description || 'The server refused the passkey request.');
    return json;
  }

  function showError(form, err) {
    const p = form.querySelector('.passkey-error');
    if (!p || err?.name === 'AbortError') return;
    p.textContent = err?.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.' : String(err?.message || err);
    p.hidden = false;
  }

  // Sign in: a button, and conditional mediation (autofill) where available. The answer is
  // posted with a copy of the sign-in form's hidden fields (the authorization request, if any,
  // and the anti-CSRF token).
  const signIn = document.getElementById('passkey-sign-in');
  const source = document.querySelector('form[method="post"]');
  if (signIn && source) {
    signIn.hidden = false;
    let pending = null;
    const post = (cred) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = '/login/passkey';
      form.hidden = true;
      for (const input of source.querySelectorAll('input[type="hidden"]')) form.appendChild(input.cloneNode());
      const c = document.createElement('input');
      c.type = 'hidden';
      c.name = 'credential';
      c.value = toJSON(cred);
      form.appendChild(c);
      document.body.appendChild(form);
      form.submit();
    };
    const run = async (mediation) => {
      if (pending) pending.abort();
      const controller = new AbortController();
      pending = controller;
      const o = await options('sign_in');
      const publicKey = {
        challenge: dec(o.challenge),
        rpId: o.rpId,
        timeout: o.timeout,
        userVerification: o.userVerification,
        allowCredentials: [],
      };
      const cred = await navigator.credentials.get({ publicKey, mediation, signal: controller.signal });
      if (cred) post(cred);
    };
    signIn.querySelector('button').addEventListener('click', () => run(undefined).catch((e) => showError(signIn, e)));
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (ok) run('conditional').catch(() => {});
      });
    }
  }

  // Account: add a passkey.
  const add = document.getElementById('passkey-add');
  if (add) {
    add.addEventListener('submit', async (event) => {
      if (add.elements.credential.value) return;
      event.preventDefault();
      try {
        const o = await options('register');
        const publicKey = {
          ...o,
          challenge: dec(o.challenge),
          user: { ...o.user, id: dec(o.user.id) },
          excludeCredentials: o.excludeCredentials.map((c) => ({ ...c, id: dec(c.id) })),
        };
        const cred = await navigator.credentials.create({ publicKey });
        add.elements.credential.value = toJSON(cred);
        add.submit();
      } catch (e) {
        showError(add, e);
      }
    });
  }
})();
