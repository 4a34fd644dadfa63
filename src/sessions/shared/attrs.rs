//! A visit's attributes as the shared hot state keeps them: an opaque
//! string to the scripts, fields written length-first so no byte of a
//! page or source can be mistaken for a separator.

use crate::enrich::agent::Device;
use crate::enrich::country::Country;
use crate::ingest::hit::Hit;
use crate::privacy::url::Campaign;
use crate::sessions::VisitAttrs;

/// Fields in order: entry page, source, referrer, utm source, medium,
/// campaign, country, browser, OS, device. An absent field is `-`, a
/// present one `<length>:<bytes>`.
pub(super) fn encode_hit(hit: &Hit) -> Vec<u8> {
    let mut blob = Vec::with_capacity(64 + hit.page.len());
    let fields = [
        Some(hit.page.as_str()),
        Some(hit.source.as_str()),
        hit.referrer.as_deref(),
        hit.campaign.source.as_deref(),
        hit.campaign.medium.as_deref(),
        hit.campaign.campaign.as_deref(),
        Some(hit.country.as_str()),
        Some(hit.browser),
        Some(hit.os),
        Some(hit.device.as_str()),
    ];
    for field in fields {
        match field {
            Some(text) => {
                blob.extend_from_slice(text.len().to_string().as_bytes());
                blob.push(b':');
                blob.extend_from_slice(text.as_bytes());
            }
            None => blob.push(b'-'),
        }
    }
    blob
}

pub(super) fn decode(mut blob: &[u8]) -> Option<VisitAttrs> {
    let mut next = || -> Option<Option<String>> {
        if let Some(rest) = blob.strip_prefix(b"-") {
            blob = rest;
            return Some(None);
        }
        let colon = blob.iter().position(|byte| *byte == b':')?;
        let len: usize = std::str::from_utf8(&blob[..colon]).ok()?.parse().ok()?;
        let text = blob.get(colon + 1..colon + 1 + len)?;
        let text = String::from_utf8(text.to_vec()).ok()?;
        blob = &blob[colon + 1 + len..];
        Some(Some(text))
    };
    let entry_page = next()??;
    let source = next()??;
    let referrer = next()?;
    let campaign = Campaign {
        source: next()?,
        medium: next()?,
        campaign: next()?,
    };
    let country = next()??;
    // Browser and OS stay in the blob, so every version reads every
    // other's; a visit's attribution does not keep them.
    let (_browser, _os, device) = (next()??, next()??, next()??);
    Some(VisitAttrs {
        entry_page: entry_page.into(),
        source,
        referrer,
        campaign,
        country: Country::from_iso_code(&country).unwrap_or(Country::UNKNOWN),
        device: Device::named(&device),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::beacon::Interaction;
    use crate::ingest::hit::HitKind;
    use crate::sites::{Moment, Sites};

    #[test]
    fn attributes_come_back_as_they_went_in() {
        let hit = Hit {
            site: Sites::default_idx(),
            at: Moment {
                unix: 0,
                day: 0,
                hour: 0,
            },
            visitor: None,
            kind: HitKind::Pageview,
            page_props: Vec::new(),
            interaction: Interaction::Interactive,
            page: crate::privacy::url::clean_page_path("/a:b/5:x-", &[]),
            referrer: None,
            source: "Google".to_owned(),
            campaign: Campaign {
                source: Some("nieuwsbrief".to_owned()),
                medium: None,
                campaign: Some(String::new()),
            },
            country: Country::from_iso_code("nl").unwrap(),
            browser: "Firefox",
            os: "macOS",
            device: Device::Tablet,
        };
        let attrs = decode(&encode_hit(&hit)).unwrap();
        assert_eq!(&*attrs.entry_page, "/a:b/5:x-");
        assert_eq!(attrs.source, "Google");
        assert_eq!(attrs.referrer, None);
        assert_eq!(attrs.campaign, hit.campaign);
        assert_eq!(attrs.country.as_str(), "NL");
        assert_eq!(attrs.device, Device::Tablet);
    }

    #[test]
    fn a_truncated_blob_is_refused() {
        assert!(decode(b"5:/abc").is_none());
        assert!(decode(b"").is_none());
    }
}
