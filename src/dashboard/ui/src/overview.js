// A site's overview: key figures with their change, the time series with
// its table, the breakdown panels, realtime visitors, the period picker,
// the filter chip and the exports. Readable signed in, on a public site,
// or through a share link (?share=); the server folds small numbers for
// the last two, and this page shows what it is given. The site's time zone
// and k come from the session, or for other readers from the privacy
// page's JSON. A site's administrators find its share links from here.
import { h, hidden, fill } from './dom.js';
import * as api from './api.js';
import { currentSession, href, navigate, announce, onLeave } from './nav.js';
import { timeseriesChart } from './chart.js';
import { PANELS, PROP_KEYS, SECTIONS, breakdownPanel, propValues, parseFilter, valueLabel, panelTitle, isGoal, panelMetrics } from './panels.js';
import {
  PRESETS,
  periodFromSearch,
  presetState,
  activePreset,
  intervalFor,
  hoursOnRequest,
  apiParams,
  rangeLabel,
  todayIn,
  periodRange,
  previousRange,
  currentBucket,
  isFuture,
  stretchDays,
  stretchLabel,
} from './period.js';
import { consentPanel } from './consent.js';

const METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'];
// Under a page filter the page's visitors and views, and the visits that
// began on it; no pages per visit, which would divide the one by the other.
const PAGE_METRICS = ['visitors', 'pageviews', 'visits', 'bounce_rate', 'visit_duration'];
// Under a goal filter: its people, its events and the share of all visitors.
const GOAL_METRICS = ['visitors', 'events', 'conversion_rate'];
const REALTIME_EVERY_MS = 30000;

