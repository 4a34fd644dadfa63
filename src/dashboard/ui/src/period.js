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

// The days a state covers, [first, last], as the stats API resolves them.
export function periodRange(state, today) {
  if (state.period === 'custom') return state.date.split(',');
  const anchor = state.date || today;
  const date = toDate(anchor);
  const monthsBack = (months) => [toText(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - (months - 1), 1))), anchor];
  switch (state.period) {
    case 'day':
      return [anchor, anchor];
    case '7d':
      return [addDays(anchor, -6), anchor];
    case '30d':
      return [addDays(anchor, -29), anchor];
    case 'month':
      return [toText(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1))), toText(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)))];
    case '6mo':
      return monthsBack(6);
    default:
      return monthsBack(12);
  }
}

// The range of the same length just before (the API's previous period).
export function previousRange([first, last]) {
  const days = (toDate(last) - toDate(first)) / 86400000 + 1;
  return [addDays(first, -days), addDays(first, -1)];
}

const rangeDays = ([first, last]) => (toDate(last) - toDate(first)) / 86400000 + 1;

// Whether hours may be asked for instead of days: ranges of two to seven
// days (one day is always by the hour).
export const hoursOnRequest = (state, today) => state.period !== 'day' && rangeDays(periodRange(state, today)) <= 7 && rangeDays(periodRange(state, today)) > 1;

// hour for one day, and on request (?interval=hour) up to seven; month
// for a year or more than 92 days; otherwise day.
export function intervalFor(state, today, asked = null) {
  const days = rangeDays(periodRange(state, today));
  if (days === 1) return 'hour';
  if (asked === 'hour' && days <= 7) return 'hour';
  if (state.period === '12mo' || state.period === '6mo' || days > 92) return 'month';
  return 'day';
}

// The bucket now falls in, in the site's time zone, comparable with a
// point's date: 'YYYY-MM-DD HH' for hours, 'YYYY-MM-DD' for days, 'YYYY-MM'.
export function currentBucket(timeZone, interval, now = new Date()) {
  let parts;
  try {
    parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' })
        .formatToParts(now)
        .map(({ type, value }) => [type, value]),
    );
  } catch {
    const text = now.toISOString();
    parts = { year: text.slice(0, 4), month: text.slice(5, 7), day: text.slice(8, 10), hour: text.slice(11, 13) };
  }
  const day = `${parts.year}-${parts.month}-${parts.day}`;
  if (interval === 'hour') return `${day} ${parts.hour}`;
  return interval === 'month' ? day.slice(0, 7) : day;
}

// Whether a point lies after now: still to come, so not drawn.
export const isFuture = (date, bucket) => date.slice(0, bucket.length) > bucket;

export function apiParams(state) {
  const params = { period: state.period };
  if (state.date) params.date = state.date;
  return params;
}

// The range shown, for the page's heading: its first and last day, or
// "up to now" (t/m nu) when it runs past today.
export function rangeLabel([first, last], interval, today, context) {
  const { format, t } = context;
  const day = (text) => format.date(toDate(text), { day: 'numeric', month: 'long', year: 'numeric' });
  const running = last >= today && first <= today;
  if (interval === 'month') {
    const month = (text) => format.date(toDate(text), { month: 'long', year: 'numeric' });
    if (running) return t.untilNow(month(first));
    return first.slice(0, 7) === last.slice(0, 7) ? month(first) : `${month(first)} – ${month(last)}`;
  }
  if (running) return first === today ? t.todayUntilNow : t.untilNow(day(first));
  return first === last ? day(first) : `${day(first)} – ${day(last)}`;
}

// The days of a compared stretch ({ from, until } in local time, `until`
// not included), as [first, last]; null when it is empty.
export function stretchDays({ from, until }) {
  if (from >= until) return null;
  const untilDay = until.slice(0, 10);
  const last = until.slice(11, 16) === '00:00' ? addDays(untilDay, -1) : untilDay;
  return [from.slice(0, 10), last];
}

// What a comparison compared with: "22 november 2026 tot 14:00", or a
// range of days when it ends at midnight.
export function stretchLabel(stretch, context) {
  const { format, t } = context;
  const days = stretchDays(stretch);
  if (!days) return null;
  const day = (text) => format.date(toDate(text), { day: 'numeric', month: 'long', year: 'numeric' });
  const text = days[0] === days[1] ? day(days[0]) : `${day(days[0])} – ${day(days[1])}`;
  const hour = stretch.until.slice(11, 16);
  return hour === '00:00' ? text : t.untilHour(text, hour);
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

// A short axis label: an hour within one day, otherwise the day (or month).
export function tickLabel(date, interval, format, { hoursOfOneDay = true } = {}) {
  if (interval === 'hour' && hoursOfOneDay) return date.split(' ')[1].slice(0, 5);
  if (interval === 'month') return format.date(toDate(date.slice(0, 10)), { month: 'short' });
  return format.date(toDate(date.slice(0, 10)), { weekday: 'short', day: 'numeric', month: 'short' });
}
