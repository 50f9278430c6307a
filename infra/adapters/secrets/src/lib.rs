//! Secrets, read without ever being written down: a [`SecretRef`] says where a value lives (an
//! environment variable, a Secrets Manager secret), the [`extension`] client reads Secrets Manager
//! through the AWS Parameters and Secrets Lambda extension, and a [`SecretReader`] reads either (the
//! application's [`Secrets`] port; [`SecretRef`] and [`SecretError`] live there).
//! Values are never logged.

pub mod extension;
pub mod reader;

pub use deltaone_app::secrets::{SecretError, SecretRef, SecretRefError, Secrets};
pub use extension::{EXTENSION_DEFAULT_PORT, Extension, ExtensionError};
pub use reader::SecretReader;