export async function renderOverview(context, main, site) {
  const { t } = context;
  const params = new URLSearchParams(location.search);
  const share = params.get('share');
  const state = periodFromSearch(params);
  const filter = parseFilter(params.get('filter'));
  const propKey = (params.get('prop') || '').trim().slice(0, 300);
  const goal = isGoal(filter);
  const onPage = !!filter && filter.property === 'event:page';
  const metrics = goal ? GOAL_METRICS : onPage ? PAGE_METRICS : METRICS;
  const session = await currentSession();
  const settings = await api.siteSettings(site, session);
  if (!context.isCurrent()) return;
  const mine = session && session.sites.find((entry) => entry.site === site);
  const owner = !share && !!mine;
  const today = todayIn(settings.timeZone);
  const query = {
    site_id: site,
    ...apiParams(state),
    filters: filter ? `${filter.property}==${filter.value}` : null,
    share,
  };
  const path = `/dashboard/${encodeURIComponent(site)}`;
  // This view with some parameters changed (period, date, filter, prop).
  const viewHref = (changes) => {
    const keep = {};
    for (const name of ['period', 'date', 'filter', 'prop', 'interval']) keep[name] = params.get(name);
    return href(path, { ...keep, ...changes });
  };
  document.title = `${site} – Kruimel`;

  const range = periodRange(state, today);
  let aggregate;
  try {
    aggregate = await api.stats('aggregate', { ...query, metrics: metrics.join(','), compare: 'previous_period' });
  } catch (failure) {
    if (!context.isCurrent()) return;
    if (failure.status === 401 && !share && !session) {
      navigate(href('/dashboard/login', { next: location.pathname + location.search, why: 'private' }), { replace: true });
      return;
    }
    const message = failure.status === 401 ? (share ? t.shareInvalid : t.noAccess) : t.error;
    fill(main, h('h1', {}, site), h('p', { class: 'message message-error', role: 'alert' }, message), session ? h('p', {}, h('a', { href: href('/dashboard'), 'data-nav': '' }, t.allSites)) : null);
    return;
  }
  if (!context.isCurrent()) return;

  // The server says what it compared (a running period up to the same
  // hour of the previous one); the chart's faint line is that period.
  const compared = aggregate.comparison || null;
  const before = (compared && stretchDays(compared.previous)) || previousRange(range);
  const interval = intervalFor(state, today, params.get('interval'));
  const seriesMetrics = goal ? ['visitors', 'events'] : ['visitors', 'visits', 'pageviews'];
  const seriesOf = (extra) =>
    api
      .stats('timeseries', { ...query, ...extra, metrics: seriesMetrics.join(','), interval })
      .then((answer) => answer.results)
      .catch(() => null);
  const seriesPromise = Promise.all([seriesOf({}), seriesOf({ period: 'custom', date: before.join(',') })]);

  const rangeText = h('p', { class: 'range', id: 'range' }, t.showing(rangeLabel(range, interval, today, context)));
  const chartHolder = h('div', { class: 'chart-holder' }, h('p', { class: 'muted' }, t.loading));
  const realtime = h('span', { class: 'realtime-value', 'data-realtime': '' }, t.none);

  const shownPanels = PANELS.filter((panel) => panelMetrics(panel, goal));
  // Scroll depth and time on page: per page, for the site's own readers.
  const engagement = owner && (!filter || onPage);
  const panelsAndLoads = shownPanels.map((panel) =>
    breakdownPanel(panel, query, context, (property, value) => viewHref({ filter: `${property}==${value}` }), {
      metrics: panelMetrics(panel, goal, { engagement }),
      columnLabels: onPage ? t.pageColumns : null,
    }),
  );
  // The keys custom events carried; following one shows its values.
  const extra = [
    breakdownPanel(PROP_KEYS, query, context, null, {
      rowLink: { href: (key) => viewHref({ prop: key }), current: propKey, hint: () => t.propShow },
      metrics: panelMetrics(PROP_KEYS, goal),
    }),
  ];
  if (propKey) {
    const close = h('a', { href: viewHref({ prop: null }), 'data-nav': '', 'data-focus': `props-${propKey}`, 'data-key': 'prop-close' }, t.propClose, hidden(` – ${t.propValues(propKey)}`));
    const values = propValues(propKey);
    extra.push(breakdownPanel(values, query, context, null, { title: t.propValues(propKey), actions: [close, ' '], metrics: panelMetrics(values, goal) }));
  }
  const consent = owner ? consentPanel(query, context) : null;

  fill(main, 
    h(
      'div',
      { class: 'overview-head' },
      h('h1', {}, t.overviewTitle(site)),
      owner || session
        ? h(
            'p',
            { class: 'back' },
            owner && mine.role === 'admin' ? [h('a', { href: href(`${path}/sharing`), 'data-nav': '', 'data-focus': 'heading', 'data-key': 'sharing-link' }, t.sharing.link), ' · '] : null,
            h('a', { href: href('/dashboard'), 'data-nav': '' }, t.allSites),
          )
        : null,
    ),
    owner ? null : h('p', { class: 'message message-info' }, h('strong', {}, share ? t.shareNotice : t.publicNotice), ' ', t.foldedNotice(settings.k)),
    controls(context, state, today, viewHref),
    filter ? chip(context, filter, viewHref) : null,
    goal ? h('p', { class: 'message message-info goal-notice' }, t.goalNotice) : null,
    onPage ? h('p', { class: 'message message-info page-notice' }, t.pageNotice) : null,
    rangeText,
    // On a phone the chart comes first, near the top (the stylesheet
    // swaps the two; neither has anything to focus but the chart).
    h(
      'div',
      { class: 'figures-and-chart' },
      h(
      'section',
      { class: 'figures', 'aria-labelledby': 'figures-heading' },
      h('h2', { id: 'figures-heading', class: 'visually-hidden' }, t.keyFigures),
      h('p', { class: 'realtime' }, h('span', { class: 'pulse', 'aria-hidden': 'true' }), `${t.realtime}: `, realtime, ' ', h('span', { class: 'muted' }, `(${t.realtimeHint})`)),
      figures(context, aggregate.results, metrics, goal ? t.goalMetrics : onPage ? { ...t.metrics, ...t.pageMetrics } : t.metrics),
      comparedText(context, compared),
    ),
    h(
      'section',
      { class: 'chart-section', 'aria-labelledby': 'chart-heading' },
      h('div', { class: 'chart-head' }, h('h2', { id: 'chart-heading' }, goal ? t.goalChartTitle : t.chartTitle), hoursOnRequest(state, today) ? stepChoice(context, interval, viewHref) : null),
      chartHolder,
    ),
    ),
    SECTIONS.map((section) =>
      h(
        'section',
        { class: 'panel-section', 'aria-labelledby': `section-${section}` },
        h('h2', { id: `section-${section}` }, t.sections[section]),
        h(
          'div',
          { class: 'panel-grid' },
          panelsAndLoads.filter((_, index) => shownPanels[index].section === section).map((panel) => panel.element),
          section === 'behaviour' ? extra.map((panel) => panel.element) : null,
        ),
      ),
    ),
    consent ? h('section', { class: 'panel-section', 'aria-labelledby': 'section-consent' }, h('h2', { id: 'section-consent' }, t.sections.consent), h('div', { class: 'panel-grid' }, consent.element)) : null,
    downloads(context, query),
    h('p', { class: 'privacy-link' }, h('a', { href: `/privacy/${encodeURIComponent(site)}${context.lang === 'en' ? '?lang=en' : ''}` }, t.privacyPage)),
  );

  // Realtime visitors, now and every 30 seconds while this view is shown.
  const refresh = async () => {
    try {
      const value = await api.stats('realtime/visitors', { site_id: site, share });
      if (context.isCurrent()) realtime.textContent = typeof value === 'number' ? context.format.integer(value) : t.none;
    } catch {}
  };
  refresh();
  const timer = setInterval(refresh, REALTIME_EVERY_MS);
  onLeave(() => clearInterval(timer));

  const [points, previousPoints] = await seriesPromise;
  if (!context.isCurrent()) return;
  if (points) {
    // What is still to come is not drawn (nor listed).
    const now = currentBucket(settings.timeZone, interval);
    const marked = points.map((point) => (isFuture(point.date, now) ? { ...point, future: true } : point));
    const previous = previousPoints && previousPoints.length ? points.map((_, index) => previousPoints[index] || null) : null;
    fill(chartHolder, timeseriesChart({ points: marked, previous, interval, metrics: goal ? ['visitors', 'events'] : ['visitors', 'pageviews'], labels: goal ? t.goalMetrics : t.metrics, title: goal ? t.goalChartTitle : t.chartTitle }, context));
  } else {
    fill(chartHolder, h('p', { class: 'message message-error' }, t.error));
  }
  await Promise.all([...panelsAndLoads, ...extra, ...(consent ? [consent] : [])].map((panel) => panel.loaded));
  if (context.isCurrent()) announce(`${t.loaded}: ${rangeText.textContent}`);
}

