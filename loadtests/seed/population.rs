//! What the simulated audience is made of: the site's pages and documents,
//! the browsers, the networks visitors come from, and the places that send
//! them. Plain tables; `traffic.rs` draws from them.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

pub struct Agent {
    pub header: &'static str,
    /// Share of visitors.
    pub weight: f64,
    /// Screen widths the tracker reports (`w`), smallest and largest.
    pub widths: (u32, u32),
}

/// Current browsers, weighted like a Dutch municipal site's audience: a
/// little over half on phones.
pub const AGENTS: [Agent; 14] = [
    Agent {
        header: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
        weight: 24.0,
        widths: (360, 412),
    },
    Agent {
        header: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        weight: 22.0,
        widths: (375, 430),
    },
    Agent {
        header: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        weight: 17.0,
        widths: (1280, 1920),
    },
    Agent {
        header: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
        weight: 8.0,
        widths: (1280, 1920),
    },
    Agent {
        header: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        weight: 6.0,
        widths: (1280, 1728),
    },
    Agent {
        header: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
        weight: 4.0,
        widths: (1280, 1920),
    },
    Agent {
        header: "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        weight: 4.0,
        widths: (360, 412),
    },
    Agent {
        header: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        weight: 4.0,
        widths: (1280, 1728),
    },
    Agent {
        header: "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        weight: 4.0,
        widths: (768, 1024),
    },
    Agent {
        header: "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        weight: 2.0,
        widths: (800, 1024),
    },
    Agent {
        header: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/130.0.6723.90 Mobile/15E148 Safari/604.1",
        weight: 2.0,
        widths: (375, 430),
    },
    Agent {
        header: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        weight: 1.0,
        widths: (1280, 1920),
    },
    Agent {
        header: "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        weight: 1.0,
        widths: (1280, 1920),
    },
    Agent {
        header: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
        weight: 1.0,
        widths: (1280, 1366),
    },
];

pub struct Country {
    /// What the country database should say for these prefixes.
    pub code: &'static str,
    pub weight: f64,
    /// First two octets of /16 networks in the country.
    pub prefixes: &'static [(u8, u8)],
}

/// Networks visitors come from. `main.rs` checks every prefix against the
/// country database, when there is one, and reports any that moved.
pub const COUNTRIES: [Country; 8] = [
    Country {
        code: "NL",
        weight: 88.0,
        prefixes: &[
            (81, 204),
            (81, 205),
            (81, 206),
            (81, 207),
            (86, 80),
            (86, 81),
            (86, 82),
            (86, 83),
            (86, 84),
            (86, 85),
            (86, 86),
            (86, 87),
            (84, 24),
            (84, 25),
            (84, 26),
            (84, 27),
            (84, 28),
            (84, 29),
            (84, 30),
            (84, 31),
            (145, 100),
            (145, 53),
            (194, 109),
            (83, 80),
            (83, 81),
            (83, 82),
            (83, 83),
            (83, 84),
            (83, 85),
            (83, 86),
            (83, 87),
            (94, 208),
            (94, 209),
            (94, 210),
            (94, 211),
            (94, 212),
            (94, 213),
            (94, 214),
            (94, 215),
            (62, 45),
        ],
    },
    Country {
        code: "BE",
        weight: 3.5,
        prefixes: &[(193, 190), (81, 240), (81, 241), (81, 242), (81, 243)],
    },
    Country {
        code: "DE",
        weight: 3.0,
        prefixes: &[(217, 80), (217, 81), (217, 82), (217, 83), (79, 192)],
    },
    Country {
        code: "US",
        weight: 1.5,
        prefixes: &[(8, 8), (24, 0), (24, 1)],
    },
    Country {
        code: "GB",
        weight: 1.0,
        prefixes: &[(81, 96), (81, 97), (86, 128)],
    },
    Country {
        code: "FR",
        weight: 1.0,
        prefixes: &[(90, 0), (90, 1), (90, 2)],
    },
    Country {
        code: "ES",
        weight: 1.0,
        prefixes: &[(88, 0), (88, 1), (88, 2)],
    },
    Country {
        code: "PL",
        weight: 1.0,
        prefixes: &[(83, 0), (83, 1), (83, 2)],
    },
];

