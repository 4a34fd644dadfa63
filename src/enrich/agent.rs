//! Reduces a raw `User-Agent` header to the classes Kruimel counts: browser family,
//! OS family and device class, or the verdict that the client is a bot.
//!
//! Owns bot detection (the `isbot` pattern list plus a few patterns it lacks, and
//! woothee's crawler category) and the mapping of woothee's names onto a small, closed
//! set of OS families. This is where promise 2 is kept: nothing derived from the
//! user agent leaves this module except [`Agent`], whose strings all come from
//! static lists, so the header itself cannot be stored by accident.
//!
//! Deliberately does not: keep versions (they add little and raise the cardinality of
//! every breakdown), cache results (classifying a browser's user agent costs about
//! one microsecond, and a cache keyed by user agents would be a store of them), or
//! decide what happens to a bot (the caller drops it and counts the drop).

use isbot::Bots;
use woothee::parser::{Parser, WootheeResult};

/// Patterns, matched against the lower-cased user agent, for clients that `isbot`'s
/// list lets through. Beacons are sent by JavaScript, so the clients that matter most
/// are those that run scripts: headless and automated browsers, page-speed and
/// accessibility auditors, and prerendering services.
const EXTRA_BOT_PATTERNS: &[&str] = &[
    // HeadlessChrome is listed, but not HeadlessEdg or other headless builds.
    "headless",
    // Listed only as "chrome-lighthouse"; Lighthouse CLI runs can say just this.
    "lighthouse",
    // Automation frameworks that leave their name in a customised user agent.
    "puppeteer",
    "playwright",
    "cypress/",
    "jsdom/",
    "slimerjs",
    "prerender",
    // Site auditing services common on Dutch government sites.
    "gtmetrix",
    "monsido",
    "readspeaker",
    // HTTP clients and runtimes not yet in the list: Node's built-in fetch says just
    // "node", and a bare "Mozilla/5.0" is what scanners send, never a browser.
    "^node$",
    "undici",
    "^deno/",
    "^bun/",
    "^dart/",
    "^ruby",
    "^httpie/",
    "^insomnia/",
    "^rest-client/",
    "libcurl",
    "windowspowershell/",
    r"^mozilla/[0-9.]+$",
];

/// Device class, from the user agent or from the screen width the script reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
    Unknown,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Unknown => "unknown",
        }
    }

    /// Device class from the viewport width in CSS pixels (the `w` field of a beacon).
    ///
    /// Below 576 is mobile and below 992 is tablet, everything wider is desktop: the
    /// small and large breakpoints of Bootstrap, which most municipal site themes are
    /// built on, so the classes match the layouts the visitors actually saw.
    pub(crate) fn from_screen_width(width: u32) -> Device {
        match width {
            0..576 => Device::Mobile,
            576..992 => Device::Tablet,
            _ => Device::Desktop,
        }
    }
}

/// What a human visitor's user agent is reduced to. Every string is one of the static
/// names in this module, never a piece of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentClasses {
    pub browser: &'static str,
    pub os: &'static str,
    pub device: Device,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Bot,
    Human(AgentClasses),
}

/// Built once at startup (compiling the bot patterns takes milliseconds) and shared.
pub(crate) struct AgentClassifier {
    bots: Bots,
    parser: Parser,
}

impl Default for AgentClassifier {
    fn default() -> Self {
        Self::new()
    }
}

impl AgentClassifier {
    pub(crate) fn new() -> Self {
        let mut bots = Bots::default();
        bots.append(EXTRA_BOT_PATTERNS);
        AgentClassifier {
            bots,
            parser: Parser::new(),
        }
    }

    pub(crate) fn classify(&self, user_agent: &str) -> Agent {
        // Every browser sends a user agent; only scripts and tools leave it out.
        if user_agent.trim().is_empty() {
            return Agent::Bot;
        }
        // woothee runs for every human anyway (it names the browser), and it checks for
        // the big crawlers before anything else, which spares them the bot regex.
        let parsed = self.parser.parse(user_agent);
        if parsed.as_ref().is_some_and(is_woothee_bot) || self.bots.is_bot(user_agent) {
            return Agent::Bot;
        }
        Agent::Human(match parsed {
            Some(result) => classes(&result, user_agent),
            None => AgentClasses {
                browser: OTHER,
                os: OTHER,
                device: Device::Unknown,
            },
        })
    }
}

