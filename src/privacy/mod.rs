//! The privacy stage: everything personal is reduced here, first.
//!
//! Owns IP truncation (`ip`), the daily salts (`salt`), visitor hashes
//! (`visitor`), URL cleaning (`url`, `pii`), the types of the texts that
//! leave it cleaned (`clean`), the link targets built-in
//! events report (`link`), the rule by which a stored text is cut to its
//! limit and cleaned again (`cut`) and privacy signals (this file).
//! Invariant: nothing after this stage can hold a full IP address; the
//! raw user agent leaves here only as an argument to `enrich`.

pub mod clean;
pub(crate) mod cut;
pub mod ip;
pub(crate) mod link;
pub mod pii;
pub(crate) mod salt;
pub(crate) mod shared_salt;
pub mod url;
pub mod visitor;

use crate::config::SignalPolicy;

/// Privacy signals a browser sent with the beacon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// `Sec-GPC: 1`.
    pub(crate) global_privacy_control: bool,
    /// `DNT: 1`.
    pub(crate) do_not_track: bool,
}

/// What the configured policies make of a beacon's signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Treatment {
    Count,
    /// Counted without a visitor identifier: no visitor, no visit.
    CountAnonymously,
    Drop,
}

pub(crate) fn treatment(signals: Signals, gpc: SignalPolicy, dnt: SignalPolicy) -> Treatment {
    let of = |present: bool, policy: SignalPolicy| match (present, policy) {
        (false, _) | (true, SignalPolicy::Ignore) => Treatment::Count,
        (true, SignalPolicy::CountAnonymously) => Treatment::CountAnonymously,
        (true, SignalPolicy::Drop) => Treatment::Drop,
    };
    strictest(
        of(signals.global_privacy_control, gpc),
        of(signals.do_not_track, dnt),
    )
}

fn strictest(a: Treatment, b: Treatment) -> Treatment {
    use Treatment::*;
    match (a, b) {
        (Drop, _) | (_, Drop) => Drop,
        (CountAnonymously, _) | (_, CountAnonymously) => CountAnonymously,
        (Count, Count) => Count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignalPolicy::*;

    fn check(
        gpc: bool,
        dnt: bool,
        gpc_policy: SignalPolicy,
        dnt_policy: SignalPolicy,
        expected: Treatment,
    ) {
        let signals = Signals {
            global_privacy_control: gpc,
            do_not_track: dnt,
        };
        assert_eq!(
            treatment(signals, gpc_policy, dnt_policy),
            expected,
            "gpc={gpc} dnt={dnt} {gpc_policy:?} {dnt_policy:?}"
        );
    }

    #[test]
    fn the_strictest_applicable_policy_wins() {
        check(false, false, Drop, Drop, Treatment::Count);
        check(
            true,
            false,
            CountAnonymously,
            Ignore,
            Treatment::CountAnonymously,
        );
        check(true, false, Drop, Ignore, Treatment::Drop);
        check(true, false, Ignore, Drop, Treatment::Count);
        check(false, true, CountAnonymously, Ignore, Treatment::Count);
        check(false, true, Ignore, Drop, Treatment::Drop);
        check(true, true, CountAnonymously, Drop, Treatment::Drop);
        check(
            true,
            true,
            Ignore,
            CountAnonymously,
            Treatment::CountAnonymously,
        );
    }
}
