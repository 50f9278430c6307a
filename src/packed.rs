//! 64-bit words as base64 of their little-endian bytes: lossless and compact (a third of the size
//! of JSON numbers), for the per-row vectors that partial states carry.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The words as base64 text.
pub(crate) fn encode(words: impl IntoIterator<Item = u64>) -> String {
    let bytes: Vec<u8> = words.into_iter().flat_map(u64::to_le_bytes).collect();
    BASE64.encode(bytes)
}

/// The words of `text`; errors name `what` they were.
pub(crate) fn decode(text: &str, what: &str) -> Result<Vec<u64>, String> {
    let bytes = BASE64.decode(text.as_bytes()).map_err(|e| format!("{what}: {e}"))?;
    if bytes.len() % 8 != 0 {
        return Err(format!("{what}: {} bytes is not a whole number of 8-byte {what}", bytes.len()));
    }
    Ok(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}
