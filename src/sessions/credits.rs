//! Which counting scopes a visitor has been credited to today.
//!
//! A scope is a (filter, breakdown, time bucket) combination; each is kept
//! as a 32-bit fingerprint in a small sorted slice. Within one visitor's
//! day (tens of scopes) a fingerprint collision is about one in 10^8, and
//! would only under-count that visitor once.
//!
//! Memory is bounded twice: one visitor holds at most `MAX_PER_VISITOR`
//! fingerprints (no person visits that many scopes in a day; past it new
//! scopes are not credited, so a client inventing pages cannot grow one
//! entry without end), and the hot state counts the fingerprints all its
//! visitors hold, so `Sessions` can evict by that total as well as by
//! visitors. The slice is exactly as long as what it holds: a million
//! visitors hold tens of millions of fingerprints, so a vector's length,
//! capacity and spare room would cost more than the occasional resize
//! (which the allocator mostly does in place, within the block's size
//! class).

/// Fingerprints one visitor may hold in one day.
pub(super) const MAX_PER_VISITOR: usize = 2048;

#[derive(Debug, Default, Clone)]
pub struct Credits(Box<[u32]>);

impl Credits {
    pub fn contains(&self, fingerprint: u32) -> bool {
        self.0.binary_search(&fingerprint).is_ok()
    }

    /// Fingerprints held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records the scope; true the first time it is seen today, false
    /// when seen before or when this visitor already holds the maximum.
    pub fn first_time(&mut self, fingerprint: u32) -> bool {
        match self.0.binary_search(&fingerprint) {
            Ok(_) => false,
            Err(_) if self.0.len() >= MAX_PER_VISITOR => false,
            Err(position) => {
                let mut grown = std::mem::take(&mut self.0).into_vec();
                grown.reserve_exact(1);
                grown.insert(position, fingerprint);
                self.0 = grown.into_boxed_slice();
                true
            }
        }
    }
}

/// How "first time today?" is answered for the scopes of one hit.
pub enum CreditCheck<'a> {
    /// Anonymous hits are credited to nothing.
    Anonymous,
    /// The visitor's credits in this process's memory, and the hot
    /// state's count of every visitor's fingerprints.
    Local {
        credits: &'a mut Credits,
        held: &'a mut usize,
    },
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
            CreditCheck::Local { credits, held } => {
                let first = credits.first_time(fingerprint);
                **held += usize::from(first);
                first
            }
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
    pub(crate) fn is_dry_run(&self) -> bool {
        matches!(self, CreditCheck::Record(_))
    }
}
