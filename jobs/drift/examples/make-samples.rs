//! Regenerates the sample prediction logs in `samples/drift/`:
//! `cargo run -p deltaone-drift --example make-samples [-- <dir>]`.

fn main() {
    let dir =
        std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(deltaone_drift::samples::default_dir);
    for path in deltaone_drift::samples::write_samples(&dir).expect("write the samples") {
        println!("wrote {}", path.display());
    }
}