function figures(context, results, metrics, labels) {
  const { t, format } = context;
  const show = {
    visitors: format.integer,
    visits: format.integer,
    pageviews: format.integer,
    events: format.integer,
    views_per_visit: format.decimal,
    bounce_rate: format.percent,
    visit_duration: format.duration,
    conversion_rate: format.percentDecimal,
  };
  return h(
    'dl',
    { class: 'metrics' },
    metrics.map((metric) => {
      const entry = results[metric] || {};
      const value = entry.value ?? null;
      // The server's change: null against nothing ("nieuw", "–"), absent
      // where it cannot be told (withheld, or nothing compared yet).
      const againstNothing = 'change' in entry && entry.change === null;
      const change = entry.change ?? null;
      return h(
        'div',
        { class: 'metric', 'data-metric': metric, 'data-value': value === null ? '' : value },
        h('dt', {}, labels[metric]),
        h('dd', { class: 'metric-value' }, value === null ? [h('span', { 'aria-hidden': 'true' }, t.none), hidden(t.withheld)] : show[metric](value)),
        h(
          'dd',
          { class: 'metric-change', 'data-change': againstNothing || change === null ? '' : change },
          againstNothing ? newText(context, value) : changeText(context, metric, change),
        ),
      );
    }),
  );
}

// What the changes compare, as the server says: "23 november 2026 tot
// 14:00 vergeleken met 22 november 2026 tot 14:00".
function comparedText(context, compared) {
  const { t } = context;
  if (!compared) return null;
  const now = stretchLabel(compared.current, context);
  const before = stretchLabel(compared.previous, context);
  return h('p', { class: 'compared muted', 'data-compared': '' }, now && before ? t.compared(now, before) : t.nothingCompared);
}

// A figure against an empty previous period: "nieuw" when there is
// something now, "–" when there is nothing either; never a percentage.
function newText(context, value) {
  const { t } = context;
  if (value > 0) return [h('span', { class: 'new-mark' }, t.new), hidden(` – ${t.noPrevious}`)];
  return h('span', { class: 'muted' }, h('span', { 'aria-hidden': 'true' }, '–'), hidden(t.noPrevious));
}

