// The breakdown panels: what each one asks the stats API, how its rows
// read, and which ones filter the whole page when a row is followed.
import { h, hidden, uniqueId, fill } from './dom.js';
import * as api from './api.js';

// Built-in events have panels of their own.
const BUILT_IN_EVENTS = new Set(['pageview', 'Outbound Link: Click', 'File Download', '404']);
const OTHER = '(other)';

const visit = ['visitors', 'visits'];
// A page's figures from engagement reports; `null` where none came.
const ENGAGEMENT = ['scroll_depth', 'time_on_page'];
const event = ['visitors', 'events'];
export const PANELS = [
  { id: 'pages', section: 'content', property: 'event:page', metrics: ['visitors', 'pageviews'], filter: true },
  { id: 'entry', section: 'content', property: 'visit:entry_page', metrics: visit },
  { id: 'exit', section: 'content', property: 'visit:exit_page', metrics: ['visits'] },
  { id: 'sources', section: 'acquisition', property: 'visit:source', metrics: visit, filter: true },
  { id: 'referrers', section: 'acquisition', property: 'visit:referrer', metrics: visit },
  { id: 'utm_source', section: 'campaigns', property: 'visit:utm_source', metrics: visit },
  { id: 'utm_medium', section: 'campaigns', property: 'visit:utm_medium', metrics: visit },
  { id: 'utm_campaign', section: 'campaigns', property: 'visit:utm_campaign', metrics: visit, filter: true },
  { id: 'countries', section: 'technology', property: 'visit:country', metrics: visit, filter: true },
  { id: 'devices', section: 'technology', property: 'visit:device', metrics: visit, filter: true },
  { id: 'browsers', section: 'technology', property: 'visit:browser', metrics: visit },
  { id: 'os', section: 'technology', property: 'visit:os', metrics: visit },
  // Goals are custom event names: their people, events and conversion
  // rate; following one filters the page to the visitors who reached it.
  { id: 'goals', section: 'behaviour', property: 'event:name', metrics: ['visitors', 'events', 'conversion_rate'], keep: (value) => !BUILT_IN_EVENTS.has(value), filterAs: 'event:goal' },
  // The server keeps an outbound link's host and a download's host and
  // path under the same property: a '/' tells them apart.
  { id: 'outbound', section: 'behaviour', property: 'event:props:url', metrics: event, keep: (value) => value === OTHER || !value.includes('/'), mixed: true },
  { id: 'downloads', section: 'behaviour', property: 'event:props:url', metrics: event, keep: (value) => value === OTHER || value.includes('/'), mixed: true },
  { id: 'notfound', section: 'behaviour', property: 'event:props:path', metrics: event },
];
// The keys custom events carried; each leads to its values (?prop=KEY).
export const PROP_KEYS = { id: 'props', section: 'behaviour', property: 'event:props', metrics: ['events'] };
// The values of the key in ?prop=.
export const propValues = (key) => ({ id: 'prop-values', section: 'behaviour', property: `event:props:${key}`, metrics: event });
export const SECTIONS = ['content', 'acquisition', 'campaigns', 'technology', 'behaviour'];
export const FILTERABLE = new Set([...PANELS.filter((panel) => panel.filter).map((panel) => panel.property), 'event:goal']);
export const isGoal = (filter) => !!filter && filter.property === 'event:goal';

// What a panel asks for: under a goal every panel answers the goal's
// visitors, events and conversion rate (the properties keys only events);
// exit pages, counted when a visit ends, have no goal part (null).
// With `engagement` (the site's own readers, unfiltered or under a page
// filter: where the API answers them) the pages panel adds scroll depth
// and time on page.
export function panelMetrics(panel, goal, { engagement = false } = {}) {
  if (!goal) return engagement && panel.id === 'pages' ? [...panel.metrics, ...ENGAGEMENT] : panel.metrics;
  if (panel.property === 'visit:exit_page') return null;
  if (panel.property === 'event:props') return ['events'];
  return ['visitors', 'events', 'conversion_rate'];
}

export const fieldOf = (property) => {
  if (property === 'event:props') return 'prop_key';
  return property.startsWith('event:props:') ? property.slice('event:props:'.length) : property.split(':')[1];
};

const PAGE_SIZE = 10;
// Rows per page of a panel's full list ("meer"), and how many it fetches.
const LIST_PAGE_SIZE = 25;
const FULL_LIST = 1000;

