//! The command line's TOML configuration file (`deltaone_app::settings`), read and validated as at
//! start.

use std::path::Path;

use deltaone_app::settings::SettingsArgs;

use crate::support::{rejected, text};

/// The bytes as `deltaone.toml`:
///
/// * settings are resolved, or refused naming the setting and how to set it;
/// * an attestation key given in the file never shows, neither in the settings' `Debug` nor in an
///   error.
pub fn settings_toml(data: &[u8]) {
    let text = text(data);
    let resolved = SettingsArgs::default().resolve_with_file_text(&text, Path::new("deltaone.toml"));
    let shown = match &resolved {
        Ok(settings) => format!("{settings:?}"),
        Err(e) => {
            rejected("settings_toml", e, &["setting ", "config file"]);
            e.to_string()
        }
    };
    let key = text.parse::<toml::Table>().ok().and_then(|t| t.get("attestation_key")?.as_str().map(str::to_owned));
    if let Some(key) = key.map(|k| k.trim().to_owned()).filter(|k| k.len() >= 16) {
        assert!(!shown.contains(&key), "the attestation key shows: {shown}");
    }
}
