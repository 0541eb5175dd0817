/* enterprise.js - the enterprise page: post and edit technology needs, and
 * see the ranked partners of each with the reasons for its score. A
 * digest's link lands here as enterprise.html?need=ID (that need) or
 * ?need=ID&partner=KIND:ID (and that partner, marked among its matches). */
'use strict';

(() => {
  const {t, el, $, api, clear} = KX;
  let editing = null; /* id of the need in the form, null for a new one */
  let current = null; /* {name, matches, note} shown below the form */
  let loaded = null;  /* the stored record of the need in the form */
  let marked = null;  /* the partner a digest's link named, marked in the matches */
  const form = $('#need-form');
  const fld = (n) => form.elements.namedItem(n);

  const pickers = {};
  document.querySelectorAll('.codepick').forEach((b) => {
    pickers[b.dataset.name] = KX.codePicker(b);
  });

  /* The region is two selects, county then township, so that a need keeps
   * the township it was posted for. A stored code that neither select
   * offers (another city, a city-level code) is added as an option of its
   * own: saving never writes back less than the form read. */
  const regions = new Map(); /* parent code -> its children, asked once per page */
  async function regionOptions(sel, parent, unset) {
    clear(sel).append(el('option', {value: '', 'data-i18n': unset}, t(unset)));
    if (!parent) return;
    if (!regions.has(parent))
      regions.set(parent, api('GET', `/v1/taxonomy/region?limit=1000&parent=${parent}`));
    try {
      const r = await regions.get(parent);
      for (const it of r.items) sel.append(el('option', {value: it.code}, it.name));
    } catch (e) {
      regions.delete(parent); /* asked again next time */
      /* the select keeps "not given" and whatever setRegion adds */
    }
  }

  function choose(sel, code, name) {
    if (code && ![...sel.options].some((o) => o.value === code))
      sel.append(el('option', {value: code}, name || code));
    sel.value = code;
  }

  /* Shows code (6 digits: a county or above; 9: a township) in the two
   * selects; name is its label, for a code the selects do not offer. */
  async function setRegion(code, name) {
    const own = KX.who.enterprise_region || '';
    const city = own.length >= 4 ? own.slice(0, 4) + '00' : '';
    const county = code.slice(0, 6);
    await Promise.all([regionOptions(fld('region'), city, 'region_unset'), townships(county)]);
    choose(fld('region'), county, code.length === 6 ? name : '');
    choose(fld('township'), code.length > 6 ? code : '', name);
  }

  /* A county's townships; nothing to choose below a city or province. */
  function townships(county) {
    return regionOptions(fld('township'), /^\d{4}(?!00)\d{2}$/.test(county) ? county : '',
                         'township_unset');
  }

  function regionValue() {
    return fld('township').value || fld('region').value;
  }

  const {clear: clearErrors, show: showError} = KX.formErrors(form);

  function setMode() {
    $('#form-title').dataset.i18n = editing ? 'edit_need' : 'post_need';
    $('#save').dataset.i18n = editing ? 'save' : 'publish';
    $('#delete').hidden = !editing;
    KX.applyI18n($('#need-card'));
    document.querySelectorAll('#my-needs li').forEach((li) => {
      li.classList.toggle('active', li.dataset.id === editing);
    });
  }

  function resetForm() {
    form.reset();
    loaded = null;
    setRegion(KX.who.enterprise_region || '', '');
    pickers.industries.set({});
    pickers.disciplines.set({});
    editing = null;
    clearErrors();
    setMode();
    current = null;
    $('#matches-card').hidden = true;
  }

  function showMatches() {
    if (!current) return;
    $('#matches-card').hidden = false;
    $('#matches-for').textContent = current.name;
    const box = $('#matches');
    KX.renderMatches(box, current.matches);
    const li = marked && box.querySelector(`li.match[data-key="${CSS.escape(marked)}"]`);
    if (li) li.classList.add('highlight');
    if (current.note && !(current.matches || []).length)
      box.append(el('p', {class: 'note'}, current.note));
  }

  /* What the form does not show of a need it opened (mail, x_ fields,
   * its language) goes back as it was: PUT replaces the whole record, and
   * saving must never store less than the form read. */
  const FORM_FIELDS = ['name', 'text', 'tags', 'region', 'visibility', 'status', 'budget',
                       'deadline', 'industries', 'disciplines'];

  function body() {
    const b = {};
    if (loaded) {
      for (const [k, v] of Object.entries(loaded))
        if (!FORM_FIELDS.includes(k) && k !== 'updated') b[k] = v;
    }
    b.name = fld('name').value.trim();
    const text = fld('text').value.trim();
    const tags = fld('tags').value.split(/[,,、;;\n]+/).map((s) => s.trim()).filter(Boolean);
    if (text) b.text = text;
    if (tags.length) b.tags = tags;
    /* The language was detected from the old words: detect it anew. */
    if (loaded && (b.name !== loaded.name || (b.text || '') !== (loaded.text || '')))
      delete b.lang;
    if (regionValue()) b.region = regionValue();
    b.visibility = fld('visibility').value;
    b.status = fld('status').value;
    if (fld('budget').value !== '') b.budget = Number(fld('budget').value);
    if (fld('deadline').value) b.deadline = fld('deadline').value;
    const ind = pickers.industries.get(), dis = pickers.disciplines.get();
    if (ind.length) b.industries = ind;
    if (dis.length) b.disciplines = dis;
    return b;
  }

  async function submit(ev) {
    ev.preventDefault();
    clearErrors();
    const wasNew = !editing;
    $('#save').disabled = true;
    try {
      const r = editing ? await api('PUT', `/v1/needs/${encodeURIComponent(editing)}`, body())
                        : await api('POST', '/v1/needs', body());
      editing = r.id;
      loaded = r.record;
      current = {name: r.record.name, matches: r.matches, note: r.match_note};
      KX.toast(wasNew ? t('posted') : t('saved'));
      showMatches();
      await loadList();
      setMode();
    } catch (e) {
      showError(e);
    } finally {
      $('#save').disabled = false;
    }
  }

  /* Marks the partner a digest named among the need's matches and
   * scrolls to it; one ranked below the first ten is fetched with more
   * matches, and a partner no longer among them is said so. */
  async function highlight(id, key) {
    const find = () => document.querySelector(`#matches li.match[data-key="${CSS.escape(key)}"]`);
    if (!current || editing !== id) return; /* the need did not open */
    marked = key;
    if (!find() && current && (current.matches || []).length) {
      try {
        const m = await api('GET', `/v1/needs/${encodeURIComponent(id)}/matches?top=50`); /* the API's most */
        const i = m.matches.findIndex((x) => x.key === key);
        if (i >= 0) {
          current.matches = m.matches.slice(0, Math.max(10, i + 1));
          showMatches();
        }
      } catch (e) {
        /* the first ten stay */
      }
    }
    const li = find();
    if (!li) {
      KX.toast(t('partner_gone'), true);
      return;
    }
    li.classList.add('highlight');
    li.setAttribute('tabindex', '-1');
    li.scrollIntoView({block: 'center'});
    li.focus({preventScroll: true});
  }

  async function open(id) {
    clearErrors();
    marked = null;
    /* the partners are asked for at once, not after the form is filled */
    const partners = api('GET', `/v1/needs/${encodeURIComponent(id)}/matches?top=10`)
      .then((m) => ({m}), (e) => ({e}));
    let r;
    try {
      r = await api('GET', `/v1/needs/${encodeURIComponent(id)}`);
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return false;
    }
    const rec = r.record;
    editing = rec.id;
    fld('name').value = rec.name || '';
    fld('text').value = rec.text || '';
    fld('tags').value = (rec.tags || []).join(', ');
    loaded = rec;
    await setRegion(rec.region || '', r.labels.region || '');
    fld('visibility').value = rec.visibility || 'public';
    fld('status').value = rec.status || 'open';
    fld('budget').value = rec.budget !== undefined ? rec.budget : '';
    fld('deadline').value = rec.deadline || '';
    pickers.industries.set(r.labels.industries, r.labels.industries_en);
    pickers.disciplines.set(r.labels.disciplines, r.labels.disciplines_en);
    setMode();
    current = {name: rec.name, matches: [], note: ''};
    const {m, e} = await partners;
    if (m) current.matches = m.matches;
    else current.note = e.code === 'conflict' ? t('need_closed_note') : KX.errorText(e);
    showMatches();
    return true;
  }

  async function remove() {
    if (!editing || !confirm(t('confirm_delete'))) return;
    try {
      await api('DELETE', `/v1/needs/${encodeURIComponent(editing)}`);
      KX.toast(t('deleted'));
      resetForm();
      loadList();
    } catch (e) {
      KX.toast(KX.errorText(e), true);
    }
  }

  async function loadList() {
    const ul = clear($('#my-needs'));
    let r;
    try {
      r = await api('GET', '/v1/needs?per_page=200');
    } catch (e) {
      ul.append(el('li', {class: 'error'}, KX.errorText(e)));
      return;
    }
    if (!r.needs.length) ul.append(el('li', {class: 'empty'}, t('none')));
    for (const n of r.needs)
      ul.append(el('li', {dataset: {id: n.id}, class: n.id === editing ? 'active' : '',
                          onclick: () => open(n.id)},
        el('span', {class: 'badge'}, t('st_' + n.status)),
        n.visibility === 'confidential' ? el('span', {class: 'badge confidential'}, t('confidential')) : null,
        n.name,
        el('span', {class: 'meta'}, [n.id, n.region_name, KX.dateOf(n.updated)].filter(Boolean).join(' · '))));
  }

  form.addEventListener('submit', submit);
  $('#new-need').addEventListener('click', resetForm);
  $('#delete').addEventListener('click', remove);
  KX.onLang(() => {
    showMatches();
    loadList();
  });
  fld('region').addEventListener('change', () => townships(fld('region').value));
  KX.init(['enterprise'], async (who) => {
    loadList();
    /* Digests link here with ?need=ID: open that need and its partners,
     * and with &partner=KEY mark that partner. Otherwise (or when that
     * need cannot be opened) the form is a new need in the enterprise's
     * own region. */
    const p = new URLSearchParams(location.search);
    const need = p.get('need'), partner = p.get('partner');
    if (need && await open(need)) {
      if (partner) highlight(need, partner);
    } else {
      await setRegion(who.enterprise_region || '', '');
    }
  });
})();
