//! Which counting scopes a visitor has been credited to today.
//!
//! A scope is a (filter, breakdown, time bucket) combination; each is kept
//! as a 32-bit fingerprint in a small sorted vector. Within one visitor's
//! day (tens of scopes) a fingerprint collision is about one in 10^8, and
//! would only under-count that visitor once.

#[derive(Debug, Default, Clone)]
pub struct Credits(Vec<u32>);

impl Credits {
    pub fn contains(&self, fingerprint: u32) -> bool {
        self.0.binary_search(&fingerprint).is_ok()
    }

    /// Records the scope; true the first time it is seen today.
    pub fn first_time(&mut self, fingerprint: u32) -> bool {
        match self.0.binary_search(&fingerprint) {
            Ok(_) => false,
            Err(position) => {
                self.0.insert(position, fingerprint);
                true
            }
        }
    }
}

/// How "first time today?" is answered for the scopes of one hit.
pub enum CreditCheck<'a> {
    /// Anonymous hits are credited to nothing.
    Anonymous,
    /// The visitor's credits in this process's memory.
    Local(&'a mut Credits),
    /// Notes each scope asked about and answers "no": a dry run that tells
    /// the shared state which scopes to test.
    Record(&'a mut Vec<u32>),
    /// The shared state's answers, in the order the dry run asked.
    Answered { bits: &'a [u8], next: usize },
}

impl CreditCheck<'_> {
    pub fn first_time(&mut self, fingerprint: u32) -> bool {
        match self {
            CreditCheck::Anonymous => false,
            CreditCheck::Local(credits) => credits.first_time(fingerprint),
            CreditCheck::Record(asked) => {
                asked.push(fingerprint);
                false
            }
            CreditCheck::Answered { bits, next } => {
                let answer = bits.get(*next) == Some(&b'1');
                *next += 1;
                answer
            }
        }
    }

    /// A dry run adds no counts.
    pub fn is_dry_run(&self) -> bool {
        matches!(self, CreditCheck::Record(_))
    }
}
