//! Consent: the notice a site shows and the receipts of visitors' choices.
//!
//! Owns the notice texts per language (`texts`, files in `lang/`), a
//! site's consent settings and its notice with the banner version that
//! identifies it (`notice`), and the receipt model and its checks
//! (`receipt`). Storage is the store's (`store::consent`); HTTP is the
//! edge's (`http::consent`).
//! Invariant: a receipt holds no IP address, user agent or other data
//! about the visitor; only the random id ties it to a browser's cookie.

pub(crate) mod notice;
pub(crate) mod receipt;
pub(crate) mod texts;

pub(crate) use notice::{Mode, Notice, SiteConsent, Terms};
pub(crate) use receipt::{Choice, ChoiceError, ChoiceRequest, Method, Receipt, ReceiptId};
