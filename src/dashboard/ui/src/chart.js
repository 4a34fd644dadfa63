// The time-series chart, drawn as SVG at the width of its container (and
// again when that changes), with its data table beside it: the table is the
// accessible equivalent, the chart is a picture of it.
import { h, s, uniqueId } from './dom.js';
import { pointLabel, tickLabel } from './period.js';

const SERIES = [
  { metric: 'visitors', className: 'series-visitors', area: true },
  { metric: 'pageviews', className: 'series-pageviews', area: false },
];

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

function draw(svg, points, interval, width, context) {
  const { t, format } = context;
  const height = width < 480 ? 180 : 240;
  const margin = { top: 12, right: 12, bottom: 28, left: 8 };
  const max = Math.max(0, ...points.flatMap((point) => SERIES.map(({ metric }) => point[metric] || 0)));
  const yTicks = ticks(max);
  const top = yTicks[yTicks.length - 1];
  const labelWidth = 8 + 7.5 * Math.max(...yTicks.map((tick) => format.integer(tick).length));
  margin.left = labelWidth;
  const plotWidth = Math.max(10, width - margin.left - margin.right);
  const plotHeight = height - margin.top - margin.bottom;
  const step = points.length > 1 ? plotWidth / (points.length - 1) : 0;
  const x = (index) => margin.left + (points.length > 1 ? index * step : plotWidth / 2);
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;

  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  const parts = [];
  for (const tick of yTicks) {
    parts.push(s('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }));
    parts.push(s('text', { class: 'axis', x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, format.integer(tick)));
  }
  // As many time labels as fit, spaced evenly.
  const room = Math.max(1, Math.floor(plotWidth / 72));
  const every = Math.max(1, Math.ceil(points.length / room));
  points.forEach((point, index) => {
    if (index % every) return;
    parts.push(s('text', { class: 'axis', x: x(index), y: height - 8, 'text-anchor': index === 0 ? 'start' : 'middle' }, tickLabel(point.date, interval, format)));
  });
  for (const { metric, className, area } of SERIES) {
    // Withheld points (null) break the line rather than pretend to be zero.
    const runs = [];
    let run = [];
    points.forEach((point, index) => {
      if (point[metric] === null || point[metric] === undefined) {
        if (run.length) runs.push(run);
        run = [];
      } else run.push([x(index), y(point[metric])]);
    });
    if (run.length) runs.push(run);
    for (const line of runs) {
      const path = line.map(([px, py], index) => `${index ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
      if (area && line.length > 1) {
        parts.push(s('path', { class: `${className} area`, d: `${path}L${line[line.length - 1][0].toFixed(1)},${y(0)}L${line[0][0].toFixed(1)},${y(0)}Z` }));
      }
      parts.push(s('path', { class: `${className} line`, d: path }));
      if (line.length === 1) parts.push(s('circle', { class: `${className} dot`, cx: line[0][0], cy: line[0][1], r: 3 }));
    }
  }
  // Hover targets: each point's figures as a tooltip.
  points.forEach((point, index) => {
    const label = `${pointLabel(point.date, interval, format)}: ${SERIES.map(({ metric }) => `${t.metrics[metric]} ${point[metric] === null ? t.none : format.integer(point[metric])}`).join(', ')}`;
    parts.push(s('rect', { class: 'hover', x: x(index) - step / 2, y: margin.top, width: Math.max(step, 4), height: plotHeight }, s('title', {}, label)));
  });
  svg.replaceChildren(...svg.querySelectorAll(':scope > title, :scope > desc'), ...parts);
}

export function timeseriesChart(points, interval, context) {
  const { t, format } = context;
  const titleId = uniqueId('chart-title');
  const descId = uniqueId('chart-desc');
  const svg = s('svg', { role: 'img', 'aria-labelledby': `${titleId} ${descId}`, class: 'chart-svg', focusable: 'false' }, s('title', { id: titleId }, t.chartTitle), s('desc', { id: descId }, t.chartDesc));
  const frame = h('div', { class: 'chart-frame' }, svg);
  let drawnWidth = 0;
  const redraw = () => {
    const width = Math.floor(frame.clientWidth);
    if (width > 0 && width !== drawnWidth) {
      drawnWidth = width;
      draw(svg, points, interval, width, context);
    }
  };
  new ResizeObserver(redraw).observe(frame);

  const legend = h(
    'ul',
    { class: 'legend' },
    SERIES.map(({ metric, className }) => h('li', {}, h('span', { class: `swatch ${className}`, 'aria-hidden': 'true' }), t.metrics[metric])),
  );

  const metrics = ['visitors', 'visits', 'pageviews'];
  const cell = (value) => h('td', { class: 'number' }, value === null || value === undefined ? t.none : format.integer(value));
  const table = h(
    'table',
    { class: 'data-table' },
    h('caption', { class: 'visually-hidden' }, t.chartTable),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.time), metrics.map((metric) => h('th', { scope: 'col', class: 'number' }, t.metrics[metric])))),
    h(
      'tbody',
      {},
      points.map((point) => h('tr', {}, h('th', { scope: 'row' }, pointLabel(point.date, interval, format)), metrics.map((metric) => cell(point[metric])))),
    ),
  );
  const details = h(
    'details',
    { class: 'chart-table' },
    h('summary', { 'data-key': 'chart-table' }, t.chartTable),
    h('div', { class: 'scroll-region', role: 'region', tabindex: '0', 'aria-label': t.chartTable }, table),
  );
  return h('div', { class: 'chart' }, legend, frame, details);
}
