//! Rebuilds the binary when the embedded folders change (`commands::bundled` embeds
//! `stdlib-scenarios/` and `examples/` with `include_dir!`, which cargo does not track by
//! itself). It must do nothing else.

fn main() {
    println!("cargo:rerun-if-changed=../../stdlib-scenarios");
    println!("cargo:rerun-if-changed=../../examples");
}
