//! Pages for citizens: the cookie notice's choices and receipts
//! (`consent`, `receipt`), the privacy page (`privacy`), and the frame they
//! share (`page`).

pub(super) mod consent;
pub(super) mod page;
pub(super) mod privacy;
pub(super) mod receipt;