// How a value of a property reads.
export function valueLabel(property, value, context) {
  const { t, format } = context;
  if (value === null || value === undefined || value === '') return t.none;
  if (value === OTHER) return t.other;
  if (property === 'visit:country') return value === 'unknown' ? t.unknown : format.country(value);
  if (property === 'visit:device') return t.devices[value] || value;
  if (property === 'visit:source' && value === 'Direct / None') return t.direct;
  if (value === 'unknown') return t.unknown;
  return value;
}

// A file-name word for a panel title: "Pagina’s" → "paginas".
export const fileWord = (title) =>
  title
    .normalize('NFD')
    .replace(/[\u0300-\u036f’']/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

// A path that breaks only after a '/', never inside a word: a <wbr> after
// each slash (the stylesheet keeps words whole).
function pathText(text) {
  if (!text.startsWith('/')) return text;
  const parts = text.split('/');
  return parts.flatMap((part, index) => (index === parts.length - 1 ? [part] : [part, '/', h('wbr')]));
}

// A filter as it stands in ?filter= (PROPERTY==VALUE), or null.
export function parseFilter(text) {
  if (!text) return null;
  const at = text.indexOf('==');
  if (at < 0) return null;
  const property = text.slice(0, at);
  const value = text.slice(at + 2);
  return FILTERABLE.has(property) && value ? { property, value } : null;
}

export function panelTitle(property, context) {
  if (property === 'event:goal') return context.t.panels.goals;
  const panel = PANELS.find((candidate) => candidate.property === property && !candidate.mixed);
  return panel ? context.t.panels[panel.id] : property;
}

// One panel: heading, CSV link, table (the top rows, loaded now), and
// "meer" for the full list: searched, sorted by any column, a page at a
// time. Sorting or searching fetches the full list first, so that it is
// the whole list that is sorted or searched, not its top.
// `query` holds the site, period, filter and share parameters;
// `filterHref(property, value)` is the link a filterable row leads to.
// Options: `title`; `columnLabels`, a metric's column heading instead of
// the usual one (under a page filter, visits are those begun there);
// `rowLink` ({ href(value), current, hint(label) }),
// where each named row leads instead (the current one marked); `actions`,
// more links beside the CSV link; `metrics`, instead of the panel's.
export function breakdownPanel(panel, query, context, filterHref, { title, property = panel.property, rowLink = null, actions = null, metrics = panel.metrics, columnLabels = null } = {}) {
  const { t } = context;
  title = title || t.panels[panel.id];
  const headingId = uniqueId('panel');
  const csv = h(
    'a',
    {
      class: 'csv-link',
      href: api.statsUrl('breakdown', { ...query, property, metrics: metrics.join(','), limit: FULL_LIST, format: 'csv', lang: context.lang, name: fileWord(title) }),
      download: '',
      'data-csv': panel.id,
    },
    t.csv,
    hidden(` – ${title}`),
  );
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, t.loading));
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': headingId, 'data-panel': panel.id },
    h('div', { class: 'panel-head' }, h('h3', { id: headingId }, title), actions ? h('span', { class: 'panel-actions' }, actions, csv) : csv),
    body,
  );
  const field = fieldOf(property);
  const view = { rows: [], complete: false, expanded: false, search: '', sort: null, page: 0 };

  const fetchRows = async (limit) => {
    // The two halves of event:props:url need a wider look to fill a page.
    const asked = panel.keep && limit < 100 ? 100 : limit;
    const answer = await api.stats('breakdown', { ...query, property, metrics: metrics.join(','), limit: asked });
    const kept = panel.keep ? answer.results.filter((row) => panel.keep(row[field])) : answer.results;
    return { kept, complete: answer.results.length < asked };
  };
  const fail = (failure) => {
    if (!context.isCurrent()) return;
    fill(body, h('p', { class: 'message message-error' }, failure.status === 400 ? t.panelError : t.error));
  };
  const ensureComplete = async () => {
    if (view.complete) return true;
    try {
      const { kept } = await fetchRows(FULL_LIST);
      view.rows = kept;
      view.complete = true;
      return true;
    } catch (failure) {
      fail(failure);
      return false;
    }
  };
  // Draws the view, then puts the keyboard back on `focusKey` if given.
  const render = (focusKey) => {
    if (!context.isCurrent()) return;
    const needle = view.search.trim().toLocaleLowerCase();
    let rows = view.rows;
    if (needle) rows = rows.filter((row) => `${row[field] ?? ''} ${valueLabel(property, row[field], context)}`.toLocaleLowerCase().includes(needle));
    if (view.sort) rows = sortRows(rows, view.sort, field, property, context);
    const size = view.expanded ? LIST_PAGE_SIZE : PAGE_SIZE;
    const pages = Math.max(1, Math.ceil(rows.length / size));
    view.page = Math.min(view.page, pages - 1);
    const shown = rows.slice(view.page * size, (view.page + 1) * size);
    const sortable = { view, metrics, onSort: sortBy, columnLabels };
    const parts = [];
    if (shown.length) parts.push(rowsTable(panel, property, field, shown, context, filterHref, headingId, rowLink, metrics, sortable));
    else parts.push(h('p', { class: 'muted', role: view.expanded ? 'status' : null }, needle ? t.noMatch : t.noData));
    if (view.expanded) {
      parts.push(pager(rows.length, pages));
      parts.push(h('button', { type: 'button', class: 'more-button', 'data-key': `less-${panel.id}`, onclick: collapse }, t.less, hidden(` – ${title}`)));
    } else if (!view.complete || view.rows.length > PAGE_SIZE) {
      parts.push(h('button', { type: 'button', class: 'more-button', 'data-key': `more-${panel.id}`, 'aria-expanded': 'false', onclick: expand }, t.more, hidden(` – ${title}`)));
    }
    // The search box stays (with the keyboard in it) while the list changes.
    search.hidden = !view.expanded;
    if (!body.contains(search)) fill(body, search, results);
    fill(results, parts);
    if (focusKey) {
      const target = body.querySelector(`[data-key="${focusKey}"]`) || section.querySelector('h3');
      if (target.matches('h3')) target.setAttribute('tabindex', '-1');
      target.focus();
    }
  };
  const searchId = uniqueId('search');
  const results = h('div', { class: 'panel-results' });
  const search = h(
      'div',
      { class: 'panel-search', hidden: true },
      h('label', { for: searchId }, t.searchIn(title)),
      h('input', {
        type: 'search',
        id: searchId,
        'data-key': `search-${panel.id}`,
        autocomplete: 'off',
        value: view.search,
        oninput(event) {
          view.search = event.target.value;
          view.page = 0;
          render();
        },
      }),
  );
  const pager = (count, pages) =>
    h(
      'nav',
      { class: 'pager', 'aria-label': t.pagesOf(title) },
      h('button', { type: 'button', 'data-key': `previous-${panel.id}`, disabled: view.page === 0, onclick: () => turn(-1) }, t.previousPage),
      h('span', { role: 'status' }, t.pageOf(view.page + 1, pages, count)),
      h('button', { type: 'button', 'data-key': `next-${panel.id}`, disabled: view.page >= pages - 1, onclick: () => turn(1) }, t.nextPage),
    );
  const turn = (by) => {
    view.page += by;
    render();
    // The keyboard stays on the button, or, when that one has come to the
    // end (and is disabled), on the other.
    const buttons = [`${by < 0 ? 'previous' : 'next'}-${panel.id}`, `${by < 0 ? 'next' : 'previous'}-${panel.id}`].map((key) => body.querySelector(`[data-key="${key}"]`));
    const target = buttons.find((button) => button && !button.disabled);
    if (target) target.focus();
  };
  async function sortBy(key) {
    const same = view.sort && view.sort.key === key;
    view.sort = { key, descending: same ? !view.sort.descending : key !== field };
    view.page = 0;
    if (await ensureComplete()) render(`sort-${panel.id}-${key}`);
  }
  async function expand() {
    view.expanded = true;
    view.page = 0;
    if (await ensureComplete()) render(`search-${panel.id}`);
  }
  function collapse() {
    view.expanded = false;
    view.search = '';
    search.querySelector('input').value = '';
    view.page = 0;
    render(`more-${panel.id}`);
  }

  const loaded = (async () => {
    try {
      const { kept, complete } = await fetchRows(PAGE_SIZE);
      view.rows = kept;
      view.complete = complete;
    } catch (failure) {
      fail(failure);
      return;
    }
    render();
  })();
  return { element: section, loaded };
}

