//! The texts that cross the privacy boundary, as types.
//!
//! A hit names its page, its referrer's host and its events' names and
//! properties only through these types, and only this stage can make one:
//! each constructor is private to `privacy`, called by the code that cleans
//! the text (`url::clean`, `pii::scrubbed`, `pii::referrer`). A raw path, a full
//! referrer or an unscrubbed property cannot reach a hit by construction.
//!
//! Each reads as the `str` it holds (`Deref`), so counting code uses it as
//! text without being able to make one.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// A counted text that code after this stage may replace, but only with a
/// text fixed in the program (the distinct-value cap's "(other)"): a
/// `&'static str` cannot carry anything a client sent.
pub trait FixedText: Deref<Target = str> {
    fn set_fixed(&mut self, text: &'static str);
}

/// Texts not cleaned here (a source's name, a campaign's values) are plain.
impl FixedText for String {
    fn set_fixed(&mut self, text: &'static str) {
        text.clone_into(self);
    }
}

macro_rules! cleaned_text {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Only the cleaning code of this stage makes one.
            pub(in crate::privacy) fn new(text: String) -> $name {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, for storing it.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FixedText for $name {
            fn set_fixed(&mut self, text: &'static str) {
                text.clone_into(&mut self.0);
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl From<$name> for String {
            fn from(text: $name) -> String {
                text.0
            }
        }
    };
}

cleaned_text!(
    /// A page's path as stored: percent-decoded, personal data replaced by
    /// placeholders, only allow-listed query parameters kept, cut to its
    /// limit (`url::clean`).
    CleanPath
);

cleaned_text!(
    /// The host of a referrer, without `www.`, port, path or query, and
    /// scrubbed like any stored text (`pii::referrer`).
    ReferrerHost
);

cleaned_text!(
    /// An event's name, a property's key or value, or a link target, with
    /// personal data replaced by placeholders (`pii::scrubbed`,
    /// `link::clean_target`).
    Scrubbed
);
