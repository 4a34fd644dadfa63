// The breakdown panels: what each one asks the stats API, how its rows
// read, and which ones filter the whole page when a row is followed.
import { h, hidden, uniqueId, fill } from './dom.js';
import * as api from './api.js';

// Built-in events have panels of their own.
const BUILT_IN_EVENTS = new Set(['pageview', 'Outbound Link: Click', 'File Download', '404']);
const OTHER = '(other)';

const visit = ['visitors', 'visits'];
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
  { id: 'events', section: 'behaviour', property: 'event:name', metrics: event, keep: (value) => !BUILT_IN_EVENTS.has(value) },
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
export const FILTERABLE = new Set(PANELS.filter((panel) => panel.filter).map((panel) => panel.property));

export const fieldOf = (property) => {
  if (property === 'event:props') return 'prop_key';
  return property.startsWith('event:props:') ? property.slice('event:props:'.length) : property.split(':')[1];
};

const PAGE_SIZE = 10;

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
  const panel = PANELS.find((candidate) => candidate.property === property && !candidate.mixed);
  return panel ? context.t.panels[panel.id] : property;
}

// One panel: heading, CSV link, table (loaded now), "show more".
// `query` holds the site, period, filter and share parameters;
// `filterHref(property, value)` is the link a filterable row leads to.
// Options: `title`; `rowLink` ({ href(value), current, hint(label) }),
// where each named row leads instead (the current one marked); `actions`,
// more links beside the CSV link.
export function breakdownPanel(panel, query, context, filterHref, { title, property = panel.property, rowLink = null, actions = null } = {}) {
  const { t } = context;
  title = title || t.panels[panel.id];
  const headingId = uniqueId('panel');
  const csv = h(
    'a',
    { class: 'csv-link', href: api.statsUrl('breakdown', { ...query, property, metrics: panel.metrics.join(','), limit: 1000, format: 'csv' }), download: '', 'data-csv': panel.id },
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

  const load = async (limit) => {
    let rows;
    try {
      // The two halves of event:props:url need a wider look to fill a page.
      const answer = await api.stats('breakdown', { ...query, property, metrics: panel.metrics.join(','), limit: panel.keep ? Math.max(limit, 100) : limit });
      rows = answer.results;
    } catch (failure) {
      if (!context.isCurrent()) return;
      fill(body, h('p', { class: 'message message-error' }, failure.status === 400 ? t.panelError : t.error));
      return;
    }
    if (!context.isCurrent()) return;
    const field = fieldOf(property);
    const kept = panel.keep ? rows.filter((row) => panel.keep(row[field])) : rows;
    const shown = kept.slice(0, limit);
    fill(body, 
      shown.length ? rowsTable(panel, property, field, shown, context, filterHref, headingId, rowLink) : h('p', { class: 'muted' }, t.noData),
    );
    const more = rows.length >= limit && limit < 100;
    if (more) {
      body.append(
        h(
          'button',
          {
            type: 'button',
            class: 'more-button',
            'data-key': `more-${panel.id}`,
            async onclick() {
              await load(100);
              // Keep the keyboard where it was: on the first new row.
              const next = body.querySelectorAll('tbody tr')[limit];
              const target = next && (next.querySelector('a') || next.querySelector('th'));
              if (target) {
                if (!target.matches('a')) target.setAttribute('tabindex', '-1');
                target.focus();
              }
            },
          },
          t.more,
          hidden(` – ${title}`),
        ),
      );
    }
  };
  return { element: section, loaded: load(PAGE_SIZE) };
}

function rowsTable(panel, property, field, rows, context, filterHref, headingId, rowLink) {
  const { t, format } = context;
  const top = Math.max(1, ...rows.map((row) => row[panel.metrics[0]] || 0));
  const number = (value) =>
    value === null || value === undefined ? h('td', { class: 'number' }, h('span', { 'aria-hidden': 'true' }, t.none), hidden(t.withheld)) : h('td', { class: 'number' }, format.integer(value));
  return h(
    'table',
    { class: 'breakdown', 'aria-labelledby': headingId },
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, (Object.hasOwn(t.columns, field) ? t.columns[field] : t.columns.value)), panel.metrics.map((metric) => h('th', { scope: 'col', class: 'number' }, t.columnMetrics[metric] || t.metrics[metric]))),
    ),
    h(
      'tbody',
      {},
      rows.map((row) => {
        const value = row[field];
        const label = valueLabel(property, value, context);
        let content;
        if (value === OTHER) {
          content = h('span', { class: 'other', title: panel.mixed ? t.urlMixed : t.otherHint }, label, hidden(` – ${panel.mixed ? t.urlMixed : t.otherHint}`));
        } else if (rowLink && value !== null && value !== '') {
          const current = value === rowLink.current;
          content = h(
            'a',
            { href: rowLink.href(value), 'data-nav': '', 'data-key': `${panel.id}-${value}`, class: 'row-link', 'data-value': value, 'aria-current': current ? 'true' : null },
            label,
            hidden(` – ${rowLink.hint(label)}`),
          );
        } else if (panel.filter && filterHref && value !== null && value !== '') {
          content = h('a', { href: filterHref(property, value), 'data-nav': '', 'data-focus': 'chip', class: 'filter-link', 'data-value': value }, label, hidden(` – ${t.filterBy(label)}`));
        } else {
          content = h('span', {}, label);
        }
        const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
        const share = row[panel.metrics[0]];
        bar.style.width = `${share ? Math.max(1, Math.round((share / top) * 100)) : 0}%`;
        return h('tr', {}, h('th', { scope: 'row', class: 'label-cell' }, bar, h('span', { class: 'label-text' }, content)), panel.metrics.map((metric) => number(row[metric])));
      }),
    ),
  );
}
