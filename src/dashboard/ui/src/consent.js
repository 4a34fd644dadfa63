// Cookie choices for the period: how visitors answered the notice, and per
// category how many granted and denied it. Only for the site's own users:
// the server answers these to a session or token, never to the public.
import { h, uniqueId, fill } from './dom.js';
import * as api from './api.js';

export function consentPanel(query, context) {
  const { t, format } = context;
  const headingId = uniqueId('panel');
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, t.loading));
  const element = h(
    'section',
    { class: 'panel panel-wide', 'aria-labelledby': headingId, 'data-panel': 'consent' },
    h('div', { class: 'panel-head' }, h('h3', { id: headingId }, t.panels.consent)),
    body,
  );
  const loaded = (async () => {
    let results;
    try {
      const { site_id, period, date } = query;
      results = (await api.stats('consent', { site_id, period, date })).results;
    } catch {
      if (context.isCurrent()) fill(body, h('p', { class: 'message message-error' }, t.error));
      return;
    }
    if (!context.isCurrent()) return;
    const methods = {};
    const categories = {};
    let choices = 0;
    for (const day of results) {
      choices += day.choices || 0;
      for (const [method, count] of Object.entries(day.methods || {})) methods[method] = (methods[method] || 0) + count;
      for (const [category, { granted = 0, denied = 0 }] of Object.entries(day.categories || {})) {
        const sum = (categories[category] ||= { granted: 0, denied: 0 });
        sum.granted += granted;
        sum.denied += denied;
      }
    }
    if (!choices) {
      fill(body, h('p', { class: 'muted' }, t.noData));
      return;
    }
    const number = (value) => h('td', { class: 'number' }, format.integer(value));
    fill(body, 
      h(
        'table',
        { class: 'breakdown' },
        h('caption', {}, `${t.consentChoices}: ${format.integer(choices)}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.consentMethod), h('th', { scope: 'col', class: 'number' }, t.consentChoices))),
        h('tbody', {}, Object.entries(methods).map(([method, count]) => h('tr', {}, h('th', { scope: 'row' }, t.consentMethods[method] || method), number(count)))),
      ),
      Object.keys(categories).length
        ? h(
            'table',
            { class: 'breakdown' },
            h('caption', {}, t.consentCategory),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.consentCategory), h('th', { scope: 'col', class: 'number' }, t.granted), h('th', { scope: 'col', class: 'number' }, t.denied))),
            h('tbody', {}, Object.entries(categories).map(([category, sum]) => h('tr', {}, h('th', { scope: 'row' }, category), number(sum.granted), number(sum.denied)))),
          )
        : null,
    );
  })();
  return { element, loaded };
}
