//! A log line that may be written at most once a minute, saying how many
//! occurrences were not logged in between: for faults that can repeat with
//! every request (a misconfigured proxy) and must not flood the log.
//!
//! It decides only whether to log; the caller writes the line, so what is
//! logged stays next to what it is about. Time is an argument.

use std::sync::Mutex;
use std::time::{Duration, Instant};

const EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(in crate::http) struct RateLimitedLog {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    /// `Some(occurrences not logged since the last line)` when this one may be
    /// logged; `None` (and one more suppressed) when a line was logged less
    /// than a minute ago.
    pub(in crate::http) fn admit(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let due = state
            .last_logged
            .is_none_or(|last| now.saturating_duration_since(last) >= EVERY);
        if !due {
            state.suppressed += 1;
            return None;
        }
        state.last_logged = Some(now);
        Some(std::mem::take(&mut state.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_minute_with_the_count_of_those_not_logged() {
        let log = RateLimitedLog::default();
        let start = Instant::now();
        let at = |seconds| start + Duration::from_secs(seconds);
        assert_eq!(log.admit(at(0)), Some(0));
        assert_eq!(log.admit(at(1)), None);
        assert_eq!(log.admit(at(59)), None);
        assert_eq!(log.admit(at(60)), Some(2));
        assert_eq!(log.admit(at(61)), None);
        assert_eq!(log.admit(at(600)), Some(1));
        assert_eq!(log.admit(at(601)), None);
    }
}
