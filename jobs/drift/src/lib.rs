//! The drift batch job's command line. The engine (reading, statistics, reports) is
//! `deltaone_infra::drift_job`, re-exported here; this crate is the thin binary around it.

pub mod cli;

pub use deltaone_infra::drift_job::*;
