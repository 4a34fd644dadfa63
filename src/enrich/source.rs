//! Reduces a referrer to the host it came from and names the source behind that host
//! (promise 5: "Referrers are reduced to their host and mapped to a source name").
//!
//! Owns the parsing of the referrer URL, the host normalisation (lower case, no
//! `www.`, no port, no user info) and a compact table of well-known sources: search
//! engines, social networks, web mail, Dutch news and Dutch government sites.
//!
//! Deliberately does not: keep the referrer's path or query (they can hold search
//! terms and personal data), recognise Mastodon instances (there are thousands, on any
//! domain), read a list from disk at run time, decide that a referral is internal to
//! the site (the caller knows the site's own domains), or prefer `utm_source` over
//! the referrer (that is the caller's rule).

use url::Url;

/// The longest DNS name (RFC 1035), and so the longest referrer host that is stored.
pub(crate) const MAX_HOST_BYTES: usize = 253;

/// Lower-cased host of an http(s) referrer, without a leading "www." and without
/// port; `None` when absent, unparsable, not http(s) or longer than a DNS name.
/// Personal data in it (a phone number as a label) is scrubbed by the caller, once it
/// has compared the host with the site's own.
pub fn referrer_host(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    // The url crate has already lower-cased the host (and punycoded it), and
    // `host_str` leaves out the port and any user name or password.
    let host = url.host_str()?;
    // A fully qualified "example.nl." is the same site as "example.nl".
    let host = host.strip_suffix('.').unwrap_or(host);
    let host = host.strip_prefix("www.").unwrap_or(host);
    // Longer is not a DNS name: refused whole rather than cut, since a cut host names nothing.
    if host.is_empty() || host.len() > MAX_HOST_BYTES {
        return None;
    }
    Some(host.to_owned())
}

/// What kind of source sent the visitor, for grouping sources on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Medium {
    Search,
    Social,
    Email,
    News,
    Government,
    Other,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Search => "search",
            Medium::Social => "social",
            Medium::Email => "email",
            Medium::News => "news",
            Medium::Government => "government",
            Medium::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceMatch {
    pub name: &'static str,
    pub medium: Medium,
}

/// The source for a referrer host, or `None` when the host is not in the list (the
/// caller then uses the host itself as source name).
///
/// Expects a host as [`referrer_host`] returns it. Subdomains belong to their parent
/// ("m.facebook.com" is Facebook), and the most specific entry wins
/// ("mail.google.com" is Gmail, not Google).
pub fn source_for_host(host: &str) -> Option<SourceMatch> {
    let mut suffix = host;
    loop {
        if let Some(found) = known_host(suffix).or_else(|| country_domain(suffix)) {
            return Some(found);
        }
        // Drop the leftmost label and try the parent domain.
        suffix = suffix.split_once('.')?.1;
    }
}

/// Brands that run one site per country: "google.nl", "google.co.uk" and
/// "google.com.au" are all Google. Only two-letter country codes (and "com") count as
/// a top-level domain here, so "google.blog.example" does not become Google.
fn country_domain(domain: &str) -> Option<SourceMatch> {
    let (brand, rest) = domain.split_once('.')?;
    let country = match rest.split_once('.') {
        Some(("co" | "com", country)) => country,
        Some(_) => return None,
        None => rest,
    };
    let is_country_code = country.len() == 2 && country.bytes().all(|b| b.is_ascii_lowercase());
    if !(country == "com" || is_country_code) {
        return None;
    }
    match brand {
        "google" => Some(search("Google")),
        "yandex" => Some(search("Yandex")),
        _ => None,
    }
}

const fn source(name: &'static str, medium: Medium) -> SourceMatch {
    SourceMatch { name, medium }
}

const fn search(name: &'static str) -> SourceMatch {
    source(name, Medium::Search)
}

