//! Consent receipts: a random id, and the history of a visitor's choices.
//!
//! Promise 9: a receipt holds the id, the site, and per choice its time (to
//! the second), the policy and banner versions, the language, the
//! categories granted and denied and how the choice was made. Nothing
//! about the visitor's browser or address.

use serde::{Deserialize, Serialize};

use super::notice::{Terms, is_category_id};

/// The most choices one receipt keeps; a choice past it starts a new receipt.
pub(crate) const MAX_HISTORY: usize = 100;

/// 128 random bits, shown as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptId([u8; 16]);

impl ReceiptId {
    pub fn random() -> ReceiptId {
        ReceiptId(rand::random())
    }

    pub fn parse(text: &str) -> Option<ReceiptId> {
        // Lowercase only, as it is shown: one id has one spelling.
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(ReceiptId(bytes))
    }

    pub fn from_bytes(bytes: [u8; 16]) -> ReceiptId {
        ReceiptId(bytes)
    }

    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl Serialize for ReceiptId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for ReceiptId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ReceiptId::parse(&text).ok_or_else(|| serde::de::Error::custom("not a receipt id"))
    }
}

/// How a choice was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    AcceptAll,
    RejectAll,
    Custom,
    Withdraw,
    /// The browser sent Global Privacy Control; nothing optional granted.
    PrivacySignal,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::AcceptAll,
        Method::RejectAll,
        Method::Custom,
        Method::Withdraw,
        Method::PrivacySignal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::AcceptAll => "accept_all",
            Method::RejectAll => "reject_all",
            Method::Custom => "custom",
            Method::Withdraw => "withdraw",
            Method::PrivacySignal => "privacy_signal",
        }
    }

    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|method| method.as_str() == text)
    }
}

/// One choice, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Unix seconds, from the server's clock.
    pub at: i64,
    pub policy_version: String,
    pub banner_version: String,
    pub language: String,
    pub granted: Vec<String>,
    pub denied: Vec<String>,
    pub method: Method,
}

/// A receipt as stored (embedded) and shown (`GET /api/consent/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub receipt: ReceiptId,
    pub site: String,
    pub created: i64,
    pub updated: i64,
    /// When the server deletes it, unless another choice comes first.
    pub expires: i64,
    pub history: Vec<Choice>,
}

/// A choice as the script sends it (`POST /api/consent`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChoiceRequest {
    pub site: String,
    #[serde(default)]
    pub receipt: Option<String>,
    pub policy_version: String,
    pub banner_version: String,
    pub language: String,
    pub granted: Vec<String>,
    pub denied: Vec<String>,
    pub method: String,
}

/// Why a choice is refused; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChoiceError {
    #[error("`receipt` is not a receipt id (32 lowercase hex digits)")]
    ReceiptId,
    #[error("unknown method {0:?}; use accept_all, reject_all, custom, withdraw or privacy_signal")]
    Method(String),
    #[error("unknown category {0:?} for this notice")]
    UnknownCategory(String),
    #[error("every category of the notice must be granted or denied, once: {0}")]
    Categories(String),
    #[error("method {0} does not fit the categories granted and denied")]
    MethodMismatch(&'static str),
    #[error("policy version {0:?} is not the one of banner version it names")]
    PolicyVersion(String),
    #[error("language {0:?} is not the one of banner version it names")]
    Language(String),
}

impl ChoiceError {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ChoiceError::ReceiptId => "invalid_receipt_id",
            ChoiceError::Method(_) => "invalid_method",
            ChoiceError::UnknownCategory(_) => "unknown_category",
            ChoiceError::Categories(_) => "invalid_categories",
            ChoiceError::MethodMismatch(_) => "invalid_method",
            ChoiceError::PolicyVersion(_) => "policy_version_mismatch",
            ChoiceError::Language(_) => "language_mismatch",
        }
    }
}

impl ChoiceRequest {
    /// The receipt the choice continues, if it names one.
    pub(crate) fn receipt_id(&self) -> Result<Option<ReceiptId>, ChoiceError> {
        self.receipt
            .as_deref()
            .map(|text| ReceiptId::parse(text).ok_or(ChoiceError::ReceiptId))
            .transpose()
    }

    /// Checks the choice against the notice it names and makes it a
    /// `Choice` at `now`.
    pub(crate) fn check(&self, notice: &Terms, now: i64) -> Result<Choice, ChoiceError> {
        let method =
            Method::parse(&self.method).ok_or_else(|| ChoiceError::Method(self.method.clone()))?;
        if self.policy_version != notice.policy_version {
            return Err(ChoiceError::PolicyVersion(self.policy_version.clone()));
        }
        if self.language != notice.language {
            return Err(ChoiceError::Language(self.language.clone()));
        }
        for id in self.granted.iter().chain(&self.denied) {
            if !is_category_id(id) || !notice.category_ids().any(|known| known == id) {
                return Err(ChoiceError::UnknownCategory(id.chars().take(40).collect()));
            }
        }
        let answered = self.granted.len() + self.denied.len();
        let mut all: Vec<&String> = self.granted.iter().chain(&self.denied).collect();
        all.sort();
        all.dedup();
        if all.len() != answered || answered != notice.categories.len() {
            let expected: Vec<&str> = notice.category_ids().collect();
            return Err(ChoiceError::Categories(expected.join(", ")));
        }
        let fits = match method {
            Method::AcceptAll => self.denied.is_empty(),
            Method::RejectAll | Method::Withdraw | Method::PrivacySignal => self.granted.is_empty(),
            Method::Custom => true,
        };
        if !fits {
            return Err(ChoiceError::MethodMismatch(method.as_str()));
        }
        Ok(Choice {
            at: now,
            policy_version: self.policy_version.clone(),
            banner_version: notice.banner_version.clone(),
            language: notice.language.clone(),
            granted: self.granted.clone(),
            denied: self.denied.clone(),
            method,
        })
    }
}

/// What a choice adds to the day's consent counts, as item names:
/// `m:<method>`, `g:<category>`, `d:<category>`.
pub(crate) fn tally_items(choice: &Choice) -> Vec<String> {
    let mut items = vec![format!("m:{}", choice.method.as_str())];
    items.extend(choice.granted.iter().map(|id| format!("g:{id}")));
    items.extend(choice.denied.iter().map(|id| format!("d:{id}")));
    items
}

#[cfg(test)]
mod tests;
