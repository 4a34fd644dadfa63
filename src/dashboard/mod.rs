//! The webmaster dashboard's front end, built from `dashboard/ui/` with
//! esbuild and embedded at compile time: `index.html` for every page
//! under `/dashboard` (the front end routes by path), and its two assets.
//! The server needs no Node at run time.

/// A built file: path under `/dashboard/assets/`, content type, bytes.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

pub const INDEX: &[u8] = include_bytes!("ui/dist/index.html");

pub const ASSETS: [Asset; 2] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("ui/dist/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("ui/dist/app.css"),
    },
];

pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}