pub enum Referrer {
    None,
    Url(&'static str),
    /// A small site among many (`LONG_TAIL`).
    LongTail,
}

pub enum Query {
    None,
    Fixed(&'static str),
    /// `utm_*` of the month's newsletter.
    Newsletter,
    /// `utm_*` of one of the `CAMPAIGNS` on Facebook.
    Campaign,
    /// Facebook's click id, which the server must strip.
    Fbclid,
}

pub struct SourceKind {
    pub weight: f64,
    pub referrer: Referrer,
    pub query: Query,
}

const fn from(weight: f64, referrer: Referrer, query: Query) -> SourceKind {
    SourceKind {
        weight,
        referrer,
        query,
    }
}

/// How visits arrive, by share of visits.
pub const SOURCES: [SourceKind; 22] = [
    from(34.0, Referrer::None, Query::None),
    from(28.0, Referrer::Url("https://www.google.com/"), Query::None),
    from(4.0, Referrer::Url("https://www.google.nl/"), Query::None),
    from(3.0, Referrer::Url("https://www.bing.com/"), Query::None),
    from(1.5, Referrer::Url("https://duckduckgo.com/"), Query::None),
    from(1.0, Referrer::Url("https://www.ecosia.org/"), Query::None),
    from(0.5, Referrer::Url("https://chatgpt.com/"), Query::None),
    from(2.0, Referrer::Url("https://m.facebook.com/"), Query::Fbclid),
    from(1.0, Referrer::Url("https://www.facebook.com/"), Query::None),
    from(0.8, Referrer::Url("https://l.instagram.com/"), Query::None),
    from(1.0, Referrer::Url("https://www.linkedin.com/"), Query::None),
    from(0.7, Referrer::Url("https://t.co/"), Query::None),
    from(1.0, Referrer::Url("https://nos.nl/"), Query::None),
    from(
        0.8,
        Referrer::Url("https://www.rtvutrecht.nl/"),
        Query::None,
    ),
    from(
        1.5,
        Referrer::Url("https://www.rijksoverheid.nl/"),
        Query::None,
    ),
    from(0.8, Referrer::Url("https://www.overheid.nl/"), Query::None),
    from(0.8, Referrer::Url("https://mijn.overheid.nl/"), Query::None),
    from(0.6, Referrer::Url("https://nl.wikipedia.org/"), Query::None),
    from(3.0, Referrer::None, Query::Newsletter),
    from(
        1.5,
        Referrer::Url("https://m.facebook.com/"),
        Query::Campaign,
    ),
    from(
        0.5,
        Referrer::None,
        Query::Fixed("utm_source=poster&utm_medium=qr&utm_campaign=afvalkalender"),
    ),
    from(3.0, Referrer::LongTail, Query::None),
];

pub const CAMPAIGNS: [&str; 6] = [
    "afvalkalender",
    "verkiezingen",
    "warmtevisie",
    "omgevingsvisie",
    "zomerschool",
    "mantelzorg",
];

/// Small sites that link to the municipality now and then.
pub const LONG_TAIL: [&str; 40] = [
    "buurtvereniging-noord",
    "voetbalclub-vv",
    "bibliotheek-regio",
    "huisartsenpost",
    "woningcorporatie",
    "dorpsraad",
    "scouting-groep",
    "muziekschool",
    "ondernemersvereniging",
    "toeristeninfo",
    "streekomroep",
    "regiokrant",
    "wijkcentrum",
    "zwembad-de-vliet",
    "theater-de-schouw",
    "museum-stad",
    "kerkgemeente",
    "basisschool-de-regenboog",
    "college-west",
    "sportpark-zuid",
    "kinderopvang-zon",
    "vluchtelingenwerk",
    "voedselbank",
    "schuldhulp-regio",
    "energieloket",
    "repair-cafe",
    "natuurvereniging",
    "historische-kring",
    "fietsersbond-afdeling",
    "stadsboerderij",
    "jongerenwerk",
    "seniorenvereniging",
    "makelaar-centrum",
    "vakantiepark",
    "camping-bosrand",
    "marktvereniging",
    "carnavalsvereniging",
    "hardloopclub",
    "tennisclub",
    "ijsclub",
];

/// Hosts that outbound links lead to (the tracker sends the host only).
pub const OUTBOUND: [&str; 30] = [
    "www.digid.nl",
    "mijn.overheid.nl",
    "www.rijksoverheid.nl",
    "www.belastingdienst.nl",
    "www.mijnafvalwijzer.nl",
    "www.overheid.nl",
    "www.kvk.nl",
    "www.rdw.nl",
    "www.omgevingsloket.nl",
    "www.toeslagen.nl",
    "www.svb.nl",
    "www.uwv.nl",
    "www.cbs.nl",
    "www.waarderingskamer.nl",
    "www.wozwaardeloket.nl",
    "www.verkiezingsuitslagen.nl",
    "www.kiesraad.nl",
    "www.politie.nl",
    "www.ggd.nl",
    "www.veiligheidsregio.nl",
    "www.waterschap.nl",
    "www.provincie.nl",
    "www.youtube.com",
    "www.facebook.com",
    "www.instagram.com",
    "www.linkedin.com",
    "www.werkenbijdeoverheid.nl",
    "www.duo.nl",
    "www.cak.nl",
    "www.ind.nl",
];

const SECTIONS: [&str; 20] = [
    "wonen",
    "afval",
    "parkeren",
    "paspoort-en-id-kaart",
    "verhuizen",
    "belastingen",
    "werk-en-inkomen",
    "zorg-en-welzijn",
    "vergunningen",
    "bestuur",
    "ondernemen",
    "verkeer",
    "onderwijs",
    "sport",
    "cultuur",
    "duurzaamheid",
    "veiligheid",
    "jeugd",
    "burgerzaken",
    "over-de-gemeente",
];

const TOPICS: [&str; 20] = [
    "aanvragen",
    "kosten",
    "voorwaarden",
    "openingstijden",
    "subsidie",
    "regels",
    "bezwaar-maken",
    "melding-doen",
    "veelgestelde-vragen",
    "contact",
    "formulieren",
    "nieuws",
    "projecten",
    "plannen",
    "kaart",
    "uitslagen",
    "tarieven",
    "wachttijden",
    "digitaal-regelen",
    "spoed",
];

const WIJKEN: [&str; 30] = [
    "centrum",
    "noord",
    "oost",
    "zuid",
    "west",
    "binnenstad",
    "de-hoven",
    "het-veld",
    "kerkbuurt",
    "molenwijk",
    "stationskwartier",
    "de-bongerd",
    "waterwijk",
    "bloemenbuurt",
    "vogelwijk",
    "schildersbuurt",
    "de-akkers",
    "oud-zuid",
    "nieuw-west",
    "het-dorp",
    "de-polder",
    "havenkwartier",
    "bosrand",
    "de-weide",
    "lindenhof",
    "de-esch",
    "rivierenbuurt",
    "de-kolk",
    "heuvelrug",
    "de-meent",
];

/// About 3,000 paths of a municipal site, most popular first after a
/// shuffle that keeps the usual favourites on top.
pub fn pages(rng: &mut StdRng) -> Vec<String> {
    let favourites = [
        "/",
        "/afval/afvalkalender",
        "/afspraak-maken",
        "/paspoort-en-id-kaart",
        "/contact",
        "/melding-openbare-ruimte",
        "/parkeren/vergunning",
        "/belastingen/woz",
        "/vacatures",
        "/nieuws",
    ];
    let mut rest: Vec<String> = Vec::new();
    for section in SECTIONS {
        rest.push(format!("/{section}"));
        for topic in TOPICS {
            rest.push(format!("/{section}/{topic}"));
        }
    }
    for wijk in WIJKEN {
        for topic in TOPICS.iter().take(10) {
            rest.push(format!("/wijken/{wijk}/{topic}"));
        }
    }
    for n in 1..=1400 {
        let year = 2024 + n % 3;
        let section = SECTIONS[n % SECTIONS.len()];
        rest.push(format!("/nieuws/{year}/{section}-bericht-{n}"));
    }
    for n in 1..=300 {
        rest.push(format!("/evenementen/evenement-{n}"));
    }
    for n in 1..=200 {
        rest.push(format!("/bestuur/gemeenteraad/vergadering-{n}"));
    }
    for n in 1..=200 {
        rest.push(format!("/producten/product-{n}"));
    }
    for n in 1..=150 {
        rest.push(format!("/vacatures/vacature-{n}"));
    }
    rest.shuffle(rng);
    // Some favourites sit a little lower, as real top lists are not neat.
    let mut pages: Vec<String> = favourites.iter().map(|page| page.to_string()).collect();
    pages.extend(rest);
    let swaps = rng.random_range(2..5);
    for _ in 0..swaps {
        let (a, b) = (rng.random_range(3..10), rng.random_range(10..40));
        pages.swap(a, b);
    }
    pages
}

/// About 300 documents that can be downloaded, most popular first.
pub fn documents() -> Vec<String> {
    let mut documents = vec![
        "/documenten/afvalkalender-2026.pdf".to_owned(),
        "/documenten/aanvraagformulier-parkeervergunning.pdf".to_owned(),
        "/documenten/begroting-2026.pdf".to_owned(),
        "/documenten/omgevingsvisie.pdf".to_owned(),
    ];
    for n in 1..=300 {
        let kind = ["raadsvoorstel", "besluit", "formulier", "rapport", "nota"][n % 5];
        let extension = ["pdf", "pdf", "pdf", "docx", "xlsx"][n % 5];
        documents.push(format!("/documenten/{kind}-{n}.{extension}"));
    }
    documents
}
