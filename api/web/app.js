/* app.js - what every kxmatch page shares: Chinese and English, who is
 * signed in (a session cookie, or an API token kept for scripts and tests),
 * calls to the API with the CSRF token on every write, the page header and
 * its navigation per role, DOM helpers, the taxonomy code picker, the
 * explanation of a match score and the SVG charts. Plain JS, nothing
 * loaded from elsewhere. */
'use strict';

const KX = (() => {
  /* ---- languages ------------------------------------------------------- */

  const I18N = {
    brand: ['科协技术需求对接', 'S&T needs matching'],
    nav_home: ['首页', 'Home'],
    nav_enterprise: ['企业', 'Enterprise'],
    nav_liaison: ['联络员', 'Liaison'],
    nav_dashboard: ['看板', 'Dashboard'],
    nav_expert: ['我的对接', 'My matches'],
    nav_admin: ['管理', 'Admin'],
    nav_signin: ['登录', 'Sign in'],
    lang_switch: ['English', '中文'],
    logout: ['退出', 'Sign out'],
    login: ['登录', 'Sign in'],
    token_ph: ['kx_ 开头的令牌', 'token starting with kx_'],
    login_hint: ['令牌由科协管理员使用 kxmatch token create 生成,供脚本调用接口;个人请用邮箱登录。',
                 'Tokens are issued by the 科协 administrator (kxmatch token create) for scripts; people sign in with their e-mail address.'],
    login_failed: ['令牌无效、已过期或已撤销', 'The token is not valid, expired or was revoked'],
    wrong_role_title: ['无权访问此页面', 'Not a page for your account'],
    wrong_role: ['此页面需要以下角色之一:', 'This page needs one of these roles: '],
    wrong_role_home: ['前往我的页面', 'Go to my page'],
    wrong_role_other: ['以其他账号登录', 'Sign in as someone else'],
    role_enterprise: ['企业用户', 'enterprise user'],
    role_liaison: ['联络员', 'liaison officer'],
    role_admin: ['管理员', 'administrator'],
    role_expert: ['专家', 'expert'],
    role_society: ['学会联系人', 'society contact'],
    /* sign-in */
    signin_title: ['登录', 'Sign in'],
    signin_intro: ['使用科协为您开通的账号登录。', 'Sign in with the account the 科协 opened for you.'],
    f_email: ['电子邮箱', 'E-mail address'],
    f_password: ['密码', 'Password'],
    signin_pw: ['用密码登录', 'Sign in with your password'],
    signin_link: ['没有密码?发送登录链接到邮箱', 'No password? Get a sign-in link by e-mail'],
    send_link: ['发送登录链接', 'Send me a sign-in link'],
    link_sent: ['如果该邮箱已开通账号,登录链接已发出,15 分钟内有效,只能使用一次。请查收邮件。',
                'If the address has an account, a sign-in link is on its way: valid 15 minutes, once. Check your mail.'],
    link_unavailable: ['本站暂未配置发信,无法发送登录链接。请使用密码登录,或联系科协管理员。',
                       'This site sends no sign-in links yet: sign in with your password, or ask the 科协 administrator.'],
    redeem_title: ['使用登录链接', 'Your sign-in link'],
    redeem_hint: ['点击下面的按钮完成登录。', 'Press the button to sign in.'],
    link_used: ['该登录链接已经使用过。每个链接只能使用一次,请重新获取。',
                'This sign-in link was used already: each link works once. Ask for a new one below.'],
    link_expired: ['该登录链接已过期(有效期 15 分钟),请重新获取。',
                   'This sign-in link expired (links last 15 minutes). Ask for a new one below.'],
    link_unknown: ['该登录链接无效,请重新获取。', 'This sign-in link is not valid. Ask for a new one below.'],
    pw_wrong: ['邮箱或密码错误。', 'Wrong e-mail address or password.'],
    pw_disabled: ['该账号已停用,请联系科协管理员。', 'This account is disabled: ask the 科协 administrator.'],
    too_many: ['登录失败次数过多,请 {s} 秒后再试。', 'Too many failed sign-ins: try again in {s} s.'],
    token_title: ['使用 API 令牌', 'Use an API token'],
    signed_out: ['您已退出登录。', 'You are signed out.'],
    session_over: ['登录已失效,请重新登录。', 'Your session ended: please sign in again.'],
    already_in: ['您已登录:', 'You are signed in as '],
    continue: ['继续', 'Continue'],
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
    partner_gone: ['邮件中的合作方已不在这项需求的推荐中', 'The partner from your mail is no longer among this need\'s matches'],
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
    s_interested: ['有意向', 'interested'],
    s_contacted: ['已联系', 'contacted'],
    s_declined: ['已婉拒', 'declined'],
    s_agreement_signed: ['已签约', 'agreement signed'],
    close: ['关闭', 'Close'],
    col_note: ['留言', 'Note'],
    by: ['来自 ', 'from '],
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
    home_expert: ['专家、院士和学会:维护个人资料,查看推荐给您的需求并回复是否有意向。',
                  'Experts, academicians and societies: keep your profile, see the needs proposed to you and answer them.'],
    home_admin: ['管理员:开通和停用账号,查看操作日志。', 'Administrators: accounts and the audit log.'],
    /* expert self-service */
    me_title: ['我的资料', 'My profile'],
    me_hint: ['这些内容决定为您推荐哪些需求。姓名、单位归属和邮箱由科协维护。',
              'What you write here decides which needs are proposed to you. Your name and e-mail address are kept by the 科协.'],
    f_capacity: ['每周最多接收推荐数(0 表示暂不接收)', 'Proposals per week at most (0: none for now)'],
    f_org: ['工作单位', 'Organisation'],
    f_title: ['职称', 'Title'],
    f_digest: ['推荐邮件', 'Digest e-mails'],
    digest_weekly: ['每周发送', 'weekly'],
    digest_fortnightly: ['每两周发送', 'every two weeks'],
    digest_monthly: ['每月发送', 'monthly'],
    digest_off: ['不发送', 'off'],
    f_profile_text: ['个人简介与可提供的服务', 'About you and what you offer'],
    proposed: ['推荐给您的需求', 'Needs proposed to you'],
    proposed_none: ['每周推荐邮件中的需求会列在这里。', 'The needs of your weekly digests are listed here.'],
    fits: ['可能适合您的开放需求', 'Open needs that fit you'],
    need_linked: ['邮件中的需求', 'The need from your mail'],
    need_missing: ['找不到该需求,或它未公开。', 'No such need, or it is not public.'],
    ans_yes: ['有意向', 'Interested'],
    ans_no: ['不合适', 'Not for me'],
    ans_note_ph: ['一句话说明(可选),联络员会看到', 'A line for the liaison officer (optional)'],
    ans_state_interested: ['您已回复:有意向', 'You answered: interested'],
    ans_state_declined: ['您已回复:不合适', 'You answered: not for me'],
    ans_saved: ['已回复,联络员会跟进', 'Answered: the liaison officer will follow up'],
    week: ['推荐周 ', 'week '],
    via_result: ['您的成果:', 'your result: '],
    f_enterprise: ['需求方', 'Enterprise'],
    /* one-click answers */
    answer_title: ['回复推荐的需求', 'Answer a proposed need'],
    answer_intro: ['这项需求是在每周推荐邮件中推荐给您的。请选择是否有意向对接;选择后联络员会跟进。',
                   'This need was proposed to you in your weekly digest. Say whether you are interested: a liaison officer follows up.'],
    answer_for: ['推荐给:', 'Proposed to: '],
    answer_partner: ['对接方:', 'Partner: '],
    answer_until: ['链接有效期至 ', 'This link works until '],
    answer_done_interested: ['已记录:您对这项需求有意向。联络员会尽快与您联系,谢谢!',
                             'Recorded: you are interested. A liaison officer will be in touch. Thank you!'],
    answer_done_declined: ['已记录:这项需求不适合您。谢谢您的回复!', 'Recorded: this need is not for you. Thank you for answering!'],
    answer_already: ['这条推荐已经通过此链接回复过了', 'This proposal was answered through this link already'],
    answer_expired: ['此回复链接已过期。请登录后在“我的对接”页面回复。',
                     'This answer link expired: sign in and answer on your page.'],
    answer_invalid: ['此回复链接无效(不完整或被改动过)。请使用邮件中的原始链接,或登录后回复。',
                     'This answer link is not valid (cut short or altered): use the link as mailed, or sign in to answer.'],
    answer_missing: ['链接不完整:缺少回复令牌。', 'The link is incomplete: it carries no answer token.'],
    answer_closed: ['这项需求已关闭,不再接受回复。', 'This need is closed and takes no answers.'],
    answer_open_page: ['登录后查看全部推荐', 'Sign in to see all your proposals'],
    answered_at: ['回复时间 ', 'answered '],
    /* admin */
    users: ['账号', 'Accounts'],
    add_user: ['开通账号', 'Add an account'],
    f_person: ['姓名', 'Name'],
    f_role: ['角色', 'Role'],
    f_scope: ['范围', 'Scope'],
    f_record: ['关联记录', 'Record'],
    scope_liaison: ['地区代码,如 371602', 'region code, e.g. 371602'],
    scope_enterprise: ['企业,如 enterprise:C001', 'enterprise, e.g. enterprise:C001'],
    scope_expert: ['专家或院士,如 expert:E0001', 'expert or academician, e.g. expert:E0001'],
    scope_society: ['学会,如 society:S001', 'society, e.g. society:S001'],
    scope_admin: ['(全部)', '(everything)'],
    f_password_opt: ['初始密码(可选,至少 10 个字符;不填则通过邮件链接登录)',
                     'Password (optional, 10 characters or more; without one the person signs in by link)'],
    create: ['开通', 'Add'],
    disable: ['停用', 'Disable'],
    enable: ['启用', 'Enable'],
    st_active: ['正常', 'active'],
    st_disabled: ['已停用', 'disabled'],
    pw_yes: ['有密码', 'password'],
    pw_no: ['链接登录', 'link only'],
    col_email: ['邮箱', 'E-mail'],
    col_state: ['状态', 'State'],
    col_created: ['开通时间', 'Created'],
    change_role: ['修改角色', 'Change role'],
    user_added: ['账号已开通', 'Account added'],
    user_saved: ['账号已更新', 'Account updated'],
    audit: ['操作日志', 'Audit log'],
    filter_person: ['人员', 'Person'],
    filter_what: ['操作', 'Action'],
    filter_from: ['起始日期', 'From'],
    filter_to: ['截止日期', 'To'],
    all: ['全部', 'All'],
    load_more: ['加载更早的记录', 'Load older entries'],
    col_when: ['时间', 'When'],
    col_person: ['人员', 'Person'],
    col_role: ['角色', 'Role'],
    col_what: ['操作', 'Action'],
    col_key: ['对象', 'Object'],
    audit_shown: ['显示 {n} / 已加载 {m} 条', '{n} shown of {m} loaded'],
    anonymous: ['(未登录)', '(not signed in)'],
    /* the account page */
    account_title: ['我的账号', 'My account'],
    my_token: ['为脚本生成 API 令牌', 'An API token for your scripts'],
    my_token_hint: ['令牌代表您本人调用接口(Authorization: Bearer …),权限与您的账号相同;请像密码一样保管。管理员可随时撤销。',
                    'A token acts as you on the API (Authorization: Bearer …), with your account\'s rights: keep it like a password. Administrators can revoke it.'],
    token_label: ['用途说明', 'What it is for'],
    token_expires: ['有效期', 'Valid for'],
    days_30: ['30 天', '30 days'],
    days_90: ['90 天', '90 days'],
    days_365: ['1 年', '1 year'],
    token_make: ['生成令牌', 'Make a token'],
    token_once: ['令牌只显示这一次,请立即复制保存:', 'The token is shown this once: copy it now.'],
    who_cli: ['命令行', 'command line'],
    who_link: ['邮件一键回复', 'one-click answer by mail'],
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

  /* People sign in to a session: an HttpOnly cookie the browser sends by
   * itself, and a CSRF token (from /v1/whoami or the sign-in reply) that
   * every write with the cookie must carry in X-CSRF-Token. An API token
   * (kept in localStorage by the sign-in page's token form) is the other
   * way in, for scripts and tests; when one is kept it is sent instead, and
   * a request with a bearer token needs no CSRF token. */
  let token = localStorage.getItem('kxToken') || '';
  let csrf = '';

  class ApiError extends Error {
    constructor(status, code, message, field, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || '';
      this.retryAfter = retryAfter || 0;
    }
  }

  function authHeaders(method) {
    const h = {};
    if (token) h.Authorization = 'Bearer ' + token;
    else if (csrf && method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = csrf;
    return h;
  }

  async function failure(res) {
    let e = {};
    try {
      e = (await res.json()).error || {};
    } catch (x) {
      e = {};
    }
    return new ApiError(res.status, e.code || 'error', e.message || res.statusText, e.field,
                        Number(res.headers.get('Retry-After')) || 0);
  }

  async function api(method, path, body) {
    const opts = {method, headers: authHeaders(method), credentials: 'same-origin'};
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    if (!res.ok) throw await failure(res);
    try {
      return await res.json();
    } catch (e) {
      return null;
    }
  }

  /* What the sign-in page keeps after a session starts: the CSRF token,
   * and no API token (it would be sent instead of the cookie). */
  function useSession(c) {
    csrf = c || '';
    token = '';
    localStorage.removeItem('kxToken');
  }

  function useToken(tk) {
    token = tk || '';
    csrf = '';
    if (token) localStorage.setItem('kxToken', token);
    else localStorage.removeItem('kxToken');
  }

  /* ---- the page frame: header, navigation, sign-in ---------------------- */

  let who = null;

  /* Each role's own page, where sign-in leads when nothing else is asked. */
  const HOME = {enterprise: 'enterprise.html', liaison: 'liaison.html', admin: 'admin.html',
                expert: 'expert.html', society: 'expert.html'};
  /* The pages of the header, and the roles that use each. */
  const NAV = [['enterprise', ['enterprise']], ['liaison', ['liaison', 'admin']],
               ['dashboard', ['liaison', 'admin']], ['expert', ['expert', 'society']],
               ['admin', ['admin']]];

  function home(role) {
    return HOME[role] || 'index.html';
  }

  /* The sign-in page, asked to come back here (path, query and fragment:
   * a digest's link lands where it points once the person is in). */
  function signinUrl(why) {
    const next = location.pathname + location.search + location.hash;
    return 'signin.html?next=' + encodeURIComponent(next) + (why ? '&why=' + why : '');
  }

  /* Where a sign-in may go next: a path on this site only ("/x.html?..."),
   * never another origin ("//evil", "https://evil", "/\evil"); "" if not. */
  function safeNext(next) {
    if (!next || next[0] !== '/' || next[1] === '/' || next[1] === '\\') return '';
    let u;
    try {
      u = new URL(next, location.origin);
    } catch (e) {
      return '';
    }
    if (u.origin !== location.origin || /^\/signin\.html$/.test(u.pathname)) return '';
    return u.pathname + u.search + u.hash;
  }

  /* Ends the session on the server (the cookie alone is not enough to
   * forget), forgets any API token, then goes to the sign-in page (with
   * `next` when signing in as someone else for this page). */
  async function signOut(next) {
    try {
      const headers = csrf ? {'X-CSRF-Token': csrf} : {};
      await fetch('/v1/session', {method: 'DELETE', credentials: 'same-origin', headers});
    } catch (e) {
      /* offline: the session expires by itself */
    }
    useToken('');
    csrf = '';
    location.href = 'signin.html?why=out' + (next ? '&next=' + encodeURIComponent(next) : '');
  }

  /* The header the signed-in pages share: each page holds an empty
   * <header class="top"> (and a <section id="login"> for a role that may
   * not use it), filled here and translated by applyI18n like the rest.
   * The navigation follows the role, once whoami has named it. */
  function chrome() {
    const h = $('header.top');
    if (h && !h.children.length) {
      h.innerHTML =
        '<a class="brand" href="index.html"><b>kxmatch</b> <span data-i18n="brand">科协技术需求对接</span>' +
        '<span class="org" hidden></span></a>' +
        '<nav id="nav"></nav><span class="spacer"></span><a id="who" class="who" href="account.html"></a>' +
        '<button id="logout" class="ghost" type="button" data-i18n="logout" hidden>退出</button>' +
        '<button id="lang" class="ghost" type="button" data-i18n="lang_switch">English</button>';
    }
    const login = $('#login');
    if (login && !login.children.length)
      login.innerHTML =
        '<h2 data-i18n="wrong_role_title">无权访问此页面</h2>' +
        '<p id="login-error" class="error" role="alert"></p>' +
        '<div class="actions"><a id="login-home" class="button primary" href="index.html" ' +
        'data-i18n="wrong_role_home">前往我的页面</a>' +
        '<button id="login-other" type="button" data-i18n="wrong_role_other">以其他账号登录</button></div>';
  }

  function nav() {
    const box = $('#nav');
    if (!box) return;
    const page = document.body.dataset.page;
    clear(box);
    for (const [p, roles] of NAV) {
      if (!who || !roles.includes(who.role)) continue;
      box.append(el('a', {href: p + '.html', 'data-i18n': 'nav_' + p,
                          class: p === page ? 'current' : null,
                          'aria-current': p === page ? 'page' : null}, t('nav_' + p)));
    }
  }

  /* Who runs this site (GET /v1/site, from the configuration file): its
   * name in every page's header and title, asked once per page. */
  let org = '';
  /* A form's error line (#form-error) and its marked fields: clear(), and
   * show(e) for an API error, in the page's language, the field's box
   * marked; a success notice from before must not stand beside it. */
  function formErrors(form) {
    return {
      clear() {
        $('#form-error').textContent = '';
        form.querySelectorAll('.invalid').forEach((n) => n.classList.remove('invalid'));
      },
      show(e) {
        const base = (e.field || '').replace(/\[.*$/, '');
        const fe = $('#form-error');
        fe.textContent = errorText(e);
        fe.title = e.message + (e.field ? ` (${e.field})` : '');
        const n = $('#toast');
        if (n) n.className = '';
        const input = base && form.elements.namedItem(base);
        const box = input ? input.closest('.field')
                          : form.querySelector(`.codepick[data-name="${base}"]`);
        if (box) box.classList.add('invalid');
      },
    };
  }

  /* The frame of a page that needs no sign-in: header, the organisation's
   * name, the language and its switch. */
  function openPage() {
    chrome();
    showOrg();
    applyI18n();
    $('#lang').addEventListener('click', () => setLang(lang === 'en' ? 'zh' : 'en'));
  }

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
    if (out) out.addEventListener('click', () => signOut());
  }

  /* The person (or token) signed in: name, role, and the scope of the
   * role (an enterprise, a region, a record). */
  function showWho() {
    const w = $('#who');
    if (!w || !who) return;
    let scope = '';
    if (who.role === 'enterprise') scope = who.enterprise_name || who.enterprise;
    else if (who.role === 'liaison') scope = who.region_name || who.region;
    else if (who.record && who.record_name !== who.name) scope = who.record_name || who.record;
    w.textContent = [who.name, t('role_' + who.role), scope].filter(Boolean).join(' · ');
  }

  /* Asks who is signed in: without a session or token, off to the sign-in
   * page (which comes back here); with a role this page does not serve, a
   * card saying so; else start(who). */
  async function init(roles, start) {
    chrome();
    showOrg();
    applyI18n();
    header();
    langListeners.push(showWho);
    const login = $('#login');
    const app = $('#app');
    try {
      who = await api('GET', '/v1/whoami');
    } catch (e) {
      who = null;
      if (e.status === 401) {
        const why = token ? 'token' : /session/.test(e.message) ? 'expired' : '';
        useToken('');
        location.replace(signinUrl(why));
        return;
      }
      if (login) {
        login.hidden = false;
        $('#login-error').textContent = errorText(e);
      }
      return;
    }
    csrf = who.csrf || '';
    nav();
    showWho();
    $('#logout').hidden = false;
    if (!roles.includes(who.role)) {
      $('#login-error').textContent = t('wrong_role') + roles.map((r) => t('role_' + r)).join(' / ');
      $('#login-home').href = home(who.role);
      $('#login-other').onclick = () => signOut(location.pathname + location.search + location.hash);
      login.hidden = false;
      app.hidden = true;
      return;
    }
    login.hidden = true;
    app.hidden = false;
    start(who);
  }

  /* ---- the taxonomy code picker ----------------------------------------- */

  /* A code field: chips for the chosen codes, suggestions from
   * /v1/taxonomy as the user types a name or a code. Each code keeps its
   * names ({name, name_en}) so that the chips follow the page's language.
   * box holds .chips, input.code-q and ul.suggest; data-taxonomy names
   * the taxonomy (industry, discipline). */
  function codePicker(box) {
    const taxonomy = box.dataset.taxonomy;
    const chips = box.querySelector('.chips');
    const input = box.querySelector('.code-q');
    const list = box.querySelector('.suggest');
    const codes = new Map();
    let timer = null;

    function render() {
      clear(chips);
      for (const [code, names] of codes)
        chips.append(el('span', {class: 'chip', dataset: {code}}, `${code} ${nameOf(names)}`,
          el('button', {type: 'button', 'aria-label': '×', onclick: () => {
            codes.delete(code);
            render();
          }}, '×')));
    }
    async function lookup() {
      const q = input.value.trim();
      if (!q) {
        list.hidden = true;
        return;
      }
      let r;
      try {
        r = await api('GET', `/v1/taxonomy/${taxonomy}?limit=12&q=${encodeURIComponent(q)}`);
      } catch (e) {
        return;
      }
      clear(list);
      for (const it of r.items)
        list.append(el('li', {onmousedown: (ev) => {
          ev.preventDefault();
          codes.set(it.code, {name: it.name, name_en: it.name_en});
          input.value = '';
          list.hidden = true;
          render();
        }}, el('b', {}, it.code), nameOf(it)));
      list.hidden = !r.items.length;
    }
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(lookup, 180);
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      const first = list.querySelector('li');
      if (first && !list.hidden)
        first.dispatchEvent(new MouseEvent('mousedown', {cancelable: true}));
    });
    input.addEventListener('blur', () => setTimeout(() => { list.hidden = true; }, 150));
    const picker = {
      get: () => [...codes.keys()],
      /* names: code -> name; names_en: code -> English name, where known */
      set: (names, namesEn) => {
        codes.clear();
        for (const [c, n] of Object.entries(names || {}))
          codes.set(c, {name: n, name_en: (namesEn || {})[c]});
        render();
      },
      render,
    };
    langListeners.push(render);
    return picker;
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
   * available as the element's title where a caller shows it. labels
   * (optional) maps a field to the key of its label on this page, where
   * the API's field name means something else than on the need form. */
  function errorText(e, labels) {
    const base = (e.field || '').replace(/[[.].*$/, '');
    const key = (labels && labels[base]) || 'f_' + base;
    const label = I18N[key] ? t(key).replace(/[(（].*$/, '') : '';
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

  /* Files the API makes (the pipeline as CSV): fetched with the session
   * or token (a plain link could not carry a token), then saved under the
   * name the server gives in Content-Disposition. The page builds no file
   * itself, so that quoting and formula neutralisation live in one place,
   * the server. */
  async function download(path, fallback) {
    const res = await fetch(path, {headers: authHeaders('GET'), credentials: 'same-origin'});
    if (!res.ok) throw await failure(res);
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
    download, codePicker, home, safeNext, signOut, useSession, useToken, chrome, showOrg,
    formErrors, openPage,
    setLang, onLang: (f) => langListeners.push(f),
    get lang() { return lang; },
    get who() { return who; },
  };
})();