function changeText(context, metric, change) {
  const { t, format } = context;
  if (change === null || change === undefined) return h('span', { class: 'muted' }, t.none, hidden(` ${t.change}`));
  const arrow = change > 0 ? '↑' : change < 0 ? '↓' : '→';
  const sign = change > 0 ? '+' : change < 0 ? '−' : '';
  const points = metric === 'bounce_rate' || metric === 'conversion_rate';
  const size = metric === 'conversion_rate' ? format.oneDecimal(Math.abs(change)) : format.integer(Math.abs(change));
  const amount = points ? `${sign}${size}\u00a0${t.points}` : `${sign}${size}%`;
  return [h('span', { 'aria-hidden': 'true', class: 'arrow' }, arrow, ' '), amount, ' ', h('span', { class: 'muted' }, change === 0 ? t.noChange : t.change)];
}

// Days or hours, for ranges of two to seven days.
function stepChoice(context, interval, viewHref) {
  const { t } = context;
  const option = (value, label) =>
    h('li', {}, h('a', { href: viewHref({ interval: value === 'hour' ? 'hour' : null }), 'data-nav': '', 'data-key': `steps-${value}`, 'data-focus': `steps-${value}`, 'aria-current': interval === value ? 'true' : null }, label));
  return h('nav', { class: 'steps', 'aria-label': t.chartSteps }, h('ul', {}, option('day', t.byDay), option('hour', t.byHour)));
}

function controls(context, state, today, viewHref) {
  const { t } = context;
  const active = activePreset(state, today);
  const custom = !active;
  const [from, to] = state.period === 'custom' ? state.date.split(',') : [today, today];
  const error = h('p', { class: 'message message-error', id: 'custom-error', role: 'alert', hidden: true });
  const fromInput = h('input', { type: 'date', id: 'custom-from', name: 'from', value: from, max: today, required: true });
  const toInput = h('input', { type: 'date', id: 'custom-to', name: 'to', value: to, max: today, required: true });
  const form = h(
    'form',
    {
      class: 'custom-period',
      onsubmit(event) {
        event.preventDefault();
        const start = fromInput.value;
        const end = toInput.value;
        if (!start || !end || start > end) {
          error.textContent = t.customInvalid;
          error.hidden = false;
          fromInput.setAttribute('aria-invalid', 'true');
          fromInput.setAttribute('aria-describedby', 'custom-error');
          fromInput.focus();
          return;
        }
        navigate(viewHref({ period: 'custom', date: `${start},${end}` }), { focus: 'custom-apply' });
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'custom-from' }, t.from), fromInput),
    h('div', { class: 'field' }, h('label', { for: 'custom-to' }, t.to), toInput),
    h('button', { type: 'submit', 'data-key': 'custom-apply' }, t.apply),
    error,
  );
  return h(
    'nav',
    { class: 'period-picker', 'aria-labelledby': 'period-label' },
    h('h2', { id: 'period-label', class: 'picker-label' }, t.period),
    h(
      'ul',
      { class: 'period-list' },
      PRESETS.map((preset) => {
        const target = presetState(preset, today);
        return h(
          'li',
          {},
          h('a', { href: viewHref({ period: target.period, date: target.date }), 'data-nav': '', 'data-key': `period-${preset}`, 'aria-current': preset === active ? 'true' : null }, t.periods[preset]),
        );
      }),
    ),
    h('details', { class: 'custom', open: custom }, h('summary', { 'data-key': 'period-custom', 'aria-current': custom ? 'true' : null }, t.periods.custom), form),
  );
}

function chip(context, filter, viewHref) {
  const { t } = context;
  const what = `${isGoal(filter) ? t.columns.goal : panelTitle(filter.property, context)}: ${valueLabel(filter.property, filter.value, context)}`;
  return h(
    'div',
    { class: 'filters' },
    h('span', { class: 'filters-label' }, `${t.filteredBy}:`),
    ' ',
    h(
      'button',
      {
        type: 'button',
        class: 'chip',
        'data-key': 'chip',
        'data-filter': `${filter.property}==${filter.value}`,
        onclick() {
          announce(t.removeFilter(what));
          navigate(viewHref({ filter: null }), { focus: 'heading' });
        },
      },
      hidden(`${t.removeFilter('')}`),
      what,
      h('span', { class: 'chip-x', 'aria-hidden': 'true' }, '×'),
    ),
  );
}

function downloads(context, query) {
  const { t } = context;
  return h(
    'section',
    { class: 'downloads', 'aria-labelledby': 'downloads-heading' },
    h('h2', { id: 'downloads-heading' }, t.zip),
    h('p', {}, h('a', { href: api.statsUrl('export', { ...query, lang: context.lang }), download: '', class: 'button-link', 'data-zip': '' }, t.zip), ' ', h('span', { class: 'muted' }, t.zipHint)),
  );
}

