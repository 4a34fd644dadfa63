//! The webmaster dashboard's front end, built from `dashboard/ui/` with
//! esbuild and embedded at compile time: `index.html` for every page
//! under `/dashboard` (the front end routes by path), and its two assets,
//! each also kept gzipped (made once, on first use) for browsers that
//! take it. The server needs no Node at run time.

use std::io::Write;
use std::sync::OnceLock;

/// A built file: path under `/dashboard/assets/`, content type, bytes.
pub(crate) struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    gzipped: OnceLock<Vec<u8>>,
}

impl Asset {
    const fn new(name: &'static str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
        Asset {
            name,
            content_type,
            bytes,
            gzipped: OnceLock::new(),
        }
    }

    /// The bytes gzipped at the best level: the script shrinks to about
    /// a third, the stylesheet to about a quarter.
    pub(crate) fn gzipped(&self) -> &[u8] {
        self.gzipped.get_or_init(|| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(self.bytes).expect("writing to memory");
            encoder.finish().expect("writing to memory")
        })
    }
}

pub(crate) const INDEX: &[u8] = include_bytes!("ui/dist/index.html");

pub(crate) static ASSETS: [Asset; 2] = [
    Asset::new(
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("ui/dist/app.js"),
    ),
    Asset::new(
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("ui/dist/app.css"),
    ),
];

pub(crate) fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_asset_gzips_to_its_own_bytes_and_to_less_than_half() {
        for asset in &ASSETS {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(asset.gzipped())
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, asset.bytes, "{}", asset.name);
            assert!(
                asset.gzipped().len() < asset.bytes.len() / 2,
                "{}",
                asset.name
            );
        }
    }
}
