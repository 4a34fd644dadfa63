// The time-series chart, drawn as SVG at the width of its container (and
// again when that changes), with its data table beside it: the table is the
// accessible equivalent, the chart is a picture of it.
//
// Points still to come (later today, later this month) are not drawn and
// not listed. When comparing, the previous period's visitors are a faint
// line under this period's, point for point. The chart's figures for one
// point show in a tooltip that follows the mouse, a finger (tap or drag)
// or the keyboard: the chart is a slider over its points (arrow keys,
// Home, End), whose value text is the tooltip's text.
import { h, s, uniqueId } from './dom.js';
import { pointLabel, tickLabel } from './period.js';

const SERIES = {
  visitors: { className: 'series-visitors', area: true },
  pageviews: { className: 'series-pageviews', area: false },
  events: { className: 'series-pageviews', area: false },
};

// Up to 5 round ticks from 0 to at least `max`.
function ticks(max) {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= rough && Number.isInteger(m)) || Math.ceil(rough);
  const top = Math.ceil(max / step) * step;
  const list = [];
  for (let value = 0; value <= top + step / 2; value += step) list.push(value);
  return list;
}

const shown = (value) => value !== null && value !== undefined;

// Lines through the points with a value; a missing value breaks the line
// rather than pretend to be zero.
function runs(values, x, y) {
  const list = [];
  let run = [];
  values.forEach((value, index) => {
    if (!shown(value)) {
      if (run.length) list.push(run);
      run = [];
    } else run.push([x(index), y(value)]);
  });
  if (run.length) list.push(run);
  return list;
}

