//! What a browser reported, after the edge parsed and bounded it.
//!
//! These types carry no HTTP: the edge builds them from wire JSON and the
//! request's headers; the pipeline consumes them.

use crate::privacy::Signals;
use crate::privacy::ip::TruncatedIp;

/// Most property pairs a beacon may carry (Plausible's limit).
pub const MAX_PROPS: usize = 30;

/// An event name: `pageview`, `engagement` or a custom name of 1–120
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventName {
    Pageview,
    /// The report Plausible's tracker (0.4 and later) sends when a visitor
    /// leaves or hides a page: scroll depth (`sd`) and engaged time (`e`).
    /// It is neither a pageview nor a custom event, and not an interaction.
    Engagement,
    Custom(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an event name must be 1 to 120 characters without control characters")]
pub struct InvalidEventName;

impl EventName {
    pub fn parse(text: &str) -> Result<EventName, InvalidEventName> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 120 || text.chars().any(char::is_control) {
            return Err(InvalidEventName);
        }
        Ok(match text {
            "pageview" => EventName::Pageview,
            "engagement" => EventName::Engagement,
            _ => EventName::Custom(text.to_owned()),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Interactive,
    /// Does not end a bounce (scroll depth, timers and the like).
    NonInteractive,
}

#[derive(Debug, Clone)]
pub struct Beacon {
    pub name: EventName,
    /// The page URL as the browser reported it; cleaned by `privacy::url`.
    pub url: String,
    /// The sites this beacon counts for (`d`, comma-separated on the wire).
    pub domains: Vec<String>,
    pub referrer: Option<String>,
    pub screen_width: Option<u32>,
    pub props: Vec<(String, String)>,
    /// The script asked for hash-based routing (`h`).
    pub hash_routing: bool,
    pub interaction: Interaction,
    /// What an engagement report measured; empty for other events.
    pub engagement: Engagement,
}

/// An engagement report's figures for the page it was sent from: the
/// deepest point reached so far, in percent of the page's height (`sd`;
/// `None` when missing or past 100, which Plausible does not count
/// either), and the milliseconds the page was visible and focused since
/// the page's previous report (`e`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Engagement {
    pub scroll_depth: Option<u8>,
    pub engaged_ms: u32,
}

/// What the request itself says about the sender. The edge truncates the
/// client's address (`Pipeline::truncate`) before it builds this, so the
/// full address never reaches the pipeline.
#[derive(Debug)]
pub struct Sender {
    pub network: TruncatedIp,
    pub(crate) user_agent: Option<String>,
    pub signals: Signals,
}
