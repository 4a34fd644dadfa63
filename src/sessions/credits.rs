//! Which counting scopes a visitor has been credited to today.
//!
//! A scope is a (filter, breakdown, time bucket) combination; each is kept
//! as a 32-bit fingerprint in a small sorted vector. Within one visitor's
//! day (tens of scopes) a fingerprint collision is about one in 10^8, and
//! would only under-count that visitor once.

#[derive(Debug, Default, Clone)]
pub struct Credits(Vec<u32>);

impl Credits {
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
