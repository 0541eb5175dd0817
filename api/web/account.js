/* account.js - the signed-in person's own account: who they are to the
 * site (name, role, scope) and an API token of their own for scripts
 * (POST /v1/tokens), shown once. */
'use strict';

(() => {
  const {t, el, $, api, clear} = KX;
  let me = null;

  function render() {
    if (!me) return;
    const scope = me.enterprise_name || me.region_name || me.record_name || me.enterprise || me.region || me.record;
    clear($('#me')).append(...[
      [t('f_person'), me.name || ''],
      [t('f_role'), t('role_' + me.role)],
      [t('f_scope'), scope ? `${scope}${me.record || me.enterprise || me.region ? ' (' + (me.record || me.enterprise || me.region) + ')' : ''}` : t('scope_admin')],
    ].filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    $('#my-page').href = KX.home(me.role);
  }

  $('#new-token').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    $('#token-error').textContent = '';
    $('#token-out').hidden = true;
    const body = {expires: f.namedItem('expires').value};
    const label = f.namedItem('label').value.trim();
    if (label) body.label = label;
    $('#make-token').disabled = true;
    try {
      const r = await api('POST', '/v1/tokens', body);
      $('#token-value').value = r.token;
      $('#token-out').hidden = false;
      $('#token-value').select();
    } catch (e) {
      $('#token-error').textContent = KX.errorText(e, {label: 'token_label', expires: 'token_expires'});
      $('#token-error').title = e.message;
    } finally {
      $('#make-token').disabled = false;
    }
  });

  KX.onLang(render);
  KX.init(['enterprise', 'liaison', 'admin', 'expert', 'society'], (who) => {
    me = who;
    render();
  });
})();