const OTHER: &str = "Other";

/// woothee's own verdict: its crawler category, and the generic HTTP libraries it
/// files under "misc" (Java, Apache HttpClient, PHP and the like).
fn is_woothee_bot(result: &WootheeResult<'_>) -> bool {
    result.category == "crawler" || result.name == "HTTP Library"
}

fn classes(result: &WootheeResult<'_>, user_agent: &str) -> AgentClasses {
    AgentClasses {
        browser: browser_family(result.name),
        os: os_family(result.os),
        device: device(result, user_agent),
    }
}

impl Device {
    pub fn named(name: &str) -> Device {
        match name {
            "desktop" => Device::Desktop,
            "mobile" => Device::Mobile,
            "tablet" => Device::Tablet,
            _ => Device::Unknown,
        }
    }
}

/// woothee's browser names, kept as they are, but matched one by one rather than
/// passed through, so that the result is a static string whatever woothee returns.
/// Its other "names" (game consoles, Japanese feature phones) count as "Other".
fn browser_family(woothee_name: &str) -> &'static str {
    match woothee_name {
        "Chrome" => "Chrome",
        "Safari" => "Safari",
        "Firefox" => "Firefox",
        "Edge" => "Edge",
        "SamsungBrowser" => "SamsungBrowser",
        "Opera" => "Opera",
        "Internet Explorer" => "Internet Explorer",
        "Vivaldi" => "Vivaldi",
        "Yandex Browser" => "Yandex Browser",
        "Google Search App" => "Google Search App",
        "Webview" => "Webview",
        "Sleipnir" => "Sleipnir",
        _ => OTHER,
    }
}

/// Collapses woothee's OS names, which carry Windows versions and device names, into
/// the families a webmaster asks about.
fn os_family(woothee_os: &str) -> &'static str {
    match woothee_os {
        "Windows Phone OS" | "Windows CE" => OTHER,
        windows if windows.starts_with("Windows") => "Windows",
        "Mac OSX" | "Mac OS Classic" => "macOS",
        "iPhone" | "iPod" | "iOS" => "iOS",
        "iPad" => "iPadOS",
        "Android" => "Android",
        "Linux" => "Linux",
        "ChromeOS" => "ChromeOS",
        _ => OTHER,
    }
}