const pathOf = (line) => line.map(([px, py], index) => `${index ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');

// The layout of one drawing: scales and the plot's box.
function layout(model, width, format) {
  const { points, previous, metrics } = model;
  const height = width < 480 ? 200 : 240;
  const margin = { top: 12, right: 12, bottom: 28, left: 8 };
  const values = points.flatMap((point) => (point.future ? [] : metrics.map((metric) => point[metric] || 0)));
  if (previous) values.push(...previous.map((point) => (point && point.visitors) || 0));
  const yTicks = ticks(Math.max(0, ...values));
  const top = yTicks[yTicks.length - 1];
  margin.left = 8 + 7.5 * Math.max(...yTicks.map((tick) => format.integer(tick).length));
  const plotWidth = Math.max(10, width - margin.left - margin.right);
  const plotHeight = height - margin.top - margin.bottom;
  const step = points.length > 1 ? plotWidth / (points.length - 1) : 0;
  const x = (index) => margin.left + (points.length > 1 ? index * step : plotWidth / 2);
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
  return { width, height, margin, yTicks, plotWidth, plotHeight, step, x, y };
}

// Which points get a label on the time axis: for hours of one day, as
// many as fit; for longer ranges by the hour, each midnight (a day per
// tick); for days and months, every n-th so that each label fits.
function tickIndexes(points, interval, plotWidth, labelWidth) {
  const room = Math.max(1, Math.floor(plotWidth / labelWidth));
  if (interval === 'hour' && !spansOneDay(points)) {
    const midnights = points.map((point, index) => (point.date.slice(11, 13) === '00' ? index : -1)).filter((index) => index >= 0);
    const every = Math.max(1, Math.ceil(midnights.length / room));
    return midnights.filter((_, at) => at % every === 0);
  }
  const every = Math.max(1, Math.ceil(points.length / room));
  return points.map((_, index) => index).filter((index) => index % every === 0);
}

const spansOneDay = (points) => points.length > 0 && points[0].date.slice(0, 10) === points[points.length - 1].date.slice(0, 10);

function draw(svg, model, width, context) {
  const { format } = context;
  const { points, previous, interval, metrics } = model;
  const box = layout(model, width, format);
  const { height, margin, yTicks, plotWidth, plotHeight, x, y } = box;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  const parts = [];
  for (const tick of yTicks) {
    parts.push(s('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }));
    parts.push(s('text', { class: 'axis', x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, format.integer(tick)));
  }
  const oneDay = spansOneDay(points);
  const labelWidth = interval === 'hour' && oneDay ? 52 : interval === 'month' ? 44 : 78;
  for (const index of tickIndexes(points, interval, plotWidth, labelWidth)) {
    const anchor = index === 0 && points.length > 1 ? 'start' : index === points.length - 1 && points.length > 1 ? 'end' : 'middle';
    parts.push(s('line', { class: 'tick', x1: x(index), x2: x(index), y1: margin.top + plotHeight, y2: margin.top + plotHeight + 4 }));
    parts.push(s('text', { class: 'axis', x: x(index), y: height - 8, 'text-anchor': anchor }, tickLabel(points[index].date, interval, format, { hoursOfOneDay: oneDay })));
  }
  if (previous) {
    for (const line of runs(previous.map((point) => point && point.visitors), x, y)) {
      parts.push(s('path', { class: 'series-previous line', d: pathOf(line) }));
    }
  }
  for (const metric of metrics) {
    const { className, area } = SERIES[metric];
    const values = points.map((point) => (point.future ? null : point[metric]));
    for (const line of runs(values, x, y)) {
      const path = pathOf(line);
      if (area && line.length > 1) {
        parts.push(s('path', { class: `${className} area`, d: `${path}L${line[line.length - 1][0].toFixed(1)},${y(0)}L${line[0][0].toFixed(1)},${y(0)}Z` }));
      }
      parts.push(s('path', { class: `${className} line`, d: path }));
      if (line.length === 1) parts.push(s('circle', { class: `${className} dot`, cx: line[0][0], cy: line[0][1], r: 3 }));
    }
  }
  // The marker of the chosen point, moved by `mark`.
  const guide = s('line', { class: 'guide', x1: 0, x2: 0, y1: margin.top, y2: margin.top + plotHeight, visibility: 'hidden' });
  const dots = metrics.map((metric) => s('circle', { class: `${SERIES[metric].className} marker`, r: 4, cx: 0, cy: 0, visibility: 'hidden' }));
  parts.push(guide, ...dots);
  svg.replaceChildren(...parts);
  return {
    box,
    mark(index) {
      const visible = index === null ? 'hidden' : 'visible';
      guide.setAttribute('visibility', visible);
      if (index === null) {
        for (const dot of dots) dot.setAttribute('visibility', 'hidden');
        return;
      }
      guide.setAttribute('x1', x(index));
      guide.setAttribute('x2', x(index));
      metrics.forEach((metric, at) => {
        const value = points[index][metric];
        dots[at].setAttribute('visibility', shown(value) ? 'visible' : 'hidden');
        dots[at].setAttribute('cx', x(index));
        dots[at].setAttribute('cy', y(shown(value) ? value : 0));
      });
    },
  };
}

// One point's figures as one line of text.
function pointText(model, index, context) {
  const { t, format } = context;
  const point = model.points[index];
  const figure = (value) => (shown(value) ? format.integer(value) : t.none);
  const parts = model.metrics.map((metric) => `${model.labels[metric]}: ${figure(point[metric])}`);
  if (model.previous) {
    const before = model.previous[index];
    parts.push(`${t.previousPeriod}: ${figure(before && before.visitors)} ${model.labels.visitors.toLowerCase()}${before ? ` (${pointLabel(before.date, model.interval, format)})` : ''}`);
  }
  return { when: pointLabel(point.date, model.interval, format), figures: parts };
}

// `points`: the series, each point possibly marked `future`; `previous`:
// the previous period's points by index, or null; `metrics`: the lines.
export function timeseriesChart({ points, previous = null, interval, metrics = ['visitors', 'pageviews'], labels = context.t.metrics, title = context.t.chartTitle }, context) {
  const { t, format } = context;
  const model = { points, previous, interval, metrics, labels };
  // The points that happened: the ones the tooltip and the table visit.
  const past = points.map((point, index) => (point.future ? -1 : index)).filter((index) => index >= 0);
  const descId = uniqueId('chart-desc');
  const svg = s('svg', { class: 'chart-svg', 'aria-hidden': 'true', focusable: 'false' });
  const tip = h('div', { class: 'chart-tip', hidden: true, 'aria-hidden': 'true' });
  const frame = h('div', {
    class: 'chart-frame',
    tabindex: past.length ? '0' : null,
    role: past.length ? 'slider' : null,
    'aria-label': title,
    'aria-describedby': descId,
    'aria-valuemin': past.length ? 1 : null,
    'aria-valuemax': past.length ? past.length : null,
    'data-key': 'chart',
  }, svg, tip);
  let drawing = null;
  let drawnWidth = 0;
  let chosen = null; // an index into `points`
  const show = (index) => {
    chosen = index;
    if (!drawing) return;
    drawing.mark(index);
    if (index === null) {
      tip.hidden = true;
      return;
    }
    const { when, figures } = pointText(model, index, context);
    tip.replaceChildren(h('strong', {}, when), ...figures.map((line) => h('span', {}, line)));
    tip.hidden = false;
    // Beside the point (right of it, or left when there is no room), so
    // that it does not hide the point; inside the frame.
    const at = drawing.box.x(index);
    const tipWidth = tip.offsetWidth;
    const beside = at + 12 + tipWidth <= drawing.box.width ? at + 12 : at - 12 - tipWidth;
    const left = Math.min(Math.max(0, beside), drawing.box.width - tipWidth);
    tip.style.left = `${Math.round(left)}px`;
    const position = past.indexOf(index) + 1;
    frame.setAttribute('aria-valuenow', position);
    frame.setAttribute('aria-valuetext', `${when}: ${figures.join(', ')}`);
  };
  const redraw = () => {
    const width = Math.floor(frame.clientWidth);
    if (width > 0 && width !== drawnWidth) {
      drawnWidth = width;
      drawing = draw(svg, model, width, context);
      show(chosen);
    }
  };
  new ResizeObserver(redraw).observe(frame);
  if (past.length) {
    const last = past[past.length - 1];
    frame.setAttribute('aria-valuenow', past.length);
    const { when, figures } = pointText(model, last, context);
    frame.setAttribute('aria-valuetext', `${when}: ${figures.join(', ')}`);
    const nearest = (event) => {
      if (!drawing) return null;
      const bounds = svg.getBoundingClientRect();
      const offset = event.clientX - bounds.left;
      let best = past[0];
      for (const index of past) if (Math.abs(drawing.box.x(index) - offset) < Math.abs(drawing.box.x(best) - offset)) best = index;
      return best;
    };
    frame.addEventListener('pointermove', (event) => show(nearest(event)));
    frame.addEventListener('pointerdown', (event) => show(nearest(event)));
    frame.addEventListener('pointerleave', (event) => {
      // A finger's tooltip stays after the finger lifts; the mouse's goes.
      if (event.pointerType === 'mouse' && document.activeElement !== frame) show(null);
    });
    frame.addEventListener('focus', () => show(chosen === null ? last : chosen));
    frame.addEventListener('blur', () => show(null));
    frame.addEventListener('keydown', (event) => {
      const position = chosen === null ? past.length - 1 : past.indexOf(chosen);
      const to = {
        ArrowLeft: position - 1,
        ArrowDown: position - 1,
        ArrowRight: position + 1,
        ArrowUp: position + 1,
        PageDown: position - 7,
        PageUp: position + 7,
        Home: 0,
        End: past.length - 1,
      }[event.key];
      if (to === undefined) {
        if (event.key === 'Escape') show(null);
        return;
      }
      event.preventDefault();
      show(past[Math.min(past.length - 1, Math.max(0, to))]);
    });
  }

  const legend = h(
    'ul',
    { class: 'legend' },
    metrics.map((metric) => h('li', {}, h('span', { class: `swatch ${SERIES[metric].className}`, 'aria-hidden': 'true' }), labels[metric])),
    previous ? h('li', {}, h('span', { class: 'swatch series-previous', 'aria-hidden': 'true' }), `${labels.visitors}, ${t.previousPeriod.toLowerCase()}`) : null,
  );
  const desc = h('p', { class: 'visually-hidden', id: descId }, t.chartDesc);

  const columns = [...new Set(['visitors', ...(metrics.includes('events') ? ['events'] : ['visits', 'pageviews'])])];
  const cell = (value) => h('td', { class: 'number' }, shown(value) ? format.integer(value) : t.none);
  const table = h(
    'table',
    { class: 'data-table' },
    h('caption', { class: 'visually-hidden' }, t.chartTable),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t.time),
        columns.map((metric) => h('th', { scope: 'col', class: 'number' }, labels[metric] || t.metrics[metric])),
        previous ? h('th', { scope: 'col', class: 'number' }, `${labels.visitors}, ${t.previousPeriod.toLowerCase()}`) : null,
      ),
    ),
    h(
      'tbody',
      {},
      past.map((index) => {
        const point = points[index];
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, pointLabel(point.date, interval, format)),
          columns.map((metric) => cell(point[metric])),
          previous ? cell(previous[index] && previous[index].visitors) : null,
        );
      }),
    ),
  );
  const details = h(
    'details',
    { class: 'chart-table' },
    h('summary', { 'data-key': 'chart-table' }, t.chartTable),
    h('div', { class: 'scroll-region', role: 'region', tabindex: '0', 'aria-label': t.chartTable }, table),
  );
  return h('div', { class: 'chart' }, legend, desc, frame, details);
}
