//! Time as an input.
//!
//! Every stage that needs "now" asks a `Clock`. Production uses the system
//! clock; tests hold a manual clock and move it across midnight.
//! Timers (flush interval, sweeps) still run on tokio time; only the
//! timestamps that decide days, salts and visits come from here.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Manual(Arc<Mutex<Timestamp>>),
}

impl Clock {
    pub fn manual(start: Timestamp) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Manual(time) => *time.lock().unwrap_or_else(|poison| poison.into_inner()),
        }
    }

    /// Moves a manual clock; the system clock cannot be moved.
    pub fn set(&self, to: Timestamp) {
        match self {
            Clock::System => panic!("the system clock cannot be set"),
            Clock::Manual(time) => *time.lock().unwrap_or_else(|poison| poison.into_inner()) = to,
        }
    }
}
