/* dashboard.js - the dashboard: the figures of GET /v1/stats as key
 * numbers, bars per county and per industry, and the pipeline funnel. */
'use strict';

(() => {
  const {t, el, $, api, clear} = KX;
  let stats = null;

  function render() {
    if (!stats) return;
    $('#scope').textContent = stats.scope === 'all' ? t('scope_all')
                                                    : stats.scope_name || stats.scope;
    const k = clear($('#kpis'));
    for (const key of ['needs', 'needs_open', 'results', 'matches', 'agreements'])
      k.append(el('div', {class: 'kpi', dataset: {kpi: key}},
                  el('b', {}, String(stats.totals[key])), el('span', {}, t('t_' + key))));
    const label = (r) => r.name || r.code || t('unknown');
    /* Counties where nothing was asked or brokered (partners' home
     * districts elsewhere) would only add empty rows. */
    KX.groupedBars($('#chart-county'),
                   stats.by_county.filter((r) => r.needs || r.matches || r.agreements),
                   ['needs', 'matches', 'agreements'], label);
    KX.groupedBars($('#chart-industry'), stats.by_industry.slice(0, 10),
                   ['needs', 'results', 'matches'], label);
    KX.funnel($('#chart-funnel'), stats.pipeline.funnel,
              `${t('declined_n')}${stats.pipeline.current.declined}`);
  }

  KX.onLang(render);
  KX.init(['liaison', 'admin'], async () => {
    try {
      stats = await api('GET', '/v1/stats');
    } catch (e) {
      KX.toast(KX.errorText(e), true);
      return;
    }
    render();
  });
})();