/// woothee files tablets under "smartphone"; Android tablets are told apart by the
/// "Mobile" token that Android phones' browsers add and tablets' browsers leave out.
/// iPads that ask for the desktop site (the default since iPadOS 13) claim to be Macs
/// and count as desktops; only the screen width can tell them apart.
fn device(result: &WootheeResult<'_>, user_agent: &str) -> Device {
    match result.category {
        "pc" => Device::Desktop,
        "mobilephone" => Device::Mobile,
        "smartphone" if result.os == "iPad" => Device::Tablet,
        "smartphone" if result.os == "Android" && !user_agent.contains("Mobile") => Device::Tablet,
        "smartphone" => Device::Mobile,
        _ => Device::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn classifier() -> &'static AgentClassifier {
        static CLASSIFIER: OnceLock<AgentClassifier> = OnceLock::new();
        CLASSIFIER.get_or_init(AgentClassifier::new)
    }

    mod humans {
        use super::*;

        fn check(user_agent: &str, expected: (&'static str, &'static str, Device)) {
            let (browser, os, device) = expected;
            let expected = Agent::Human(AgentClasses {
                browser,
                os,
                device,
            });
            assert_eq!(classifier().classify(user_agent), expected, "{user_agent}");
        }

        #[test]
        fn desktop_browsers_are_reduced_to_browser_and_os_family() {
            check(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                ("Chrome", "Windows", Device::Desktop),
            );
            check(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
                ("Edge", "Windows", Device::Desktop),
            );
            check(
                "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                ("Firefox", "Linux", Device::Desktop),
            );
            check(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
                ("Safari", "macOS", Device::Desktop),
            );
            check(
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                ("Chrome", "ChromeOS", Device::Desktop),
            );
            check(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
                ("Opera", "Windows", Device::Desktop),
            );
        }

        #[test]
        fn phones_are_mobile_whatever_the_browser() {
            check(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
                ("Safari", "iOS", Device::Mobile),
            );
            check(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                ("Chrome", "iOS", Device::Mobile),
            );
            check(
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
                ("Chrome", "Android", Device::Mobile),
            );
            check(
                "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                ("SamsungBrowser", "Android", Device::Mobile),
            );
            check(
                "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
                ("Firefox", "Android", Device::Mobile),
            );
        }

        #[test]
        fn ipads_and_android_devices_without_the_mobile_token_are_tablets() {
            check(
                "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
                ("Safari", "iPadOS", Device::Tablet),
            );
            check(
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                ("Chrome", "Android", Device::Tablet),
            );
            check(
                "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
                ("Firefox", "Android", Device::Tablet),
            );
        }

        #[test]
        fn an_unrecognised_user_agent_is_a_human_of_unknown_kind() {
            check("KruimelTestClient", ("Other", "Other", Device::Unknown));
        }
    }

    mod bots {
        use super::*;

        fn check(user_agent: &str) {
            assert_eq!(
                classifier().classify(user_agent),
                Agent::Bot,
                "{user_agent:?}"
            );
        }

        #[test]
        fn an_empty_or_blank_user_agent_is_a_bot() {
            check("");
            check("   ");
            check("\t");
        }

        #[test]
        fn search_engine_and_ai_crawlers_are_bots() {
            check(
                "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.155 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            );
            check(
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
            );
            check(
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.0; +https://openai.com/gptbot",
            );
            check("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)");
        }

        #[test]
        fn headless_and_automated_browsers_are_bots() {
            check(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
            );
            check(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 HeadlessEdg/120.0.0.0",
            );
            check(
                "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            );
            check(
                "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
            );
            check(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Puppeteer",
            );
            check(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Cypress/13.6.0 Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36",
            );
        }

        #[test]
        fn http_clients_and_scripts_are_bots() {
            for user_agent in [
                "curl/8.5.0",
                "Wget/1.21.4",
                "python-requests/2.31.0",
                "Go-http-client/1.1",
                "Java/17.0.2",
                "Apache-HttpClient/4.5.14 (Java/17.0.2)",
                "okhttp/4.12.0",
                "axios/1.6.8",
                "node",
                "Deno/1.42.0",
                "Mozilla/5.0",
            ] {
                check(user_agent);
            }
        }
    }

    mod families {
        use super::*;

        fn check(woothee_os: &str, expected: &str) {
            assert_eq!(os_family(woothee_os), expected, "{woothee_os}");
        }

        #[test]
        fn every_windows_version_is_one_windows_family() {
            check("Windows 10", "Windows");
            check("Windows 7", "Windows");
            check("Windows UNKNOWN Ver", "Windows");
        }

        #[test]
        fn apple_devices_are_split_into_macos_ios_and_ipados() {
            check("Mac OSX", "macOS");
            check("iPhone", "iOS");
            check("iPod", "iOS");
            check("iPad", "iPadOS");
        }

        #[test]
        fn rare_and_unknown_systems_are_other() {
            check("Windows Phone OS", "Other");
            check("BSD", "Other");
            check("PlayStation 4", "Other");
            check("UNKNOWN", "Other");
        }
    }

    mod browser_names {
        use super::*;

        fn check(woothee_name: &str, expected: &str) {
            assert_eq!(browser_family(woothee_name), expected, "{woothee_name}");
        }

        #[test]
        fn woothee_browser_names_are_kept_and_anything_else_is_other() {
            check("Chrome", "Chrome");
            check("SamsungBrowser", "SamsungBrowser");
            check("Internet Explorer", "Internet Explorer");
            check("PlayStation 4", "Other");
            check("docomo", "Other");
            check("UNKNOWN", "Other");
        }
    }

    mod screen_width {
        use super::*;

        fn check(width: u32, expected: Device) {
            assert_eq!(Device::from_screen_width(width), expected, "width {width}");
        }

        #[test]
        fn widths_below_576_are_mobile_below_992_tablet_and_above_desktop() {
            check(0, Device::Mobile);
            check(375, Device::Mobile);
            check(575, Device::Mobile);
            check(576, Device::Tablet);
            check(768, Device::Tablet);
            check(991, Device::Tablet);
            check(992, Device::Desktop);
            check(1920, Device::Desktop);
        }
    }
}
