/* signin.js - the sign-in page: a password, a one-time link by e-mail
 * (asked for here, used here: signin.html#link=SECRET), or an API token;
 * then on to `next` (a page of this site only) or the role's own page. */
'use strict';

(() => {
  const {t, $, api} = KX;
  KX.openPage();
  $('#logout').addEventListener('click', () => KX.signOut());

  const params = new URLSearchParams(location.search);
  /* The link's secret comes in the fragment, which no server, proxy log
   * or mail scanner's prefetch sees; take it out of the address bar and
   * history at once. It is used only when the person presses the button. */
  const secret = new URLSearchParams(location.hash.slice(1)).get('link') || '';
  if (secret) history.replaceState(null, '', location.pathname + location.search);
  let next = KX.safeNext(params.get('next') || '');
  /* A link asked for here comes back as signin.html#link=... without the
   * page that sent the person here (a digest's link, say): that page was
   * kept for the link's lifetime. */
  const NEXT_KEEP = 'kxNext';
  if (!next && secret) {
    try {
      const kept = JSON.parse(localStorage.getItem(NEXT_KEEP) || 'null');
      if (kept && Date.now() - kept.at < 16 * 60e3) next = KX.safeNext(kept.next);
    } catch (e) {
      /* nothing kept */
    }
  }

  function notice(key) {
    const n = $('#notice');
    n.dataset.i18n = key;
    n.textContent = t(key);
    n.hidden = false;
  }
  const why = params.get('why');
  if (why === 'out') notice('signed_out');
  else if (why === 'expired') notice('session_over');
  else if (why === 'token') notice('login_failed');

  function go(role) {
    localStorage.removeItem(NEXT_KEEP);
    location.replace(next || KX.home(role));
  }

  function say(box, key, vars) {
    let s = t(key);
    for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', v);
    box.dataset.i18n = '';
    box.textContent = s;
  }

  /* A failed sign-in in the page's language, from the status and the
   * server's (English) sentence. */
  function failed(box, e) {
    if (e.status === 429) {
      const s = e.retryAfter || (/(\d+) s/.exec(e.message) || [])[1] || '';
      return say(box, 'too_many', {s});
    }
    if (e.status === 403 || /disabled/.test(e.message)) return say(box, 'pw_disabled');
    if (e.status === 401 && e.field === 'password') return say(box, 'pw_wrong');
    if (e.status === 401 && e.field === 'link') {
      const used = /used already \(at ([^)]+)\)/.exec(e.message);
      if (used) {
        say(box, 'link_used');
        box.textContent += ' (' + KX.dateOf(used[1]) + ')';
        return undefined;
      }
      return say(box, /expired/.test(e.message) ? 'link_expired' : 'link_unknown');
    }
    box.textContent = KX.errorText(e);
    return undefined;
  }

  /* ---- password ---------------------------------------------------------- */

  $('#password-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = $('#password-error');
    box.textContent = '';
    const b = ev.submitter || $('#password-form button');
    b.disabled = true;
    try {
      const r = await api('POST', '/v1/session', {email: $('#email').value.trim(),
                                                  password: $('#password').value});
      KX.useSession(r.csrf);
      go(r.role);
    } catch (e) {
      failed(box, e);
      b.disabled = false;
    }
  });

  /* ---- a sign-in link by mail -------------------------------------------- */

  $('#link-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = $('#link-error');
    box.textContent = '';
    $('#link-sent').hidden = true;
    try {
      await api('POST', '/v1/session/link', {email: $('#link-email').value.trim()});
      if (next) localStorage.setItem(NEXT_KEEP, JSON.stringify({next, at: Date.now()}));
      $('#link-sent').hidden = false;
    } catch (e) {
      if (e.status === 503) say(box, 'link_unavailable');
      else box.textContent = KX.errorText(e);
    }
  });

  if (secret) {
    $('#redeem-card').hidden = false;
    $('#redeem').addEventListener('click', async (ev) => {
      const box = $('#redeem-error');
      box.textContent = '';
      ev.target.disabled = true;
      try {
        const r = await api('POST', '/v1/session/redeem', {link: secret});
        KX.useSession(r.csrf);
        go(r.role);
      } catch (e) {
        failed(box, e);
        /* the way out: a new link */
        $('#link-card').classList.add('attention');
        $('#link-email').focus();
      }
    });
    $('#redeem').focus();
  }

  /* ---- an API token ------------------------------------------------------- */

  $('#token-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const tk = $('#token').value.trim();
    const box = $('#token-error');
    box.textContent = '';
    let who;
    try {
      const res = await fetch('/v1/whoami', {headers: {Authorization: 'Bearer ' + tk},
                                             credentials: 'omit'});
      who = res.ok ? await res.json() : null;
    } catch (e) {
      who = null;
    }
    if (!who) {
      box.textContent = t('login_failed');
      return;
    }
    KX.useToken(tk);
    go(who.role);
  });
  if (why === 'token') $('#token-box').open = true;

  /* ---- already signed in? ------------------------------------------------- */

  if (!secret)
    api('GET', '/v1/whoami').then((w) => {
      $('#already-who').textContent = [w.name, t('role_' + w.role)].filter(Boolean).join(' · ');
      $('#already-go').href = next || KX.home(w.role);
      $('#already-out').onclick = () => KX.signOut(next);
      $('#already-card').hidden = false;
    }).catch(() => {});
})();
