//! A unit stored as one stream cut into page-sized pieces.
//!
//! redb keeps a value larger than a page on a run of pages rounded up to a
//! power of two: a 9 KiB block takes 16 KiB. A unit's blocks (its
//! dictionary, its groups and tables, each compressed on its own as
//! before) are therefore written one after another as one stream, cut into
//! pieces that each fill one page, under the unit's key and the piece's
//! number in `SEGMENTS`. Only a unit's last piece is smaller than a page,
//! and it shares a page with others.
//!
//! The unit's head, in `DICTIONARIES` under the unit's key, lists where in
//! the stream each block lies, so a reader fetches only the pieces of the
//! blocks it reads. A head starts with `HEAD`, a byte no dictionary block
//! (of units written before this layout) starts with.

use redb::ReadableTable;

use super::{corrupt, operation, unit_key};
use crate::store::StoreError;
use crate::store::schema::Granularity;
use crate::store::unit::Unit;

/// The first byte of a head; a dictionary block starts with its codec (0 or 1).
const HEAD: u8 = 2;
/// The byte after the unit's key that marks a piece's key; no filter
/// dimension has this number, so pieces and blocks of the earlier layout
/// never share a key.
pub(super) const PIECE: u8 = 0xFE;
/// redb's page size.
const PAGE: usize = 4096;
/// What a leaf page holding one entry needs besides the key and the value:
/// its header and the entry's two end offsets, with room to spare.
const LEAF_OVERHEAD: usize = 32;

/// Where a unit's blocks lie in its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Head {
    piece_size: u32,
    /// The rows of every table of the unit.
    pub(super) rows: u64,
    dictionary: u32,
    /// Each block's tag (the last three bytes its own key had: filter
    /// dimension, breakdown dimension or `GROUPED`, granularity) and length,
    /// in stream order after the dictionary.
    blocks: Vec<([u8; 3], u32)>,
}

impl Head {
    /// Whether a value of `DICTIONARIES` is a head (or a dictionary block).
    pub(super) fn is_head(value: &[u8]) -> bool {
        value.first() == Some(&HEAD)
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(21 + 7 * self.blocks.len());
        out.push(HEAD);
        out.extend_from_slice(&self.piece_size.to_le_bytes());
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&self.dictionary.to_le_bytes());
        out.extend_from_slice(&(self.blocks.len() as u32).to_le_bytes());
        for (tag, length) in &self.blocks {
            out.extend_from_slice(tag);
            out.extend_from_slice(&length.to_le_bytes());
        }
        out
    }

    pub(super) fn decode(value: &[u8]) -> Result<Head, StoreError> {
        let word = |at: usize| -> Result<u32, StoreError> {
            value
                .get(at..at + 4)
                .and_then(|bytes| bytes.try_into().ok())
                .map(u32::from_le_bytes)
                .ok_or(corrupt("unit head too short"))
        };
        if !Head::is_head(value) {
            return Err(corrupt("not a unit head"));
        }
        let piece_size = word(1)?;
        let rows = u64::from(word(5)?) | u64::from(word(9)?) << 32;
        let dictionary = word(13)?;
        let count = word(17)? as usize;
        if piece_size == 0 || value.len() != 21 + 7 * count {
            return Err(corrupt("unit head"));
        }
        let blocks = value[21..]
            .chunks_exact(7)
            .map(|entry| {
                let tag = [entry[0], entry[1], entry[2]];
                let length = u32::from_le_bytes([entry[3], entry[4], entry[5], entry[6]]);
                (tag, length)
            })
            .collect();
        Ok(Head {
            piece_size,
            rows,
            dictionary,
            blocks,
        })
    }

    /// Each block's tag with its place in the stream, those of
    /// `granularity` only when given.
    pub(super) fn blocks(
        &self,
        granularity: Option<Granularity>,
    ) -> impl Iterator<Item = ([u8; 3], usize, usize)> + '_ {
        let mut offset = self.dictionary as usize;
        self.blocks
            .iter()
            .map(move |&(tag, length)| {
                let at = offset;
                offset += length as usize;
                (tag, at, length as usize)
            })
            .filter(move |(tag, _, _)| {
                granularity.is_none_or(|wanted| Granularity::from_byte(tag[2]) == Some(wanted))
            })
    }

    /// The place of the block tagged `tag`.
    pub(super) fn block(&self, tag: [u8; 3]) -> Option<(usize, usize)> {
        self.blocks(None)
            .find(|(stored, _, _)| *stored == tag)
            .map(|(_, at, length)| (at, length))
    }

    /// The place of the dictionary block.
    pub(super) fn dictionary(&self) -> (usize, usize) {
        (0, self.dictionary as usize)
    }
}

