//! 64-bit words as base64 of their little-endian bytes: lossless and compact (a third of the size
//! of JSON numbers), for the per-row vectors that partial states carry.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The words as base64 text.
pub(crate) fn encode(words: impl IntoIterator<Item = u64>) -> String {
    let bytes: Vec<u8> = words.into_iter().flat_map(u64::to_le_bytes).collect();
    BASE64.encode(bytes)
}

/// Why packed words could not be read; names `what` they were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PackedError {
    #[error("{what}: {source}")]
    Base64 { what: &'static str, source: base64::DecodeError },
    #[error("{what}: {len} bytes is not a whole number of 8-byte {what}")]
    Length { what: &'static str, len: usize },
}

/// The words of `text`; errors name `what` they were.
pub(crate) fn decode(text: &str, what: &'static str) -> Result<Vec<u64>, PackedError> {
    let bytes = BASE64.decode(text.as_bytes()).map_err(|source| PackedError::Base64 { what, source })?;
    if bytes.len() % 8 != 0 {
        return Err(PackedError::Length { what, len: bytes.len() });
    }
    Ok(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}
