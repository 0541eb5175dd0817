/* admin.js - the administrator's page: people's accounts (GET, POST
 * /v1/users; PUT /v1/users/{id} to change a role or disable one) and the
 * audit log (GET /v1/audit, page by page), filtered here by person,
 * action and date. */
'use strict';

(() => {
  const {t, el, $, api, clear} = KX;
  const ROLES = ['liaison', 'enterprise', 'expert', 'society', 'admin'];
  /* The API's fields named by this page's labels. */
  const LABELS = {name: 'f_person', region: 'f_scope', record: 'f_scope', role: 'f_role',
                  email: 'f_email', password: 'f_password'};
  let me = null;
  let users = [];
  let audit = [];    /* entries loaded so far, newest first */
  let next = '';     /* where the next page of the audit log starts */
  const form = $('#add-form');
  const fld = (n) => form.elements.namedItem(n);

  /* ---- accounts ------------------------------------------------------------- */

  const scopeOf = (u) => u.region || u.record || '';

  /* The body's scope for a role: a region for a liaison, a record key
   * for the others, none for an administrator. */
  function withScope(b, role, scope) {
    if (role === 'liaison' && scope) b.region = scope;
    else if (role !== 'admin' && scope) b.record = scope;
    return b;
  }

  function scopeHint(input, role) {
    input.dataset.i18nPh = 'scope_' + role;
    input.placeholder = t('scope_' + role);
    input.disabled = role === 'admin';
    if (role === 'admin') input.value = '';
  }

  function roleSelect(value) {
    return el('select', {class: 'role-sel', 'aria-label': t('f_role')},
      ROLES.map((r) => el('option', {value: r, selected: r === value}, t('role_' + r))));
  }

  async function put(u, body, ok) {
    try {
      await api('PUT', `/v1/users/${encodeURIComponent(u.id)}`, body);
      KX.toast(ok || t('user_saved'));
    } catch (e) {
      KX.toast(KX.errorText(e, LABELS), true);
    }
    await loadUsers();
    await loadAudit(true);
  }

  function renderUsers() {
    const tb = clear($('#users tbody'));
    for (const u of users) {
      const sel = roleSelect(u.role);
      const scope = el('input', {class: 'scope', spellcheck: 'false', 'aria-label': t('f_scope')});
      scope.value = scopeOf(u);
      scopeHint(scope, u.role);
      sel.addEventListener('change', () => scopeHint(scope, sel.value));
      const self = me && u.id === me.user;
      tb.append(el('tr', {dataset: {id: u.id, email: u.email}, class: u.disabled ? 'off' : null},
        el('td', {}, u.name, el('div', {class: 'meta'}, u.id)),
        el('td', {}, u.email),
        el('td', {class: 'role-cell'}, sel, scope,
           el('button', {type: 'button', class: 'role-save', disabled: self,
                         onclick: () => put(u, withScope({role: sel.value}, sel.value, scope.value.trim()))},
              t('change_role'))),
        el('td', {class: 'state'}, t(u.disabled ? 'st_disabled' : 'st_active'),
           el('div', {class: 'meta'}, t(u.password ? 'pw_yes' : 'pw_no'))),
        el('td', {}, KX.dateOf(u.created)),
        el('td', {}, el('button', {type: 'button', class: u.disabled ? 'enable' : 'disable danger',
                                   disabled: self,
                                   onclick: () => put(u, {disabled: !u.disabled})},
                        t(u.disabled ? 'enable' : 'disable')))));
    }
  }

  async function loadUsers() {
    try {
      users = (await api('GET', '/v1/users')).users || [];
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return;
    }
    users.sort((a, b) => (a.created || '').localeCompare(b.created || '') || a.email.localeCompare(b.email));
    renderUsers();
  }

  fld('role').addEventListener('change', () => scopeHint(fld('scope'), fld('role').value));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('#add-error').textContent = '';
    const role = fld('role').value;
    const b = withScope({email: fld('email').value.trim(), name: fld('name').value.trim(), role},
                        role, fld('scope').value.trim());
    if (fld('password').value) b.password = fld('password').value;
    $('#add').disabled = true;
    try {
      await api('POST', '/v1/users', b);
      KX.toast(t('user_added'));
      form.reset();
      scopeHint(fld('scope'), fld('role').value);
      await loadUsers();
      await loadAudit(true);
    } catch (e) {
      $('#add-error').textContent = KX.errorText(e, LABELS);
      $('#add-error').title = e.message;
    } finally {
      $('#add').disabled = false;
    }
  });

  /* ---- the audit log ---------------------------------------------------------- */

  /* Who acted: the person's name, with the token when one was used; a
   * token or the command line by its id. */
  function personOf(e) {
    if (e.name) return e.name;
    if (e.who === '-' || !e.who) return t('anonymous');
    if (e.who === 'cli') return t('who_cli');
    if (e.who === 'link') return t('who_link');
    return e.who;
  }
  /* Below the person: the token or link they acted through. */
  function throughOf(e) {
    if (e.user && e.who && e.who !== e.user) return e.who;
    if (e.who === 'link' && e.scope) return e.scope;
    return '';
  }
  const personKey = (e) => e.user || e.who || '-';

  /* A date picked in the filters against an entry's time, both in the
   * viewer's own time zone. */
  const dayOf = (iso) => KX.dateOf(iso).slice(0, 10);

  function fillSelect(sel, values) {
    const keep = sel.value;
    clear(sel).append(el('option', {value: ''}, t('all')));
    for (const [v, label] of values) sel.append(el('option', {value: v}, label));
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : '';
  }

  function renderAudit() {
    const people = new Map(), whats = new Set();
    for (const e of audit) {
      if (!people.has(personKey(e))) people.set(personKey(e), personOf(e));
      whats.add(e.what);
    }
    fillSelect($('#f-person'), [...people].sort((a, b) => a[1].localeCompare(b[1])));
    fillSelect($('#f-what'), [...whats].sort().map((w) => [w, w]));
    const p = $('#f-person').value, w = $('#f-what').value;
    const from = $('#f-from').value, to = $('#f-to').value;
    const shown = audit.filter((e) => (!p || personKey(e) === p) && (!w || e.what === w) &&
                                      (!from || dayOf(e.when) >= from) && (!to || dayOf(e.when) <= to));
    const tb = clear($('#audit tbody'));
    if (!shown.length) tb.append(el('tr', {}, el('td', {colspan: 5, class: 'empty'}, t('none'))));
    for (const e of shown)
      tb.append(el('tr', {class: 'audit-row', dataset: {what: e.what, user: personKey(e)}},
        el('td', {}, KX.dateOf(e.when)),
        el('td', {class: 'person'}, personOf(e),
           throughOf(e) ? el('div', {class: 'meta'}, throughOf(e)) : null),
        el('td', {}, e.role ? t('role_' + e.role) : ''),
        el('td', {class: 'what'}, e.what),
        el('td', {class: 'key'}, e.key || '')));
    $('#audit-count').textContent = t('audit_shown').replace('{n}', shown.length).replace('{m}', audit.length);
    $('#audit-more').hidden = !next;
  }

  async function loadAudit(fresh) {
    const q = new URLSearchParams({limit: 200});
    if (!fresh && next) q.set('before', next);
    let r;
    try {
      r = await api('GET', '/v1/audit?' + q.toString());
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return;
    }
    audit = fresh ? r.entries : audit.concat(r.entries);
    next = r.next || '';
    renderAudit();
  }

  for (const id of ['#f-person', '#f-what', '#f-from', '#f-to'])
    $(id).addEventListener('change', renderAudit);
  $('#audit-more').addEventListener('click', () => loadAudit(false));
  KX.onLang(() => {
    renderUsers();
    renderAudit();
  });
  KX.init(['admin'], (who) => {
    me = who;
    scopeHint(fld('scope'), fld('role').value);
    loadUsers();
    loadAudit(true);
  });
})();