/// Exact domains; [`source_for_host`] walks up from the full host to find them.
/// Names are what the dashboard shows.
fn known_host(domain: &str) -> Option<SourceMatch> {
    use Medium::{Email, News, Other, Social};
    let found = match domain {
        // Search engines (Google and Yandex country domains are in `country_domain`).
        "bing.com" => search("Bing"),
        "duckduckgo.com" => search("DuckDuckGo"),
        "ecosia.org" => search("Ecosia"),
        "yahoo.com" | "search.yahoo.com" => search("Yahoo"),
        "startpage.com" => search("Startpage"),
        "qwant.com" => search("Qwant"),
        "ya.ru" => search("Yandex"),
        "baidu.com" => search("Baidu"),
        "search.brave.com" => search("Brave Search"),
        "kagi.com" => search("Kagi"),
        // Assistants that link to their sources; not search engines, but close.
        "chatgpt.com" | "chat.openai.com" => source("ChatGPT", Other),
        "perplexity.ai" => source("Perplexity", Other),
        "copilot.microsoft.com" => source("Copilot", Other),
        "gemini.google.com" => source("Gemini", Other),
        // Google's own non-search sites, listed so the country rule does not claim them.
        "news.google.com" => source("Google News", News),
        "mail.google.com" => source("Gmail", Email),
        "docs.google.com" => source("Google Docs", Other),
        "drive.google.com" => source("Google Drive", Other),
        // Social networks and messengers.
        "facebook.com" | "fb.com" | "fb.me" => source("Facebook", Social),
        "instagram.com" => source("Instagram", Social),
        "linkedin.com" | "lnkd.in" => source("LinkedIn", Social),
        "x.com" | "twitter.com" | "t.co" => source("X", Social),
        "youtube.com" | "youtu.be" => source("YouTube", Social),
        "tiktok.com" => source("TikTok", Social),
        "reddit.com" => source("Reddit", Social),
        "pinterest.com" | "pinterest.nl" | "pin.it" => source("Pinterest", Social),
        "bsky.app" => source("Bluesky", Social),
        "threads.net" | "threads.com" => source("Threads", Social),
        "whatsapp.com" | "wa.me" => source("WhatsApp", Social),
        "telegram.org" | "t.me" => source("Telegram", Social),
        "snapchat.com" => source("Snapchat", Social),
        "nextdoor.nl" | "nextdoor.com" => source("Nextdoor", Social),
        // Web mail.
        "outlook.live.com" | "outlook.office.com" | "outlook.office365.com" => {
            source("Outlook", Email)
        }
        "mail.yahoo.com" => source("Yahoo Mail", Email),
        "mail.proton.me" => source("Proton Mail", Email),
        "gmx.net" | "gmx.com" | "gmx.de" => source("GMX", Email),
        "kpnmail.nl" => source("KPN Mail", Email),
        _ => return dutch_host(domain),
    };
    Some(found)
}

