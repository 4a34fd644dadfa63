//! The stored schema: what a row key and a row value look like in bytes.
//!
//! Key layout, chosen so one range scan answers one query:
//! `[site len u8][site][filter dim u8][filter len u16][filter value]`
//! `[breakdown dim u8][granularity u8][bucket: i32, sign-flipped, big-endian][breakdown value]`.
//! Value: six counters, each a zig-zag LEB128 number.
//! Monthly rows hold the sums of a finished month's daily rows
//! (`aggregate::rollup`), so a long range reads a row per month.

/// A property rows are filtered or broken down by. Stored as its number:
/// never renumber a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Dim {
    None = 0,
    Page = 1,
    EntryPage = 2,
    ExitPage = 3,
    Source = 4,
    Referrer = 5,
    UtmSource = 6,
    UtmMedium = 7,
    UtmCampaign = 8,
    Country = 9,
    Browser = 10,
    Os = 11,
    Device = 12,
    EventName = 13,
    /// Value is `key` + NUL + `value`.
    EventProp = 14,
    /// A page's engagement (Plausible's engagement reports), unfiltered
    /// and by day only; value is the page. Its rows give four of the six
    /// counters other meanings, all sums:
    /// `visits`: pageviews with an engagement report;
    /// `duration`: their engaged time in milliseconds;
    /// `pageviews`: pageviews with a reported scroll depth;
    /// `bounces`: the sum of each such pageview's deepest point, in percent.
    /// `visitors` and `events` stay 0. The aggregator packs a dimension
    /// into four bits: this is the last number that fits.
    Engagement = 15,
}

impl Dim {
    const ALL: [Dim; 16] = [
        Dim::None,
        Dim::Page,
        Dim::EntryPage,
        Dim::ExitPage,
        Dim::Source,
        Dim::Referrer,
        Dim::UtmSource,
        Dim::UtmMedium,
        Dim::UtmCampaign,
        Dim::Country,
        Dim::Browser,
        Dim::Os,
        Dim::Device,
        Dim::EventName,
        Dim::EventProp,
        Dim::Engagement,
    ];

    pub(crate) fn from_byte(byte: u8) -> Option<Dim> {
        Dim::ALL.get(usize::from(byte)).copied()
    }

    /// The same for every hit of a visitor within a day: derived from the
    /// truncated IP and user agent that also make the visitor hash.
    pub(crate) fn is_fixed_per_visitor(self) -> bool {
        matches!(self, Dim::Country | Dim::Browser | Dim::Os | Dim::Device)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Granularity {
    /// Bucket is hours since 1970-01-01T00 local.
    Hour = 1,
    /// Bucket is days since 1970-01-01 local.
    Day = 2,
    /// Bucket is the day number of the month's first day.
    Month = 3,
}

impl Granularity {
    pub(crate) fn from_byte(byte: u8) -> Option<Granularity> {
        match byte {
            1 => Some(Granularity::Hour),
            2 => Some(Granularity::Day),
            3 => Some(Granularity::Month),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub visitors: i64,
    pub visits: i64,
    pub pageviews: i64,
    pub bounces: i64,
    /// Sum of visit durations in seconds.
    pub duration: i64,
    /// Pageviews plus custom events.
    pub events: i64,
}

/// Six numbers of at most ten bytes each.
const MAX_ENCODED_LEN: usize = 60;

/// Encoded counts, on the stack.
pub struct EncodedCounts {
    bytes: [u8; MAX_ENCODED_LEN],
    len: usize,
}

impl EncodedCounts {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Counts {
    fn fields(&self) -> [i64; 6] {
        [
            self.visitors,
            self.visits,
            self.pageviews,
            self.bounces,
            self.duration,
            self.events,
        ]
    }

    /// Six zig-zag LEB128 numbers: most counters are small, and small
    /// values keep more rows per page, which is what a flush pays for.
    pub fn encode(&self) -> EncodedCounts {
        let mut encoded = EncodedCounts {
            bytes: [0; MAX_ENCODED_LEN],
            len: 0,
        };
        for field in self.fields() {
            let mut zigzag = ((field << 1) ^ (field >> 63)) as u64;
            loop {
                let byte = (zigzag & 0x7F) as u8;
                zigzag >>= 7;
                let more = zigzag != 0;
                encoded.bytes[encoded.len] = byte | if more { 0x80 } else { 0 };
                encoded.len += 1;
                if !more {
                    break;
                }
            }
        }
        encoded
    }

    pub fn decode(bytes: &[u8]) -> Option<Counts> {
        let mut rest = bytes.iter();
        let mut next = || -> Option<i64> {
            let mut zigzag = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = *rest.next()?;
                zigzag |= u64::from(byte & 0x7F) << shift;
                if byte & 0x80 == 0 {
                    return Some((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64));
                }
            }
            None
        };
        let counts = Counts {
            visitors: next()?,
            visits: next()?,
            pageviews: next()?,
            bounces: next()?,
            duration: next()?,
            events: next()?,
        };
        rest.next().is_none().then_some(counts)
    }

    /// Called for every counter update: an OR of the fields, which compiles
    /// to a few instructions where comparing arrays calls `memcmp`.
    pub(crate) fn is_zero(&self) -> bool {
        self.fields().into_iter().fold(0, |any, field| any | field) == 0
    }
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.visitors += other.visitors;
        self.visits += other.visits;
        self.pageviews += other.pageviews;
        self.bounces += other.bounces;
        self.duration += other.duration;
        self.events += other.events;
    }
}

/// Everything in a key before the bucket: one query's scan range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowPrefix {
    pub site: String,
    pub filter: (Dim, String),
    pub breakdown: Dim,
    pub granularity: Granularity,
}

/// One stored row, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub bucket: i32,
    pub value: String,
    pub counts: Counts,
}

fn bucket_bytes(bucket: i32) -> [u8; 4] {
    ((bucket as u32) ^ 0x8000_0000).to_be_bytes()
}

fn bucket_from(bytes: [u8; 4]) -> i32 {
    (u32::from_be_bytes(bytes) ^ 0x8000_0000) as i32
}

/// The borrowed parts of a key; the aggregator encodes rows from these
/// without building a `RowPrefix` per row.
pub struct KeyParts<'a> {
    pub site: &'a str,
    pub filter: (Dim, &'a str),
    pub breakdown: Dim,
    pub granularity: Granularity,
}

impl KeyParts<'_> {
    fn encode_prefix(&self, extra: usize) -> Vec<u8> {
        let site = truncated(self.site, usize::from(u8::MAX));
        let filter = truncated(self.filter.1, usize::from(u16::MAX));
        let mut key = Vec::with_capacity(12 + site.len() + filter.len() + extra);
        key.push(site.len() as u8);
        key.extend_from_slice(site.as_bytes());
        key.push(self.filter.0 as u8);
        key.extend_from_slice(&(filter.len() as u16).to_be_bytes());
        key.extend_from_slice(filter.as_bytes());
        key.push(self.breakdown as u8);
        key.push(self.granularity as u8);
        key
    }

