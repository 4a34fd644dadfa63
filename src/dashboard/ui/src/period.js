// The period shown, as it stands in the page's URL (?period=&date=), which
// is exactly the stats API's vocabulary: day, 7d, 30d, month, 12mo, or
// custom with date=FROM,TO. "Yesterday" and "last month" are day and month
// with an anchor date, so every view is a plain link.
export const PRESETS = ['day', 'yesterday', '7d', '30d', 'month', 'lastmonth', '12mo'];
const PERIODS = new Set(['day', '7d', '30d', 'month', '6mo', '12mo', 'custom']);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

// Today in the site's time zone, as YYYY-MM-DD.
export function todayIn(timeZone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

const toDate = (text) => new Date(`${text}T00:00:00Z`);
const toText = (date) => date.toISOString().slice(0, 10);
export const addDays = (text, days) => toText(new Date(toDate(text).getTime() + days * 86400000));
function firstOfPreviousMonth(text) {
  const date = toDate(text);
  return toText(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1)));
}

export function periodFromSearch(params) {
  const period = PERIODS.has(params.get('period')) ? params.get('period') : '30d';
  const date = params.get('date') || null;
  if (period === 'custom') {
    const [from, to] = (date || '').split(',');
    if (DATE.test(from || '') && DATE.test(to || '') && from <= to) return { period, date: `${from},${to}` };
    return { period: '30d', date: null };
  }
  return { period, date: date && DATE.test(date) ? date : null };
}

// The state a preset link leads to.
export function presetState(preset, today) {
  switch (preset) {
    case 'yesterday':
      return { period: 'day', date: addDays(today, -1) };
    case 'lastmonth':
      return { period: 'month', date: firstOfPreviousMonth(today) };
    default:
      return { period: preset, date: null };
  }
}

// Which preset a state is, if any.
export function activePreset(state, today) {
  return PRESETS.find((preset) => {
    const candidate = presetState(preset, today);
    if (candidate.period !== state.period) return false;
    if (candidate.date === state.date) return true;
    // An anchor of today is the same as none; any day of last month is last month.
    if (preset === 'lastmonth') return state.date && state.date.slice(0, 7) === candidate.date.slice(0, 7);
    if (candidate.date === null) return state.date === null || state.date === today;
    return false;
  });
}

// hour for a day or a week, month for a year, otherwise day.
export function intervalFor(state) {
  if (state.period === 'day' || state.period === '7d') return 'hour';
  if (state.period === '12mo') return 'month';
  if (state.period === 'custom') {
    const [from, to] = state.date.split(',');
    const days = (toDate(to) - toDate(from)) / 86400000 + 1;
    if (days <= 2) return 'hour';
    if (days > 92) return 'month';
  }
  return 'day';
}

export function apiParams(state) {
  const params = { period: state.period };
  if (state.date) params.date = state.date;
  return params;
}

// The range a time series covers, for the page's heading: its first and
// last point, so the label is what the server counted, in its time zone.
export function rangeLabel(points, interval, format) {
  if (!points.length) return '';
  const first = points[0].date.slice(0, 10);
  const last = points[points.length - 1].date.slice(0, 10);
  const day = (text) => format.date(toDate(text), { day: 'numeric', month: 'long', year: 'numeric' });
  if (interval === 'month') {
    const month = (text) => format.date(toDate(text), { month: 'long', year: 'numeric' });
    return first === last ? month(first) : `${month(first)} – ${month(last)}`;
  }
  return first === last ? day(first) : `${day(first)} – ${day(last)}`;
}

// A point's label in the chart's table.
export function pointLabel(date, interval, format) {
  if (interval === 'hour') {
    const [day, time] = date.split(' ');
    return `${format.date(toDate(day), { weekday: 'short', day: 'numeric', month: 'short' })} ${time.slice(0, 5)}`;
  }
  if (interval === 'month') return format.date(toDate(date), { month: 'long', year: 'numeric' });
  return format.date(toDate(date), { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

// A short axis label.
export function tickLabel(date, interval, format) {
  if (interval === 'hour') {
    const [day, time] = date.split(' ');
    return time.startsWith('00:') ? format.date(toDate(day), { day: 'numeric', month: 'short' }) : time.slice(0, 5);
  }
  if (interval === 'month') return format.date(toDate(date), { month: 'short' });
  return format.date(toDate(date), { day: 'numeric', month: 'short' });
}
