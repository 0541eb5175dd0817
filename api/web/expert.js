/* expert.js - the page of an expert, academician or society signed in to
 * their own account: their profile (PUT /v1/me/record), the needs their
 * digests proposed to them and the open needs that fit them, each answered
 * "interested" or "not for me" with a line of text (POST /v1/me/answers,
 * into the liaison officers' pipeline). A digest's link lands here as
 * expert.html?need=ID: that need, on top, with the same two answers. */
'use strict';

(() => {
  const {t, el, $, api, clear} = KX;
  const form = $('#profile-form');
  const fld = (n) => form.elements.namedItem(n);
  const pickers = {};
  document.querySelectorAll('.codepick').forEach((b) => {
    pickers[b.dataset.name] = KX.codePicker(b);
  });
  let me = null;       /* whoami */
  let record = null;   /* my record as stored */
  let proposals = [];  /* GET /v1/me/proposals */
  let fits = null;     /* GET /v1/me/matches, or {error} */
  let linked = null;   /* the need of ?need=: {key, record, labels} or {key, error} */
  /* What each (need, partner) stands at as far as this page knows: the
   * proposals' stages, then the answers given here. */
  const answers = new Map();
  const pair = (need, partner) => `${need} ${partner}`;
  const NOTE_MAX = 160; /* characters: the server takes 500 bytes */

  /* ---- answering ----------------------------------------------------------- */

  function stateText(cur) {
    if (!cur || !cur.stage) return '';
    if (cur.stage === 'interested' || cur.stage === 'declined') return t('ans_state_' + cur.stage);
    return `${t('col_stage')}: ${KX.stageName(cur.stage)}`;
  }

  /* What a need stands at for me: the pair's own answer, else that of
   * another pair of the same need (a result of mine, a digest's link). */
  function known(need, partner) {
    const own = answers.get(pair(need, partner));
    if (own) return own;
    for (const [k, v] of answers) if (k.startsWith(need + ' ')) return v;
    return null;
  }

  /* The two answers to one (need, partner), with a line of text. */
  function answerBox(need, partner) {
    const cur = known(need, partner);
    const note = el('input', {class: 'ans-note', maxlength: NOTE_MAX, placeholder: t('ans_note_ph'),
                              'aria-label': t('ans_note_ph')});
    note.value = (cur && cur.note) || '';
    const box = el('div', {class: 'answer', dataset: {need, partner}});
    const button = (answer, cls, label) => el('button', {
      type: 'button', class: cls + (cur && cur.stage === answer ? ' chosen' : ''),
      'aria-pressed': cur && cur.stage === answer ? 'true' : 'false',
      onclick: () => send(need, partner, answer, note.value.trim(), box),
    }, t(label));
    box.append(note, el('div', {class: 'ans-buttons'},
      button('interested', 'ans-yes primary', 'ans_yes'),
      button('declined', 'ans-no', 'ans_no'),
      el('span', {class: 'ans-state'}, stateText(cur))));
    return box;
  }

  async function send(need, partner, answer, note, box) {
    const buttons = box.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    const body = {need, answer};
    if (note) body.note = note;
    if (partner !== me.record) body.partner = partner; /* a result of mine */
    try {
      const e = await api('POST', '/v1/me/answers', body);
      answers.set(pair(need, partner), {stage: e.stage, note: e.note || ''});
      KX.toast(t('ans_saved'));
      renderAll();
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  /* ---- the need of the link -------------------------------------------------- */

  async function openNeed(id) {
    const key = 'need:' + id;
    try {
      const r = await api('GET', `/v1/needs/${encodeURIComponent(id)}`);
      linked = {key, record: r.record, labels: r.labels || {}};
    } catch (e) {
      linked = {key, error: e};
    }
    renderLinked();
    $('#need-card').scrollIntoView({block: 'start'});
  }

  function renderLinked() {
    const card = $('#need-card');
    if (!linked) {
      card.hidden = true;
      return;
    }
    card.hidden = false;
    $('#need-key').textContent = linked.key;
    const box = clear($('#need'));
    if (linked.error) {
      box.append(el('p', {class: 'error', title: linked.error.message},
                    linked.error.status === 404 ? t('need_missing') : KX.errorText(linked.error)));
      return;
    }
    const r = linked.record, l = linked.labels;
    const facts = [
      [t('f_enterprise'), l.enterprise || r.enterprise],
      [t('f_region'), l.region_path || l.region || r.region],
      [t('f_status'), t('st_' + (r.status || 'open'))],
      [t('f_budget'), r.budget !== undefined ? r.budget.toLocaleString(KX.lang === 'en' ? 'en' : 'zh-CN') : ''],
      [t('f_deadline'), r.deadline],
      [t('f_tags'), (r.tags || []).join('、')],
    ].filter(([, v]) => v);
    box.append(el('h3', {class: 'need-name'}, r.name),
      el('dl', {class: 'facts'}, facts.flatMap(([k, v]) => [el('dt', {}, k.replace(/[(（].*$/, '')), el('dd', {}, v)])),
      r.text ? el('p', {class: 'need-text'}, r.text) : null,
      (r.status || 'open') === 'closed' ? el('p', {class: 'note'}, t('answer_closed'))
                                        : answerBox(linked.key, me.record));
  }

  /* ---- proposals and matches ---------------------------------------------- */

  /* One entry per need: a digest may have proposed it to me and to a
   * result of mine, as one item of its mail. The answer goes to my own
   * pair where there is one, else to the best-scoring result's. */
  function proposalGroups() {
    const groups = new Map();
    for (const p of proposals) {
      if (!groups.has(p.need)) groups.set(p.need, {need: p.need, pairs: []});
      groups.get(p.need).pairs.push(p);
    }
    for (const g of groups.values()) {
      g.pairs.sort((a, b) => (b.score || 0) - (a.score || 0));
      g.top = g.pairs[0];
      g.answer = g.pairs.find((p) => p.partner === me.record) || g.top;
      g.week = g.pairs.map((p) => p.week || '').sort().pop();
    }
    return [...groups.values()].sort((a, b) => b.week.localeCompare(a.week) ||
                                               (b.top.score || 0) - (a.top.score || 0));
  }

  function renderProposals() {
    const ul = clear($('#proposals'));
    if (!proposals.length) {
      ul.append(el('li', {class: 'empty'}, t('proposed_none')));
      return;
    }
    for (const g of proposalGroups()) {
      const p = g.top;
      const id = g.need.replace(/^need:/, '');
      const results = g.pairs.filter((x) => x.partner !== me.record).map((x) => x.partner);
      const meta = [t('week') + g.week, `${t('score')} ${KX.pct(p.score)}%`,
                    p.need_status && p.need_status !== 'open' ? t('st_' + p.need_status) : null,
                    results.length ? t('via_result') + results.join('、') : null].filter(Boolean);
      ul.append(el('li', {class: 'proposal', dataset: {need: g.need, partner: g.answer.partner}},
        el('a', {class: 'title', href: 'expert.html?need=' + encodeURIComponent(id),
                 onclick: (ev) => {
                   ev.preventDefault();
                   history.replaceState(null, '', 'expert.html?need=' + encodeURIComponent(id));
                   openNeed(id);
                 }}, p.need_name || g.need),
        el('span', {class: 'meta'}, meta.join(' · ')),
        p.need_status === 'closed' ? null : answerBox(g.need, g.answer.partner)));
    }
  }

  function renderFits() {
    const box = $('#fits');
    if (!fits) return;
    if (fits.error) {
      clear(box).append(el('p', {class: 'note', title: fits.error.message},
                           fits.error.code === 'conflict' ? t('no_matches_why') : KX.errorText(fits.error)));
      return;
    }
    KX.renderMatches(box, fits.matches, {action: (m) => answerBox(m.key, me.record)});
  }

  function renderAll() {
    renderLinked();
    renderProposals();
    renderFits();
  }

  async function loadProposals() {
    try {
      proposals = (await api('GET', '/v1/me/proposals')).proposals || [];
    } catch (e) {
      proposals = [];
      KX.toast(KX.errorText(e), true);
    }
    for (const p of proposals)
      if (p.stage && !answers.has(pair(p.need, p.partner)))
        answers.set(pair(p.need, p.partner), {stage: p.stage, note: p.note || ''});
    renderProposals();
    renderLinked(); /* the linked need may be one of them */
  }

  async function loadFits() {
    if (!fits) clear($('#fits')).append(el('p', {class: 'empty'}, t('loading')));
    try {
      fits = await api('GET', '/v1/me/matches?top=10');
    } catch (e) {
      fits = {error: e};
    }
    renderFits();
  }

  /* ---- the profile ---------------------------------------------------------- */

  const isPerson = () => record && record.kind !== 'society';

  function showProfile(r) {
    record = r.record;
    const l = r.labels || {};
    $('#me-name').textContent = [record.name, KX.kindName(record.kind), record.org].filter(Boolean).join(' · ');
    form.querySelectorAll('.person-only').forEach((n) => { n.hidden = !isPerson(); });
    fld('text').value = record.text || '';
    fld('tags').value = (record.tags || []).join(', ');
    fld('org').value = record.org || '';
    fld('title').value = record.title || '';
    fld('capacity').value = record.capacity !== undefined ? record.capacity : 3;
    fld('digest').value = ['fortnightly', 'monthly', 'off'].includes(r.digest) ? r.digest : 'weekly';
    pickers.industries.set(l.industries, l.industries_en);
    pickers.disciplines.set(l.disciplines, l.disciplines_en);
  }

  const {clear: clearErrors, show: showError} = KX.formErrors(form);

  /* Only what the form shows, and only what an expert may change: the
   * server keeps the rest of the record (name, e-mail, memberships). */
  function body() {
    const b = {};
    const text = fld('text').value.trim();
    if (text || record.text) b.text = text;
    b.tags = fld('tags').value.split(/[,,、;;\n]+/).map((s) => s.trim()).filter(Boolean);
    b.industries = pickers.industries.get();
    b.disciplines = pickers.disciplines.get();
    if (isPerson()) {
      for (const f of ['org', 'title']) {
        const v = fld(f).value.trim();
        if (v || record[f]) b[f] = v;
      }
      if (fld('capacity').value !== '') b.capacity = Number(fld('capacity').value);
    }
    b.digest = fld('digest').value;
    return b;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    $('#save').disabled = true;
    try {
      showProfile(await api('PUT', '/v1/me/record', body()));
      KX.toast(t('saved'));
      loadFits(); /* what fits follows the profile */
    } catch (e) {
      showError(e);
    } finally {
      $('#save').disabled = false;
    }
  });

  KX.onLang(renderAll);
  KX.init(['expert', 'society'], async (who) => {
    me = who;
    const need = new URLSearchParams(location.search).get('need');
    if (need) openNeed(need);
    try {
      showProfile(await api('GET', '/v1/me/record'));
    } catch (e) {
      $('#form-error').textContent = KX.errorText(e);
    }
    loadProposals();
    loadFits();
  });
})();