    /// The full key of one row.
    pub fn row_key(&self, bucket: i32, value: &str) -> Vec<u8> {
        let mut key = self.encode_prefix(value.len());
        key.extend_from_slice(&bucket_bytes(bucket));
        key.extend_from_slice(value.as_bytes());
        key
    }
}

impl RowPrefix {
    fn parts(&self) -> KeyParts<'_> {
        KeyParts {
            site: &self.site,
            filter: (self.filter.0, &self.filter.1),
            breakdown: self.breakdown,
            granularity: self.granularity,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        self.parts().encode_prefix(0)
    }

    /// The full key of one row under this prefix.
    pub fn row_key(&self, bucket: i32, value: &str) -> Vec<u8> {
        self.parts().row_key(bucket, value)
    }

    /// Keys at or after the start of `bucket`.
    pub(crate) fn bucket_start(&self, bucket: i32) -> Vec<u8> {
        let mut key = self.encode();
        key.extend_from_slice(&bucket_bytes(bucket));
        key
    }
}

fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Splits a stored key into its prefix, bucket and breakdown value.
pub(crate) fn decode_key(key: &[u8]) -> Result<(RowPrefix, Row), &'static str> {
    let mut rest = key;
    let mut take = |count: usize| -> Result<&[u8], &'static str> {
        if rest.len() < count {
            return Err("key too short");
        }
        let (head, tail) = rest.split_at(count);
        rest = tail;
        Ok(head)
    };
    let site_len = usize::from(take(1)?[0]);
    let site = text(take(site_len)?)?;
    let filter_dim = Dim::from_byte(take(1)?[0]).ok_or("unknown filter dimension")?;
    let filter_len = usize::from(u16::from_be_bytes(take(2)?.try_into().map_err(|_| "len")?));
    let filter_value = text(take(filter_len)?)?;
    let breakdown = Dim::from_byte(take(1)?[0]).ok_or("unknown breakdown dimension")?;
    let granularity = Granularity::from_byte(take(1)?[0]).ok_or("unknown granularity")?;
    let bucket = bucket_from(take(4)?.try_into().map_err(|_| "bucket")?);
    let value = text(rest)?;
    Ok((
        RowPrefix {
            site,
            filter: (filter_dim, filter_value),
            breakdown,
            granularity,
        },
        Row {
            bucket,
            value,
            counts: Counts::default(),
        },
    ))
}

/// The bucket and breakdown value of a row, from the bytes of its key after
/// the encoded prefix: what a scan needs, without decoding and allocating
/// the prefix again for every row.
pub(crate) fn split_row(after_prefix: &[u8]) -> Result<(i32, &str), &'static str> {
    let (bucket, value) = after_prefix
        .split_first_chunk::<4>()
        .ok_or("key too short")?;
    let value = std::str::from_utf8(value).map_err(|_| "key is not UTF-8")?;
    Ok((bucket_from(*bucket), value))
}

