/* index.js - the landing page: languages only. */
'use strict';
KX.applyI18n();
KX.$('#lang').addEventListener('click', () => {
  localStorage.setItem('kxLang', KX.lang === 'en' ? 'zh' : 'en');
  location.reload();
});
