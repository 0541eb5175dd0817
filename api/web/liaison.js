/* liaison.js - the liaison officer's page: search with facets, a need's
 * ranked partners (or a partner's matching needs), the shortlist with its
 * pipeline stages, and the shortlist as CSV. */
'use strict';

(() => {
  const {t, el, $, api, clear} = KX;
  /* interested: the partner answered a proposal so (on their page or by
   * the digest's one-click link); declined: either side said no. */
  const STAGES = ['shortlisted', 'interested', 'contacted', 'declined', 'agreement_signed'];
  const FACETS = ['kind', 'region', 'industry', 'discipline'];
  /* Facet levels shown when nothing of that facet is selected. */
  const TOP_LEVEL = {region: 3, industry: 2, discipline: 1};
  /* The page opens on the work waiting: the open needs of the officer's
   * own region (search scopes a liaison's needs to it). */
  const state = {q: '', kind: 'need', open: true, region: null, industry: null,
                 discipline: null, page: 1, per: 20};
  const names = {}; /* "facet:value" -> display name, for the filter chips */
  let last = null; /* the last search reply */
  let detail = null; /* {title, subject, kind, matches} */
  let pipeline = []; /* entries */

  const pairKey = (need, partner) => `${need} ${partner}`;
  const inPipeline = (need, partner) =>
    pipeline.some((e) => pairKey(e.need, e.partner) === pairKey(need, partner));

  /* ---- search ---------------------------------------------------------- */

  async function search() {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.kind) p.set('kind', state.kind);
    /* "open" concerns needs only: other kinds have no status */
    if (state.open && state.kind === 'need') p.set('status', 'open');
    for (const f of ['region', 'industry', 'discipline'])
      if (state[f]) p.set(f, state[f]);
    p.set('page', state.page);
    p.set('per_page', state.per);
    $('#total').textContent = t('loading');
    try {
      last = await api('GET', '/v1/search?' + p.toString());
    } catch (e) {
      $('#total').textContent = '';
      KX.toast(KX.errorText(e), true);
      return;
    }
    render();
  }

  /* A region's children start with its code less the trailing zeros. */
  function childPrefix(facet, value) {
    if (facet === 'region') return value.replace(/(00)+$/, '');
    return value;
  }

  function facetEntries(facet) {
    const all = (last.facets || {})[facet] || [];
    if (facet === 'kind') return all;
    const sel = state[facet];
    const selEntry = sel && all.find((e) => e.value === sel);
    const level = selEntry ? selEntry.level + 1 : TOP_LEVEL[facet];
    const prefix = selEntry ? childPrefix(facet, sel) : '';
    return all.filter((e) => e.level === level && e.value.startsWith(prefix));
  }

  function renderFacets() {
    const box = clear($('#facets'));
    /* Facets count the best matches when there are more than the server
     * counts (facets_exact false): say so, above the counts, rather than
     * pass them off as totals. */
    if (last.facets && last.facets_exact === false) {
      box.append(el('p', {class: 'facet-note', id: 'facets-note'},
        `${t('facets_best')}${last.facets_counted}${t('facets_best_of')}${last.total}${t('facets_best_end')}`));
    }
    for (const f of FACETS) {
      const entries = facetEntries(f).slice(0, 12);
      if (!entries.length) continue;
      box.append(el('h3', {}, t('facet_' + f)));
      const ul = el('ul', {dataset: {facet: f}});
      for (const e of entries) {
        const label = f === 'kind' ? KX.kindName(e.value) : (KX.nameOf(e) || e.value);
        names[`${f}:${e.value}`] = label;
        const on = f === 'kind' ? state.kind === e.value : state[f] === e.value;
        ul.append(el('li', {}, el('button', {
          type: 'button', class: 'facet' + (on ? ' on' : ''),
          dataset: {facet: f, value: e.value},
          onclick: () => toggle(f, e.value),
        }, el('span', {}, label), el('span', {class: 'n'}, String(e.count)))));
      }
      box.append(ul);
    }
  }

  function toggle(facet, value) {
    if (facet === 'kind') {
      state.kind = state.kind === value ? '' : value;
      $('#kind').value = state.kind;
    } else {
      state[facet] = state[facet] === value ? null : value;
    }
    state.page = 1;
    search();
  }

  function renderFilters() {
    const box = clear($('#active-filters'));
    for (const f of ['region', 'industry', 'discipline']) {
      if (!state[f]) continue;
      box.append(el('span', {class: 'chip', dataset: {facet: f}},
        `${t('facet_' + f)}: ${names[`${f}:${state[f]}`] || state[f]}`,
        el('button', {type: 'button', 'aria-label': '×', onclick: () => toggle(f, state[f])}, '×')));
    }
  }

  function renderHits() {
    const ol = clear($('#results'));
    /* "about" only where the server says the count is an estimate */
    $('#total').textContent = `${t(last.total_exact ? 'of_exact' : 'of_about')}${last.total}${t('items')}` +
      (last.sort ? t('sorted_' + last.sort) : '');
    for (const h of last.hits) {
      const snippet = el('div', {class: 'snippet'});
      snippet.innerHTML = h.snippet; /* escaped by the server, <mark> only */
      const meta = [h.org, h.region_name, h.status ? t('st_' + h.status) : null,
                    h.updated ? t('updated_on') + KX.dateOf(h.updated) : null]
        .filter(Boolean).join(' · ');
      const acts = el('div', {class: 'acts'});
      /* a closed or matched need gets no proposals: no button to ask */
      if (h.kind === 'need' && (!h.status || h.status === 'open'))
        acts.append(el('button', {type: 'button', class: 'show-partners',
                                  onclick: () => needMatches(h)}, t('show_partners')));
      else if (['expert', 'academician', 'society', 'result'].includes(h.kind))
        acts.append(el('button', {type: 'button', class: 'show-needs',
                                  onclick: () => partnerMatches(h)}, t('show_needs')));
      ol.append(el('li', {class: 'hit', dataset: {key: h.key, kind: h.kind}},
        el('div', {}, el('span', {class: 'kind k-' + h.kind}, KX.kindName(h.kind)), ' ',
           el('span', {class: 'title'}, h.name)),
        meta ? el('div', {class: 'meta'}, meta) : null, snippet, acts));
    }
    $('#pageno').textContent = String(state.page);
    $('#prev').disabled = state.page <= 1;
    $('#next').disabled = state.page * state.per >= last.total;
  }

  function render() {
    if (!last) return;
    renderFacets();
    renderFilters();
    renderHits();
  }

  /* ---- matches and the shortlist ----------------------------------------- */

  function shortlistButton(need, partner) {
    const done = inPipeline(need, partner);
    return el('button', {type: 'button', class: 'shortlist-add', disabled: done,
                         dataset: {need, partner},
                         onclick: async (ev) => {
                           ev.target.disabled = true;
                           await record(need, partner, 'shortlisted');
                         }},
              done ? t('shortlisted_already') : t('shortlist_add'));
  }

  function renderDetail() {
    if (!detail) return;
    $('#detail-card').hidden = false;
    $('#detail-title').textContent = detail.title;
    KX.renderMatches($('#detail'), detail.matches, {
      action: (m) => detail.kind === 'need' ? shortlistButton(detail.subject, m.key)
                                            : shortlistButton(m.key, detail.subject),
    });
  }

  async function needMatches(h) {
    try {
      const r = await api('GET', `/v1/needs/${encodeURIComponent(h.id)}/matches?top=10`);
      detail = {title: `${t('show_partners')} · ${h.name}`, subject: h.key, kind: 'need',
                matches: r.matches};
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return;
    }
    renderDetail();
    $('#detail-card').scrollIntoView({behavior: 'smooth', block: 'start'});
  }

  async function partnerMatches(h) {
    try {
      const r = await api('GET', `/v1/${h.kind}/${encodeURIComponent(h.id)}/matches?top=10`);
      detail = {title: `${t('show_needs')} · ${h.name}`, subject: h.key, kind: h.kind,
                matches: r.matches};
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return;
    }
    renderDetail();
    $('#detail-card').scrollIntoView({behavior: 'smooth', block: 'start'});
  }

  async function record(need, partner, stage) {
    try {
      await api('POST', '/v1/pipeline', {need, partner, stage});
      KX.toast(`${KX.stageName(stage)} ✓`);
    } catch (e) {
      KX.toast(KX.errorText(e), true);
    }
    await loadPipeline();
    renderDetail();
  }

  async function loadPipeline() {
    try {
      pipeline = (await api('GET', '/v1/pipeline?per_page=1000')).entries;
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return;
    }
    renderPipeline();
  }

  function renderPipeline() {
    const tb = clear($('#shortlist tbody'));
    if (!pipeline.length)
      tb.append(el('tr', {}, el('td', {colspan: 5, class: 'empty'}, t('none'))));
    for (const e of pipeline) {
      const sel = el('select', {'aria-label': t('col_stage'),
                                onchange: () => record(e.need, e.partner, sel.value)},
        STAGES.map((s) => el('option', {value: s, selected: s === e.stage}, KX.stageName(s))));
      tb.append(el('tr', {dataset: {need: e.need, partner: e.partner}},
        el('td', {}, e.need_name || e.need, el('div', {class: 'meta'}, e.need)),
        el('td', {}, e.partner_name || e.partner,
           el('div', {class: 'meta'}, [e.partner_org, e.partner].filter(Boolean).join(' · '))),
        el('td', {}, KX.kindName(e.partner_kind || e.partner.split(':')[0])),
        el('td', {class: 'stage-cell'}, sel,
           /* the last move's line of text, and who made it: a partner's
            * answer says why */
           e.note || e.by_name ? el('div', {class: 'meta move-note'},
             [e.note ? `“${e.note}”` : '', e.by_name ? t('by') + e.by_name : ''].filter(Boolean).join(' — '))
             : null),
        el('td', {}, KX.dateOf(e.updated))));
    }
  }

  /* The server writes the file (GET /v1/pipeline?format=csv): the same
   * pairs as the list above, with cells a spreadsheet would run as a
   * formula neutralised. */
  async function exportCsv() {
    const p = new URLSearchParams({format: 'csv', lang: KX.lang});
    try {
      await KX.download('/v1/pipeline?' + p.toString(), 'kxmatch-pipeline.csv');
    } catch (e) {
      KX.toast(KX.errorText(e), true);
    }
  }

  /* ---- wiring ------------------------------------------------------------- */

  $('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.q = $('#q').value.trim();
    state.kind = $('#kind').value;
    state.open = $('#open-only').checked;
    state.page = 1;
    search();
  });
  $('#prev').addEventListener('click', () => { state.page--; search(); });
  $('#next').addEventListener('click', () => { state.page++; search(); });
  $('#detail-close').addEventListener('click', () => {
    detail = null;
    $('#detail-card').hidden = true;
  });
  $('#export-csv').addEventListener('click', exportCsv);
  /* On a phone the facets fold away above the results. */
  if (window.matchMedia('(max-width: 759px)').matches) $('#facets-box').open = false;
  KX.onLang(() => {
    render();
    renderDetail();
    renderPipeline();
  });
  /* Digests link here with ?need=ID or ?partner=KIND:ID: open that
   * record's matches, named as the records API names it. */
  async function openFromLink() {
    const p = new URLSearchParams(location.search);
    const need = p.get('need');
    const key = need ? `need:${need}` : p.get('partner');
    const colon = key ? key.indexOf(':') : -1;
    if (colon < 1) return;
    const kind = key.slice(0, colon), id = key.slice(colon + 1);
    let name = key;
    try {
      const r = await api('GET', `/v1/records/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`);
      name = (r.record && r.record.name) || key;
    } catch (e) {
      KX.toast(KX.errorText(e), true); /* unknown, deleted or not ours to see */
      return;
    }
    const h = {kind, id, key, name};
    if (kind === 'need') await needMatches(h);
    else await partnerMatches(h);
  }

  KX.init(['liaison', 'admin'], () => {
    search();
    loadPipeline();
    openFromLink();
  });
})();