/// The length of a stored key's prefix (everything before the bucket) and
/// its granularity, read from the lengths in the key without decoding it.
pub(crate) fn prefix_of(key: &[u8]) -> Option<(usize, Granularity)> {
    let site_end = 1 + usize::from(*key.first()?);
    let filter_len = key.get(site_end + 1..site_end + 3)?;
    let filter_end = site_end + 3 + usize::from(u16::from_be_bytes([filter_len[0], filter_len[1]]));
    let granularity = Granularity::from_byte(*key.get(filter_end + 1)?)?;
    Some((filter_end + 2, granularity))
}

/// The bucket bytes a key stores for `bucket`, for building keys by hand.
pub(crate) fn encoded_bucket(bucket: i32) -> [u8; 4] {
    bucket_bytes(bucket)
}

fn text(bytes: &[u8]) -> Result<String, &'static str> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "key is not UTF-8")
}

/// The site a key starts with (`[site len][site]`), and the length of
/// that head; the inverse of `site_range`'s start.
pub(crate) fn site_of_key(key: &[u8]) -> Result<(&str, usize), &'static str> {
    let length = usize::from(*key.first().ok_or("empty key")?);
    let site = key.get(1..1 + length).ok_or("key shorter than its site")?;
    let site = std::str::from_utf8(site).map_err(|_| "site is not UTF-8")?;
    Ok((site, 1 + length))
}

/// The keys of a site (every key starts `[site len][site]`) lie in
/// `start..end`.
pub(crate) fn site_range(site: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = vec![site.len() as u8];
    start.extend_from_slice(site.as_bytes());
    let mut end = start.clone();
    // A filter dimension byte follows the site, and none is 0xFF.
    end.push(0xFF);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix() -> RowPrefix {
        RowPrefix {
            site: "gemeente.example".into(),
            filter: (Dim::Source, "Google".into()),
            breakdown: Dim::Page,
            granularity: Granularity::Day,
        }
    }

    #[test]
    fn keys_round_trip() {
        for bucket in [-5, 0, 20_415, i32::MAX] {
            let key = prefix().row_key(bucket, "/wonen/afval");
            let (decoded, row) = decode_key(&key).unwrap();
            assert_eq!(decoded, prefix());
            assert_eq!((row.bucket, row.value.as_str()), (bucket, "/wonen/afval"));
        }
    }

    #[test]
    fn a_row_splits_after_its_prefix() {
        let key = prefix().row_key(-3, "/wonen/afval");
        let after = &key[prefix().encode().len()..];
        assert_eq!(split_row(after), Ok((-3, "/wonen/afval")));
        assert_eq!(split_row(&after[..3]), Err("key too short"));
        assert_eq!(split_row(&[0x80, 0, 0, 0, 0xFF]), Err("key is not UTF-8"));
    }

    #[test]
    fn a_key_tells_its_prefix_length_and_granularity() {
        let key = prefix().row_key(20_415, "/wonen/afval");
        assert_eq!(
            prefix_of(&key),
            Some((prefix().encode().len(), Granularity::Day))
        );
        let monthly = RowPrefix {
            granularity: Granularity::Month,
            ..prefix()
        };
        let (len, granularity) = prefix_of(&monthly.row_key(20_393, "")).unwrap();
        assert_eq!(
            (len, granularity),
            (monthly.encode().len(), Granularity::Month)
        );
        assert_eq!(prefix_of(&key[..5]), None, "cut inside the filter");
        assert_eq!(prefix_of(&[]), None);
    }

    #[test]
    fn buckets_sort_in_time_order_across_zero() {
        let keys: Vec<Vec<u8>> = [-2, -1, 0, 1, 300]
            .iter()
            .map(|b| prefix().row_key(*b, ""))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn counts_round_trip() {
        let counts = Counts {
            visitors: 1,
            visits: 2,
            pageviews: 3,
            bounces: -4,
            duration: 5,
            events: 6,
        };
        assert_eq!(Counts::decode(counts.encode().as_slice()), Some(counts));
        let extremes = Counts {
            visitors: i64::MAX,
            visits: i64::MIN,
            pageviews: 0,
            bounces: -1,
            duration: 1 << 40,
            events: 127,
        };
        assert_eq!(Counts::decode(extremes.encode().as_slice()), Some(extremes));
        assert_eq!(
            Counts::default().encode().as_slice().len(),
            6,
            "small counts take a byte each"
        );
        assert_eq!(Counts::decode(&[0; 5]), None, "too short");
        assert_eq!(Counts::decode(&[0; 7]), None, "trailing bytes");
        assert_eq!(Counts::decode(&[0x80; 11]), None, "an endless number");
    }
}