/// A unit cut for writing: its head, and each piece with its key.
pub(super) struct Cut {
    pub(super) head: Vec<u8>,
    pub(super) pieces: Vec<(Vec<u8>, Vec<u8>)>,
}

fn piece_key(site: &str, unit: Unit, piece: usize) -> Result<Vec<u8>, StoreError> {
    let number = u16::try_from(piece).map_err(|_| corrupt("unit too large for its pieces"))?;
    let mut key = unit_key(site, unit);
    key.push(PIECE);
    key.extend_from_slice(&number.to_be_bytes());
    Ok(key)
}

/// The unit's stream, `dictionary` and then each tagged block, as its head
/// and its pieces, each piece with the key it is stored under.
pub(super) fn cut(
    site: &str,
    unit: Unit,
    dictionary: &[u8],
    blocks: &[([u8; 3], Vec<u8>)],
    rows: u64,
) -> Result<Cut, StoreError> {
    let piece_size = PAGE - LEAF_OVERHEAD - piece_key(site, unit, 0)?.len();
    let length = |bytes: &[u8]| u32::try_from(bytes.len()).map_err(|_| corrupt("block too large"));
    let head = Head {
        piece_size: piece_size as u32,
        rows,
        dictionary: length(dictionary)?,
        blocks: blocks
            .iter()
            .map(|(tag, block)| Ok((*tag, length(block)?)))
            .collect::<Result<_, StoreError>>()?,
    };
    let mut stream = dictionary.to_vec();
    for (_, block) in blocks {
        stream.extend_from_slice(block);
    }
    let pieces = stream
        .chunks(piece_size)
        .enumerate()
        .map(|(number, piece)| Ok((piece_key(site, unit, number)?, piece.to_vec())))
        .collect::<Result<_, StoreError>>()?;
    Ok(Cut {
        head: head.encode(),
        pieces,
    })
}

/// The bytes `at..at + length` of a unit's stream, from the pieces they lie in.
pub(super) fn read(
    segments: &impl ReadableTable<&'static [u8], &'static [u8]>,
    site: &str,
    unit: Unit,
    head: &Head,
    (at, length): (usize, usize),
) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::with_capacity(length);
    if length == 0 {
        return Ok(bytes);
    }
    let size = head.piece_size as usize;
    let end = at + length;
    for number in at / size..=(end - 1) / size {
        let key = piece_key(site, unit, number)?;
        let piece = segments
            .get(key.as_slice())
            .map_err(operation)?
            .ok_or(corrupt("a unit's piece is missing"))?;
        let piece = piece.value();
        let start = number * size;
        let from = at.saturating_sub(start);
        let to = (end - start).min(piece.len());
        bytes.extend_from_slice(
            piece
                .get(from..to)
                .ok_or(corrupt("a unit's piece is short"))?,
        );
    }
    if bytes.len() != length {
        return Err(corrupt("a unit's stream is short"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_round_trips_and_places_its_blocks() {
        let blocks = vec![
            ([1, 0xFF, 2], vec![7u8; 5000]),
            ([0, 0, 2], vec![8u8; 10]),
            ([1, 0xFF, 1], vec![9u8; 3]),
        ];
        let Cut {
            head: encoded,
            pieces,
        } = cut(
            "gemeente.example",
            Unit::Day(20_000),
            &[1u8; 300],
            &blocks,
            42,
        )
        .unwrap();
        let head = Head::decode(&encoded).unwrap();
        assert_eq!(head.rows, 42);
        assert_eq!(head.dictionary(), (0, 300));
        assert_eq!(head.block([0, 0, 2]), Some((5300, 10)));
        assert_eq!(head.block([1, 0xFF, 1]), Some((5310, 3)));
        assert_eq!(head.block([2, 0, 2]), None);
        let daily: Vec<_> = head.blocks(Some(Granularity::Day)).collect();
        assert_eq!(
            daily,
            vec![([1, 0xFF, 2], 300, 5000), ([0, 0, 2], 5300, 10)]
        );
        // Every piece but the last fills a page with its key.
        let total: usize = pieces.iter().map(|(_, piece)| piece.len()).sum();
        assert_eq!(total, 5313);
        for (key, piece) in &pieces[..pieces.len() - 1] {
            assert_eq!(key.len() + piece.len() + LEAF_OVERHEAD, PAGE);
        }
        assert!(Head::is_head(&encoded));
        assert!(Head::decode(&encoded[..encoded.len() - 1]).is_err());
    }
}