/// The Dutch part of the table: national and regional news, and government sites
/// that link to municipal pages.
fn dutch_host(domain: &str) -> Option<SourceMatch> {
    use Medium::{Government, News};
    let found = match domain {
        "nos.nl" => source("NOS", News),
        "nu.nl" => source("NU.nl", News),
        "rtl.nl" | "rtlnieuws.nl" => source("RTL Nieuws", News),
        "ad.nl" => source("AD", News),
        "telegraaf.nl" => source("De Telegraaf", News),
        "volkskrant.nl" => source("de Volkskrant", News),
        "nrc.nl" => source("NRC", News),
        "trouw.nl" => source("Trouw", News),
        "parool.nl" => source("Het Parool", News),
        "fd.nl" => source("FD", News),
        "at5.nl" => source("AT5", News),
        "rtvnoord.nl" => source("RTV Noord", News),
        "omropfryslan.nl" => source("Omrop Fryslân", News),
        "rtvdrenthe.nl" => source("RTV Drenthe", News),
        "rtvoost.nl" => source("RTV Oost", News),
        "omroepgelderland.nl" => source("Omroep Gelderland", News),
        "omroepflevoland.nl" => source("Omroep Flevoland", News),
        "rtvutrecht.nl" => source("RTV Utrecht", News),
        "nhnieuws.nl" => source("NH Nieuws", News),
        "omroepwest.nl" => source("Omroep West", News),
        "rijnmond.nl" => source("Rijnmond", News),
        "omroepzeeland.nl" => source("Omroep Zeeland", News),
        "omroepbrabant.nl" => source("Omroep Brabant", News),
        "l1.nl" => source("L1", News),
        "dvhn.nl" => source("Dagblad van het Noorden", News),
        "lc.nl" => source("Leeuwarder Courant", News),
        "tubantia.nl" => source("Tubantia", News),
        "destentor.nl" => source("De Stentor", News),
        "gelderlander.nl" => source("De Gelderlander", News),
        "bndestem.nl" => source("BN DeStem", News),
        "bd.nl" => source("Brabants Dagblad", News),
        "ed.nl" => source("Eindhovens Dagblad", News),
        "pzc.nl" => source("PZC", News),
        "limburger.nl" => source("De Limburger", News),
        "noordhollandsdagblad.nl" => source("Noordhollands Dagblad", News),
        "rijksoverheid.nl" => source("Rijksoverheid", Government),
        "overheid.nl" => source("Overheid.nl", Government),
        "mijn.overheid.nl" => source("MijnOverheid", Government),
        "government.nl" => source("Government.nl", Government),
        "belastingdienst.nl" => source("Belastingdienst", Government),
        "toeslagen.nl" => source("Toeslagen", Government),
        "digid.nl" => source("DigiD", Government),
        "vng.nl" => source("VNG", Government),
        "officielebekendmakingen.nl" => source("Officiële Bekendmakingen", Government),
        "duo.nl" => source("DUO", Government),
        "kvk.nl" => source("KVK", Government),
        "uwv.nl" | "werk.nl" => source("UWV", Government),
        "svb.nl" => source("SVB", Government),
        "rvo.nl" => source("RVO", Government),
        "rdw.nl" => source("RDW", Government),
        "politie.nl" => source("Politie", Government),
        "cbs.nl" => source("CBS", Government),
        _ => return None,
    };
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    mod hosts {
        use super::*;

        fn check(raw: &str, expected: Option<&str>) {
            assert_eq!(referrer_host(raw).as_deref(), expected, "referrer {raw:?}");
        }

        #[test]
        fn the_host_is_kept_and_path_query_and_fragment_are_dropped() {
            check(
                "https://www.google.nl/search?q=paspoort+aanvragen",
                Some("google.nl"),
            );
            check("https://nos.nl/artikel/123#reacties", Some("nos.nl"));
            check("http://example.nl", Some("example.nl"));
        }

        #[test]
        fn hosts_are_lower_cased_without_www_port_user_info_or_trailing_dot() {
            check("https://WWW.Gemeente.NL/", Some("gemeente.nl"));
            check(
                "https://intranet.example.nl:8443/page",
                Some("intranet.example.nl"),
            );
            check("https://jan:geheim@example.nl/", Some("example.nl"));
            check("https://example.nl./", Some("example.nl"));
            check("  https://example.nl/  ", Some("example.nl"));
        }

        #[test]
        fn only_the_first_www_label_is_removed() {
            check("https://www.www.example.nl/", Some("www.example.nl"));
            check("https://www2.example.nl/", Some("www2.example.nl"));
            check("https://wwwexample.nl/", Some("wwwexample.nl"));
        }

        #[test]
        fn address_hosts_and_international_names_are_kept_in_ascii_form() {
            check("http://192.0.2.10/", Some("192.0.2.10"));
            check("https://bücher.de/", Some("xn--bcher-kva.de"));
        }

        #[test]
        fn absent_unparsable_and_non_web_referrers_have_no_host() {
            check("", None);
            check("   ", None);
            check("not a url", None);
            check("/relative/path", None);
            check("android-app://com.google.android.gm/", None);
            check("file:///C:/Users/jan/brief.html", None);
            check("ftp://files.example.nl/", None);
            check("https://", None);
        }

        #[test]
        fn a_host_longer_than_a_dns_name_is_refused_not_cut() {
            let label = "a".repeat(63);
            let longest = format!("{label}.{label}.{label}.{}.nl", "a".repeat(58));
            assert_eq!(longest.len(), MAX_HOST_BYTES);
            check(&format!("https://{longest}/"), Some(&longest));
            check(&format!("https://b{longest}/"), None);
        }
    }

    mod sources {
        use super::*;

        fn check(host: &str, expected: Option<(&str, Medium)>) {
            let found = source_for_host(host).map(|found| (found.name, found.medium));
            assert_eq!(found, expected, "host {host:?}");
        }

        #[test]
        fn google_is_recognised_on_every_country_domain() {
            for host in [
                "google.com",
                "google.nl",
                "google.be",
                "google.co.uk",
                "google.com.au",
            ] {
                check(host, Some(("Google", Medium::Search)));
            }
            check("images.google.de", Some(("Google", Medium::Search)));
        }

        #[test]
        fn lookalike_domains_are_not_google() {
            check("google.example.nl", None);
            check("google.blog", None);
            check("notgoogle.nl", None);
            check("mygoogle.com", None);
        }

        #[test]
        fn subdomains_belong_to_their_parent_site() {
            check("m.facebook.com", Some(("Facebook", Medium::Social)));
            check("l.facebook.com", Some(("Facebook", Medium::Social)));
            check("lm.facebook.com", Some(("Facebook", Medium::Social)));
            check("out.reddit.com", Some(("Reddit", Medium::Social)));
            check("nl.search.yahoo.com", Some(("Yahoo", Medium::Search)));
            check("cn.bing.com", Some(("Bing", Medium::Search)));
        }

        #[test]
        fn the_most_specific_entry_wins() {
            check("mail.google.com", Some(("Gmail", Medium::Email)));
            check("news.google.com", Some(("Google News", Medium::News)));
            check("mail.yahoo.com", Some(("Yahoo Mail", Medium::Email)));
            check(
                "mijn.overheid.nl",
                Some(("MijnOverheid", Medium::Government)),
            );
            check(
                "wetten.overheid.nl",
                Some(("Overheid.nl", Medium::Government)),
            );
        }

        #[test]
        fn short_links_map_to_their_network() {
            check("t.co", Some(("X", Medium::Social)));
            check("lnkd.in", Some(("LinkedIn", Medium::Social)));
            check("youtu.be", Some(("YouTube", Medium::Social)));
            check("wa.me", Some(("WhatsApp", Medium::Social)));
        }

        #[test]
        fn mail_news_and_government_sites_have_their_medium() {
            check("outlook.live.com", Some(("Outlook", Medium::Email)));
            check("outlook.office365.com", Some(("Outlook", Medium::Email)));
            check("mail.proton.me", Some(("Proton Mail", Medium::Email)));
            check("nos.nl", Some(("NOS", Medium::News)));
            check("omroepbrabant.nl", Some(("Omroep Brabant", Medium::News)));
            check(
                "rijksoverheid.nl",
                Some(("Rijksoverheid", Medium::Government)),
            );
            check(
                "belastingdienst.nl",
                Some(("Belastingdienst", Medium::Government)),
            );
        }

        #[test]
        fn unknown_hosts_and_bare_top_level_domains_have_no_source() {
            check("gemeente.example.nl", None);
            check("nl", None);
            check("", None);
            check("com", None);
        }

        #[test]
        fn the_two_steps_together_turn_a_referrer_into_a_source() {
            let host = referrer_host("https://lm.facebook.com/l.php?u=https%3A%2F%2Fexample.nl");
            let found = host.as_deref().and_then(source_for_host);
            assert_eq!(found.map(|found| found.name), Some("Facebook"));
        }
    }

    #[test]
    fn medium_names_are_lower_case_words() {
        for (medium, expected) in [
            (Medium::Search, "search"),
            (Medium::Social, "social"),
            (Medium::Email, "email"),
            (Medium::News, "news"),
            (Medium::Government, "government"),
            (Medium::Other, "other"),
        ] {
            assert_eq!(medium.as_str(), expected);
        }
    }
}
