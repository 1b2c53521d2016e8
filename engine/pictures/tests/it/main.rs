//! relance-pictures' integration tests: the charts (structure of the SVG plotters writes, the
//! tables), the ladders of every stdlib and example scenario (insta snapshots), and the
//! what-if timeline of one invoice run by the simulator.
//!
//! Set `RELANCE_PICTURES_DIR` to a folder to also write every picture drawn there (to look
//! at them, or refresh the ones `docs/PICTURES.md` shows).

mod charts;
mod ladder;
mod svg;
mod what_if;

/// Writes `svg` as `name.svg` under `RELANCE_PICTURES_DIR`, when it is set.
pub fn keep(name: &str, svg: &str) {
    if let Ok(dir) = std::env::var("RELANCE_PICTURES_DIR") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("pictures dir");
        std::fs::write(dir.join(format!("{name}.svg")), svg).expect("write picture");
    }
}