// Rows in a column's order: numbers by size (missing ones last), labels
// alphabetically in the dashboard's language.
function sortRows(rows, { key, descending }, field, property, context) {
  const collator = new Intl.Collator(context.lang === 'en' ? 'en-GB' : 'nl-NL', { numeric: true });
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    if (key === field) return sign * collator.compare(String(valueLabel(property, a[key], context)), String(valueLabel(property, b[key], context)));
    const [x, y] = [a[key], b[key]];
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return sign * (x - y);
  });
}

function rowsTable(panel, property, field, rows, context, filterHref, headingId, rowLink, metrics, { view, onSort, columnLabels }) {
  const { t, format } = context;
  const top = Math.max(1, ...rows.map((row) => row[metrics[0]] || 0));
  const show = (metric, value) => {
    if (metric === 'conversion_rate') return format.percentDecimal(value);
    if (metric === 'scroll_depth') return format.percent(value);
    if (metric === 'time_on_page') return format.duration(value);
    return format.integer(value);
  };
  // Engagement columns are left out on a phone (app.css).
  const cellClass = (metric) => (ENGAGEMENT.includes(metric) ? 'number engagement' : 'number');
  // A missing figure: withheld, or for a page's engagement not measured.
  const missing = (metric) => (ENGAGEMENT.includes(metric) ? t.notMeasured : t.withheld);
  const number = (metric, value) =>
    value === null || value === undefined
      ? h('td', { class: cellClass(metric) }, h('span', { 'aria-hidden': 'true' }, t.none), hidden(missing(metric)))
      : h('td', { class: cellClass(metric) }, show(metric, value));
  // A column heading that sorts by its column (again: the other way).
  const heading = (key, label, className) => {
    const sorted = view.sort && view.sort.key === key ? (view.sort.descending ? 'descending' : 'ascending') : null;
    return h(
      'th',
      { scope: 'col', class: className, 'aria-sort': sorted },
      h(
        'button',
        { type: 'button', class: 'sort-button', 'data-key': `sort-${panel.id}-${key}`, onclick: () => onSort(key) },
        label,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, sorted === 'descending' ? ' ↓' : sorted === 'ascending' ? ' ↑' : ''),
        hidden(` – ${t.sortBy}`),
      ),
    );
  };
  const valueHeading = panel.id === 'goals' ? t.columns.goal : Object.hasOwn(t.columns, field) ? t.columns[field] : t.columns.value;
  return h(
    'table',
    { class: `breakdown columns-${metrics.length + 1}`, 'aria-labelledby': headingId },
    h(
      'thead',
      {},
      h('tr', {}, heading(field, valueHeading, null), metrics.map((metric) => heading(metric, (columnLabels && columnLabels[metric]) || t.columnMetrics[metric] || t.metrics[metric], cellClass(metric)))),
    ),
    h(
      'tbody',
      {},
      rows.map((row) => {
        const value = row[field];
        const label = valueLabel(property, value, context);
        const text = property.endsWith('page') || property === 'event:props:path' ? pathText(label) : label;
        let content;
        if (value === OTHER) {
          content = h('span', { class: 'other', title: panel.mixed ? t.urlMixed : t.otherHint }, label, hidden(` – ${panel.mixed ? t.urlMixed : t.otherHint}`));
        } else if (rowLink && value !== null && value !== '') {
          const current = value === rowLink.current;
          content = h(
            'a',
            { href: rowLink.href(value), 'data-nav': '', 'data-key': `${panel.id}-${value}`, class: 'row-link', 'data-value': value, 'aria-current': current ? 'true' : null },
            text,
            hidden(` – ${rowLink.hint(label)}`),
          );
        } else if ((panel.filter || panel.filterAs) && filterHref && value !== null && value !== '') {
          content = h('a', { href: filterHref(panel.filterAs || property, value), 'data-nav': '', 'data-focus': 'chip', class: 'filter-link', 'data-value': value }, text, hidden(` – ${panel.filterAs ? t.goalFilterBy(label) : t.filterBy(label)}`));
        } else {
          content = h('span', {}, text);
        }
        const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
        const share = row[metrics[0]];
        bar.style.width = `${share ? Math.max(1, Math.round((share / top) * 100)) : 0}%`;
        return h('tr', {}, h('th', { scope: 'row', class: 'label-cell' }, bar, h('span', { class: 'label-text' }, content)), metrics.map((metric) => number(metric, row[metric])));
      }),
    ),
  );
}
