/* index.js - the landing page: languages, and who is signed in (their
 * name leads to their own page; else a sign-in link). */
'use strict';
KX.applyI18n();
KX.$('#lang').addEventListener('click', () => {
  localStorage.setItem('kxLang', KX.lang === 'en' ? 'zh' : 'en');
  location.reload();
});
KX.api('GET', '/v1/whoami').then((w) => {
  const a = KX.$('#signin');
  a.removeAttribute('data-i18n');
  a.textContent = [w.name, KX.t('role_' + w.role)].filter(Boolean).join(' · ');
  a.href = KX.home(w.role);
}).catch(() => {});
