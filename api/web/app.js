/* app.js - what every kxmatch page shares: Chinese and English, the token,
 * calls to the API, DOM helpers, the explanation of a match score and the
 * SVG charts. Plain JS, nothing loaded from elsewhere. */
'use strict';

const KX = (() => {
  /* ---- languages ------------------------------------------------------- */

  const I18N = {
    brand: ['科协技术需求对接', 'S&T needs matching'],
    nav_home: ['首页', 'Home'],
    nav_enterprise: ['企业', 'Enterprise'],
    nav_liaison: ['联络员', 'Liaison'],
    nav_dashboard: ['看板', 'Dashboard'],
    lang_switch: ['English', '中文'],
    logout: ['退出', 'Log out'],
    login_title: ['使用令牌登录', 'Log in with your token'],
    login: ['登录', 'Log in'],
    token_ph: ['kx_ 开头的令牌', 'token starting with kx_'],
    login_hint: ['令牌由科协管理员使用 kxmatch token create 生成。',
                 'Tokens are issued by the 科协 administrator (kxmatch token create).'],
    login_failed: ['令牌无效或已撤销', 'The token is not valid or was revoked'],
    wrong_role: ['此页面需要以下角色之一:', 'This page needs one of these roles: '],
    role_enterprise: ['企业', 'enterprise'],
    role_liaison: ['联络员', 'liaison officer'],
    role_admin: ['管理员', 'administrator'],
    loading: ['加载中…', 'Loading…'],
    none: ['暂无', 'None yet'],
    error: ['出错了', 'Error'],
    /* enterprise */
    my_needs: ['我的需求', 'My needs'],
    new_need: ['新建需求', 'New need'],
    post_need: ['发布技术需求', 'Post a technology need'],
    edit_need: ['修改需求', 'Edit need'],
    f_name: ['需求名称', 'Title'],
    f_text: ['需求描述(背景、现状、技术指标、合作方式)',
             'Description (background, problem, targets, cooperation)'],
    f_tags: ['关键词(用逗号分隔)', 'Keywords (comma separated)'],
    f_region: ['所在地区', 'Region'],
    f_township: ['乡镇(街道)', 'Township'],
    f_visibility: ['可见性', 'Visibility'],
    f_status: ['状态', 'Status'],
    f_budget: ['预算(元)', 'Budget (CNY)'],
    f_deadline: ['截止日期', 'Deadline'],
    f_industries: ['行业代码(GB/T 4754)', 'Industry codes (GB/T 4754)'],
    f_disciplines: ['学科代码(NSFC)', 'Discipline codes (NSFC)'],
    code_ph: ['输入名称或代码查找', 'type a name or code'],
    vis_public: ['公开', 'public'],
    vis_confidential: ['保密(仅本企业和管理员可见)', 'confidential (you and admins only)'],
    confidential: ['保密', 'confidential'],
    st_open: ['征集中', 'open'],
    st_matched: ['已对接', 'matched'],
    st_closed: ['已关闭', 'closed'],
    region_unset: ['(未指定)', '(not given)'],
    township_unset: ['(全区县)', '(whole county)'],
    publish: ['发布需求', 'Post need'],
    save: ['保存修改', 'Save changes'],
    delete: ['删除', 'Delete'],
    confirm_delete: ['确定删除该需求?', 'Delete this need?'],
    posted: ['已发布,以下是推荐的合作方', 'Posted: here are the recommended partners'],
    saved: ['已保存', 'Saved'],
    deleted: ['已删除', 'Deleted'],
    ranked_partners: ['推荐合作方', 'Recommended partners'],
    no_matches: ['暂无匹配结果', 'No matches yet'],
    /* explanation */
    c_text: ['文本', 'text'],
    c_taxonomy: ['行业/学科', 'codes'],
    c_region: ['地域', 'region'],
    c_profile: ['资质', 'profile'],
    w_terms: ['关键词', 'Words'],
    w_codes: ['共同代码', 'Shared codes'],
    w_region: ['地域关系', 'Region'],
    w_via: ['经由', 'Via'],
    inferred: ['推断', 'inferred'],
    score: ['匹配度', 'score'],
    'same township': ['同乡镇', 'same township'],
    'same county': ['同县区', 'same county'],
    'same city': ['同市', 'same city'],
    'same province': ['同省', 'same province'],
    elsewhere: ['省外', 'elsewhere'],
    unknown: ['未知', 'unknown'],
    k_expert: ['专家', 'Expert'],
    k_academician: ['院士', 'Academician'],
    k_society: ['学会', 'Society'],
    k_result: ['成果', 'Technology result'],
    k_need: ['需求', 'Need'],
    k_enterprise: ['企业', 'Enterprise'],
    /* liaison */
    search_ph: ['搜索需求、专家、学会、成果…（-词 可排除）', 'Search needs, experts, societies, results… (-word excludes)'],
    search: ['搜索', 'Search'],
    filters: ['筛选', 'Filters'],
    all_kinds: ['全部类型', 'All kinds'],
    facet_kind: ['类型', 'Kind'],
    facet_region: ['地区', 'Region'],
    facet_industry: ['行业', 'Industry'],
    facet_discipline: ['学科', 'Discipline'],
    results: ['搜索结果', 'Results'],
    of_about: ['共约 ', 'about '],
    of_exact: ['共 ', ''],
    items: [' 条', ' in all'],
    sorted_newest: [' · 最新在前', ' · newest first'],
    sorted_relevance: [' · 按相关度', ' · by relevance'],
    updated_on: ['更新 ', 'updated '],
    facets_best: ['筛选计数按最相关的 ', 'Counts are over the best '],
    facets_best_of: [' 条(共约 ', ' of about '],
    facets_best_end: [' 条)', ' matches'],
    prev: ['上一页', 'Previous'],
    next: ['下一页', 'Next'],
    show_partners: ['推荐合作方', 'Ranked partners'],
    show_needs: ['匹配需求', 'Matching needs'],
    shortlist_add: ['加入候选', 'Shortlist'],
    shortlisted_already: ['已在清单', 'On the list'],
    shortlist: ['候选清单与对接进度', 'Shortlist and pipeline'],
    export_csv: ['导出 CSV', 'Export CSV'],
    col_need: ['需求', 'Need'],
    col_partner: ['合作方', 'Partner'],
    col_kind: ['类型', 'Kind'],
    col_stage: ['阶段', 'Stage'],
    col_updated: ['更新时间', 'Updated'],
    s_shortlisted: ['候选', 'shortlisted'],
    s_contacted: ['已联系', 'contacted'],
    s_declined: ['已婉拒', 'declined'],
    s_agreement_signed: ['已签约', 'agreement signed'],
    close: ['关闭', 'Close'],
    /* dashboard */
    dash_title: ['科协技术对接看板', '科协 matching dashboard'],
    scope_all: ['全部地区', 'All regions'],
    t_needs: ['需求', 'Needs'],
    t_needs_open: ['征集中', 'Open'],
    t_results: ['成果', 'Results'],
    t_matches: ['对接', 'Matches'],
    t_agreements: ['签约', 'Agreements'],
    by_county: ['各县区需求、对接与签约', 'Needs, matches and agreements by county'],
    by_industry: ['各行业需求与成果(前 10)', 'Needs and results by industry (top 10)'],
    funnel: ['对接漏斗', 'Pipeline funnel'],
    err_bad_input: ['输入有误，请检查后重试', 'invalid input'],
    err_not_found: ['找不到该记录，或您无权查看', 'not found, or not yours to see'],
    err_forbidden: ['您的账号无权进行此操作', 'your role may not do this'],
    err_unauthorized: ['登录已失效，请重新登录', 'please sign in again'],
    err_conflict: ['与当前状态冲突（例如需求已关闭或编号已被占用）', 'conflicts with the current state (a closed need, an id in use)'],
    err_exists: ['该记录已存在', 'it exists already'],
    err_too_large: ['内容过长', 'too long'],
    err_rate_limited: ['操作过于频繁，请稍后再试', 'too many changes at once; try again shortly'],
    err_unavailable: ['服务暂时不可用，请稍后再试', 'temporarily unavailable; try again shortly'],
    err_unsupported_media_type: ['请求格式不受支持', 'unsupported request format'],
    err_internal: ['服务器出错，请稍后再试', 'server error; try again shortly'],
    open_only: ['只看开放需求', 'Open needs only'],
    need_closed_note: ['该需求已关闭，不再推荐合作方。', 'This need is closed: no partners are proposed.'],
    no_matches_why: ['内容太少、没有相关的开放需求或合作方，或服务容量已满（容量为 0）。', 'too little to match on, nothing open that fits, or no capacity left (capacity 0).'],
    thin_need: ['这项需求的描述过于简略，可匹配的信息太少，匹配度已按比例降低，推荐仅供参考。补充现状、技术指标和行业或学科代码后会更准确。',
                'This need says too little to match well: its scores are scaled down and the partners are only a hint. Describe the situation, the targets and the industry or discipline codes to match better.'],
    thin_badge: ['描述简略', 'thin need'],
    kpi_defs: ['对接：当前未婉拒的需求—合作方对数；签约：曾到达“已签约”阶段的对数，与漏斗最后一级相同；漏斗每级为曾到达该阶段的对数。',
               'Matches: need–partner pairs not declined now. Agreements: pairs that ever reached "agreement signed", the funnel\'s last step. Each funnel step counts the pairs that ever reached it.'],
    declined_n: ['已婉拒:', 'Declined: '],
    home_intro: ['企业发布技术需求,联络员检索专家、院士、学会和科技成果并跟进对接,看板汇总全市进展。',
                 'Enterprises post technology needs; liaison officers search experts, academicians, societies and results and broker the matches; the dashboard sums it up.'],
    home_enterprise: ['发布和修改技术需求,查看推荐的合作方及匹配理由。',
                      'Post and edit needs; see ranked partners and why they fit.'],
    home_liaison: ['分面检索,查看需求的推荐合作方,加入候选并记录对接进度,导出清单。',
                   'Faceted search, ranked partners, shortlist, pipeline stages, CSV export.'],
    home_dashboard: ['各县区、各行业的需求、对接与签约,以及对接漏斗。',
                     'Needs, matches and agreements by county and industry; the funnel.'],
  };

  let lang = localStorage.getItem('kxLang') === 'en' ? 'en' : 'zh';

  function t(key) {
    const e = I18N[key];
    return e ? e[lang === 'en' ? 1 : 0] : key;
  }

  function applyI18n(root) {
    (root || document).querySelectorAll('[data-i18n]').forEach((n) => {
      n.textContent = t(n.dataset.i18n);
    });
    (root || document).querySelectorAll('[data-i18n-ph]').forEach((n) => {
      n.placeholder = t(n.dataset.i18nPh);
    });
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  }

  const langListeners = [];
  function setLang(l) {
    lang = l;
    localStorage.setItem('kxLang', l);
    applyI18n();
    langListeners.forEach((f) => f());
  }

  /* ---- DOM ------------------------------------------------------------- */

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(n.dataset, v);
      else n.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat()) {
      if (c === null || c === undefined || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }

  const SVGNS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...kids) {
    const n = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {}))
      if (v !== null && v !== undefined) n.setAttribute(k, v);
    for (const c of kids.flat())
      if (c !== null && c !== undefined)
        n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return n;
  }

  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
    return n;
  }

  function $(sel) {
    return document.querySelector(sel);
  }

  /* ---- the API ---------------------------------------------------------- */

  let token = localStorage.getItem('kxToken') || '';

  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || '';
    }
  }

  async function api(method, path, body) {
    const opts = {method, headers: {}};
    if (token) opts.headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(res.status, e.code || 'error',
                         e.message || res.statusText, e.field);
    }
    return data;
  }

  /* ---- the page frame: header, language, login ------------------------- */

  let who = null;

  /* The header and the login card the signed-in pages share: each page
   * holds an empty <header class="top"> and <section id="login">, filled
   * here (static markup, translated by applyI18n like the rest). */
  const NAV = [['enterprise', '企业'], ['liaison', '联络员'], ['dashboard', '看板']];
  function chrome() {
    const page = document.body.dataset.page;
    const h = $('header.top');
    if (h && !h.children.length) {
      const links = NAV.map(([p, zh]) => `<a href="${p}.html" data-i18n="nav_${p}"` +
        (p === page ? ' class="current" aria-current="page"' : '') + `>${zh}</a>`).join('');
      h.innerHTML =
        '<a class="brand" href="index.html"><b>kxmatch</b> <span data-i18n="brand">科协技术需求对接</span>' +
        '<span class="org" hidden></span></a>' +
        `<nav>${links}</nav><span class="spacer"></span><span id="who" class="who"></span>` +
        '<button id="logout" class="ghost" type="button" data-i18n="logout" hidden>退出</button>' +
        '<button id="lang" class="ghost" type="button" data-i18n="lang_switch">English</button>';
    }
    const login = $('#login');
    if (login && !login.children.length)
      login.innerHTML =
        '<h2 data-i18n="login_title">使用令牌登录</h2><form id="login-form">' +
        '<input id="token" name="token" autocomplete="off" spellcheck="false" data-i18n-ph="token_ph" placeholder="kx_ 开头的令牌">' +
        '<button type="submit" class="primary" data-i18n="login">登录</button></form>' +
        '<p class="hint" data-i18n="login_hint">令牌由科协管理员使用 kxmatch token create 生成。</p>' +
        '<p id="login-error" class="error" role="alert"></p>';
  }

  /* Who runs this site (GET /v1/site, from the configuration file): its
   * name in every page's header and title, asked once per page. */
  let org = '';
  function showOrg() {
    if (!org) return;
    document.querySelectorAll('.brand .org').forEach((e) => {
      e.textContent = ' · ' + org;
      e.hidden = false;
    });
    if (!document.title.endsWith(org)) document.title += ' · ' + org;
  }
  fetch('/v1/site').then((r) => (r.ok ? r.json() : null)).then((d) => {
    org = (d && d.organisation && d.organisation.name) || '';
    showOrg();
  }).catch(() => {});

  function header() {
    const h = $('header.top');
    if (!h) return;
    $('#lang').addEventListener('click', () => setLang(lang === 'en' ? 'zh' : 'en'));
    const out = $('#logout');
    if (out)
      out.addEventListener('click', () => {
        localStorage.removeItem('kxToken');
        token = '';
        location.reload();
      });
  }

  function showWho() {
    const w = $('#who');
    if (!w || !who) return;
    let scope = '';
    if (who.role === 'enterprise') scope = who.enterprise_name || who.enterprise;
    else if (who.role === 'liaison') scope = who.region_name || who.region;
    w.textContent = t('role_' + who.role) + (scope ? ' · ' + scope : '');
  }

  /* Shows the login form until a token of an allowed role is given, then
   * calls start(who). */
  async function init(roles, start) {
    chrome();
    showOrg();
    applyI18n();
    header();
    langListeners.push(showWho);
    const form = $('#login-form');
    const login = $('#login');
    const app = $('#app');
    const err = $('#login-error');
    async function attempt() {
      try {
        who = await api('GET', '/v1/whoami');
      } catch (e) {
        who = null;
        if (token) err.textContent = t('login_failed');
        login.hidden = false;
        app.hidden = true;
        return;
      }
      if (!roles.includes(who.role)) {
        err.textContent = t('wrong_role') + roles.map((r) => t('role_' + r)).join(' / ');
        login.hidden = false;
        app.hidden = true;
        return;
      }
      err.textContent = '';
      login.hidden = true;
      app.hidden = false;
      $('#logout').hidden = false;
      showWho();
      start(who);
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      token = $('#token').value.trim();
      localStorage.setItem('kxToken', token);
      attempt();
    });
    if (token) attempt();
    else login.hidden = false;
  }

  /* ---- formatting ------------------------------------------------------- */

  function pct(x) {
    return Math.round((x || 0) * 100);
  }

  function kindName(k) {
    return t('k_' + k);
  }

  /* A taxonomy name in the page's language: o[field + '_en'] in English
   * where the source has English names (NSFC disciplines do; GB/T 4754
   * and GB/T 2260 are published in Chinese), else o[field]. */
  function nameOf(o, field = 'name') {
    return (lang === 'en' && o[field + '_en']) || o[field] || '';
  }

  function stageName(s) {
    return t('s_' + s);
  }

  /* A server time (ISO 8601, UTC) in the viewer's own time zone, as
   * YYYY-MM-DD HH:MM; a date alone stays as it is. */
  function dateOf(iso) {
    if (!iso) return '';
    if (!/T/.test(iso)) return iso;
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
           `${p(d.getHours())}:${p(d.getMinutes())}`;
  }

  /* An API error in the page's language: what went wrong (from the
   * error's code) and which field (the form's own label); in English the
   * server's own sentence, which is English. The server's sentence stays
   * available as the element's title where a caller shows it. */
  function errorText(e) {
    const base = (e.field || '').replace(/[[.].*$/, '');
    const label = I18N['f_' + base] ? t('f_' + base).replace(/[(（].*$/, '') : '';
    if (lang === 'en')
      return (label ? label + ': ' : '') + (e.message || t('err_internal'));
    const what = I18N['err_' + e.code] ? t('err_' + e.code) : t('err_internal');
    return (label ? label + '：' : '') + what;
  }

  function toast(msg, bad) {
    let n = $('#toast');
    if (!n) {
      n = el('div', {id: 'toast', role: 'status'});
      document.body.append(n);
    }
    n.textContent = msg;
    n.className = bad ? 'show bad' : 'show';
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { n.className = ''; }, 3500);
  }

  /* ---- the explanation of a match --------------------------------------- */

  const COMPONENTS = ['text', 'taxonomy', 'region', 'profile'];

  function legend() {
    return el('div', {class: 'legend'},
      COMPONENTS.map((c) => el('span', {class: 'lg c-' + c}, el('i'), t('c_' + c))));
  }

  /* A stacked bar: each component's weighted share of the score. */
  function scoreBar(why) {
    const bar = el('div', {class: 'scorebar', role: 'img'});
    const parts = [];
    for (const c of COMPONENTS) {
      const w = (why.components || {})[c];
      if (w === undefined) continue;
      const seg = el('span', {class: 'seg c-' + c, title: t('c_' + c) + ' ' + w.toFixed(3),
                              dataset: {component: c, value: w}});
      seg.style.width = Math.max(0, Math.min(100, w * 100)) + '%';
      bar.append(seg);
      parts.push(t('c_' + c) + ' ' + pct(w));
    }
    bar.setAttribute('aria-label', parts.join(', '));
    return bar;
  }

  function whyList(m) {
    const why = m.why || {};
    const dl = el('dl', {class: 'why'});
    if (why.terms && why.terms.length)
      dl.append(el('dt', {text: t('w_terms')}),
                el('dd', {class: 'terms'}, why.terms.map((x) =>
                  el('span', {class: 'term', title: pct(x.share) + '%'}, x.term))));
    if (why.codes && why.codes.length) {
      /* One chip per shared code: several pairs of codes may meet in the
       * same one (B0601 ~ B0602 and B0603 ~ B06 both share B06); the
       * chip's title lists every pair, and it is marked inferred only if
       * every pair is. */
      const byMeet = new Map();
      for (const c of why.codes) {
        const k = (c.taxonomy || '') + ' ' + c.meet;
        if (!byMeet.has(k)) byMeet.set(k, {meet: c.meet, taxonomy: c.taxonomy || '', name: nameOf(c, 'meet_name'), pairs: [], inferred: true});
        const g = byMeet.get(k);
        g.pairs.push(c.need + ' ~ ' + c.partner + (c.inferred ? ' (' + t('inferred') + ')' : ''));
        g.inferred = g.inferred && !!c.inferred;
      }
      dl.append(el('dt', {text: t('w_codes')}),
                el('dd', {class: 'codes'}, [...byMeet.values()].map((g) =>
                  el('span', {class: 'code' + (g.inferred ? ' inferred' : ''), title: g.pairs.join('; '),
                              dataset: {taxonomy: g.taxonomy}},
                     el('b', {}, g.meet), ' ', g.name))));
    }
    if (why.region)
      dl.append(el('dt', {text: t('w_region')}),
                el('dd', {class: 'region'}, t(why.region.relation),
                   why.region.partner_name ? ' · ' + why.region.partner_name : ''));
    if (why.via)
      dl.append(el('dt', {text: t('w_via')}), el('dd', {}, why.via_name || why.via));
    return dl;
  }

  /* Renders ranked matches into box. opts.action(m) may return a button. */
  function renderMatches(box, matches, opts) {
    clear(box);
    if (!matches || !matches.length) {
      box.append(el('p', {class: 'empty', text: t('no_matches') + (lang === 'en' ? '. ' : '：') + t('no_matches_why')}));
      return;
    }
    /* A thin need (evidence below 1: too few informative words and codes)
     * has its scores scaled down by the server; say so, once when every
     * match is of thin needs (a need's own view), per match otherwise. */
    const thin = (m) => m.why && m.why.evidence !== undefined && m.why.evidence < 1;
    const allThin = matches.every(thin);
    if (allThin)
      box.append(el('p', {class: 'note thin-note', text: t('thin_need')}));
    box.append(legend());
    const ol = el('ol', {class: 'matches'});
    matches.forEach((m, i) => {
      const head = el('div', {class: 'm-head'},
        el('span', {class: 'rank'}, String(i + 1)),
        el('span', {class: 'kind k-' + m.kind}, kindName(m.kind)),
        el('strong', {class: 'm-name'}, m.name || m.key),
        m.org ? el('span', {class: 'org'}, m.org) : null,
        thin(m) && !allThin ? el('span', {class: 'badge thin', title: t('thin_need')}, t('thin_badge')) : null,
        el('span', {class: 'score', title: t('score')}, String(pct(m.score))));
      const li = el('li', {class: 'match', dataset: {key: m.key}}, head, scoreBar(m.why || {}), whyList(m));
      if (opts && opts.action) {
        const b = opts.action(m);
        if (b) li.append(el('div', {class: 'm-actions'}, b));
      }
      ol.append(li);
    });
    box.append(ol);
  }

  /* ---- charts ------------------------------------------------------------ */

  const SERIES_COLORS = {
    needs: '#2b6cb0', needs_open: '#63b3ed', results: '#38a169',
    matches: '#dd6b20', agreements: '#c53030',
  };

  /* Horizontal grouped bars: one group per row, one bar per series. Each
   * bar is a rect.bar with data-series and data-value. */
  function groupedBars(box, rows, series, label) {
    clear(box);
    if (!rows.length) {
      box.append(el('p', {class: 'empty', text: t('none')}));
      return;
    }
    const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => r[s] || 0)));
    const barH = 9, gap = 2, groupGap = 12, labelW = 118, width = 560;
    const groupH = series.length * (barH + gap);
    const height = rows.length * (groupH + groupGap) + 26;
    const g = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'chart',
                          role: 'img', 'aria-label': box.dataset.title || ''});
    series.forEach((s, i) => {
      g.append(svg('rect', {x: labelW + i * 110, y: 2, width: 10, height: 10,
                            fill: SERIES_COLORS[s]}),
               svg('text', {x: labelW + i * 110 + 14, y: 11, class: 'lg'}, t('t_' + s)));
    });
    rows.forEach((r, ri) => {
      const y0 = 24 + ri * (groupH + groupGap);
      const name = label(r);
      g.append(svg('text', {x: labelW - 6, y: y0 + groupH / 2 + 3, 'text-anchor': 'end',
                            class: 'cat'}, name.length > 9 ? name.slice(0, 8) + '…' : name,
                   svg('title', {}, name)));
      series.forEach((s, si) => {
        const v = r[s] || 0;
        const w = (width - labelW - 40) * v / max;
        const y = y0 + si * (barH + gap);
        g.append(svg('rect', {x: labelW, y, width: Math.max(w, v ? 1 : 0), height: barH,
                              fill: SERIES_COLORS[s], class: 'bar',
                              'data-series': s, 'data-value': v, 'data-category': r.code},
                     svg('title', {}, `${name} · ${t('t_' + s)}: ${v}`)),
                 svg('text', {x: labelW + w + 4, y: y + barH - 1, class: 'val'}, String(v)));
      });
    });
    box.append(g);
  }

  /* A funnel: one centred bar per step, narrowing with the counts, its
   * label and the share of the step before at the left. */
  function funnel(box, steps, extra) {
    clear(box);
    const width = 560, stepH = 40, labelW = 150, height = steps.length * stepH + 6;
    const max = Math.max(1, ...steps.map((s) => s.count));
    const area = width - labelW - 10;
    const g = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'chart funnel',
                          role: 'img'});
    const colors = ['#2b6cb0', '#dd6b20', '#c53030'];
    steps.forEach((s, i) => {
      const w = Math.max(4, area * s.count / max);
      const x = labelW + (area - w) / 2, y = 3 + i * stepH;
      const prev = i ? steps[i - 1].count : 0;
      const conv = i && prev ? ` · ${Math.round(100 * s.count / prev)}%` : '';
      g.append(svg('rect', {x: labelW, y, width: area, height: stepH - 8, rx: 4,
                            fill: '#edf2f7'}),
               svg('rect', {x, y, width: w, height: stepH - 8, rx: 4,
                            fill: colors[i % colors.length], class: 'bar step',
                            'data-series': s.stage, 'data-value': s.count},
                   svg('title', {}, `${stageName(s.stage)}: ${s.count}`)),
               svg('text', {x: labelW - 8, y: y + stepH / 2, 'text-anchor': 'end',
                            class: 'cat big'}, `${stageName(s.stage)} ${s.count}${conv}`));
    });
    box.append(g);
    if (extra) box.append(el('p', {class: 'note'}, extra));
  }

  /* ---- downloads ---------------------------------------------------------- */

  /* Files the API makes (the pipeline as CSV): fetched with the token, as
   * a plain link cannot carry it, then saved under the name the server
   * gives in Content-Disposition. The page builds no file itself, so that
   * quoting and formula neutralisation live in one place, the server. */
  async function download(path, fallback) {
    const opts = {headers: {}};
    if (token) opts.headers.Authorization = 'Bearer ' + token;
    const res = await fetch(path, opts);
    if (!res.ok) {
      let e = {};
      try {
        e = (await res.json()).error || {};
      } catch (x) {
        e = {};
      }
      throw new ApiError(res.status, e.code || 'error', e.message || res.statusText, e.field);
    }
    const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', {href: url, download: m ? m[1] : fallback});
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 1000);
  }

  return {
    t, el, svg, clear, $, api, ApiError, init, applyI18n, pct, kindName,
    stageName, nameOf, dateOf, toast, errorText, renderMatches, groupedBars, funnel,
    download, onLang: (f) => langListeners.push(f),
    get lang() { return lang; },
    get who() { return who; },
  };
})();
