/* answer.js - a digest's one-click answer (answer.html#t=TOKEN): shows the
 * proposal the signed link names (GET /v1/answers, which changes nothing,
 * so a mail scanner's prefetch is harmless) and answers only when the
 * person presses "interested" or "not for me" (POST /v1/answers). No
 * sign-in: the link itself is signed, bound to the recipient and the pair,
 * expiring, and answers once. */
'use strict';

(() => {
  const {t, $, api} = KX;
  KX.openPage();

  const tok = new URLSearchParams(location.hash.slice(1)).get('t') ||
              new URLSearchParams(location.search).get('t') || '';
  let shown = null; /* the GET reply */
  let done = '';    /* the answer given here */

  function message(box, key, extra) {
    box.dataset.i18n = '';
    box.textContent = t(key) + (extra || '');
    box.hidden = false;
  }

  /* A refused link in the page's language, by status (and field). */
  function refused(e) {
    const box = $('#answer-error');
    if (e.status === 409 && e.field === 't') return message(box, 'answer_already');
    if (e.status === 409) return message(box, 'answer_closed');
    if (e.status === 401) return message(box, 'answer_expired');
    if (e.status === 403 || (e.status === 400 && e.field === 't')) return message(box, 'answer_invalid');
    box.textContent = KX.errorText(e);
    return undefined;
  }

  function when(x) {
    if (typeof x === 'number') return KX.dateOf(new Date(x * 1000).toISOString());
    return KX.dateOf(x);
  }

  function answered(a) {
    $('#answer-form').hidden = true;
    message($('#result'), 'ans_state_' + a.answer, a.when ? ` · ${t('answered_at')}${when(a.when)}` : '');
  }

  function show(r) {
    shown = r;
    $('#proposal').hidden = false;
    $('#need-name').textContent = r.need_name || r.need;
    $('#partner').textContent = r.partner !== r.recipient || !r.partner_name
      ? t('answer_partner') + (r.partner_name || r.partner) : t('answer_for') + r.partner_name;
    $('#until').textContent = r.expires ? t('answer_until') + when(r.expires) : '';
    const id = r.need.replace(/^need:/, '');
    $('#to-page').href = 'signin.html?next=' + encodeURIComponent('/expert.html?need=' + id);
    if (r.answered) {
      message($('#answer-error'), 'answer_already');
      answered(r.answered);
    } else {
      $('#answer-form').hidden = false;
    }
  }

  $('#answer-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const answer = ev.submitter && ev.submitter.value;
    if (answer !== 'interested' && answer !== 'declined') return;
    $('#answer-error').textContent = '';
    const buttons = $('#answer-form').querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    const body = {t: tok, answer};
    const note = $('#note').value.trim();
    if (note) body.note = note;
    try {
      await api('POST', '/v1/answers', body);
      done = answer;
      $('#answer-form').hidden = true;
      message($('#result'), 'answer_done_' + answer);
    } catch (e) {
      refused(e);
      if (e.status === 409 && e.field === 't') $('#answer-form').hidden = true;
      buttons.forEach((b) => { b.disabled = false; });
    }
  });

  if (!tok) {
    message($('#answer-error'), 'answer_missing');
  } else {
    api('GET', '/v1/answers?t=' + encodeURIComponent(tok)).then(show).catch(refused);
  }
  KX.onLang(() => {
    if (shown) show(shown);
    if (done) {
      $('#answer-form').hidden = true;
      message($('#result'), 'answer_done_' + done);
    }
  });
})();
